// A model's serving config, declared once per model (not per version) and applied to whichever version
// answers: the feature views that fill rows naming an entity, the post-processing of answers, and the default
// answer given when no version can answer. Stored in registered_models.serving_config (migration 022).
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';
import { NotFoundError, ValidationError } from '../errors.js';
import { getFeatureView } from '../features/registry.js';
import { FEATURE_VIEW_NAME_PATTERN } from '../features/declaration.js';
import { listModelVersions, modelExists } from '../registry/registry.js';
import type { ModelVersion } from '../registry/types.js';
import type { Db } from '../storage/db.js';
import { RefreshingCache } from '../util/refreshing-cache.js';
import { checkPostprocess, PostprocessSchema } from './postprocess.js';

export const ServingConfigSchema = Type.Object(
  {
    features: Type.Optional(
      Type.Object(
        {
          views: Type.Array(Type.String({ pattern: FEATURE_VIEW_NAME_PATTERN }), {
            minItems: 1,
            maxItems: 16,
            uniqueItems: true,
            description: "Feature views read from the online store for a row that names the view's entity join key",
          }),
          onMissing: Type.Union([Type.Literal('impute'), Type.Literal('reject')], {
            description:
              "An entity with no value in a view (never materialized, or older than the view's TTL): `impute` scores its features as missing (null, imputed as the signature says); `reject` answers 400 naming the entity, view and features",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    postprocess: Type.Optional(PostprocessSchema),
    defaultAnswer: Type.Optional(
      Type.Object(
        {
          label: Type.Union([Type.String(), Type.Number()]),
          probabilities: Type.Optional(Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }))),
        },
        { additionalProperties: false, description: 'Answered (flagged `fallback.to: "default"`) when the routed version and its fallback version both fail or time out' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ServingConfig = Static<typeof ServingConfigSchema>;

/** A feature view as serving reads it: the row key that names its entity, and its feature names. */
export interface EntityView {
  name: string;
  joinKey: string;
  features: string[];
}

/** A config with its feature views looked up, ready for the request path. */
export interface ResolvedServingConfig {
  config: ServingConfig;
  views: EntityView[];
}

/** How long a serving config is reused by an API instance; a change made by another instance applies within it. */
export const SERVING_CONFIG_TTL_MS = 500;

/** The largest body a scoring route takes (1000 rows of a few dozen features fit well within it). */
export const SCORING_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

const EMPTY: ResolvedServingConfig = { config: {}, views: [] };

async function entityViews(db: Db, names: readonly string[]): Promise<EntityView[]> {
  return Promise.all(
    names.map(async (name) => {
      const { declaration } = await getFeatureView(db, name);
      return { name, joinKey: declaration.entity.joinKey, features: declaration.features.map((f) => f.name) };
    }),
  );
}

/**
 * Checks a config against the model's registered feature views and every non-archived version; problems
 * name the field. A feature view's join key may not also be a feature a version takes (it could not tell
 * an entity id from a feature value).
 */
export async function checkServingConfig(db: Db, modelName: string, input: unknown): Promise<ResolvedServingConfig> {
  if (!Value.Check(ServingConfigSchema, input)) {
    const first = [...Value.Errors(ServingConfigSchema, input)][0];
    const where = first ? (first as { instancePath?: string }).instancePath || '/' : '/';
    throw new ValidationError(`Serving config is invalid at ${where}: ${first?.message ?? 'does not match the schema'}.`);
  }
  const config = input as ServingConfig;
  if (!(await modelExists(db, modelName))) throw new NotFoundError(`Model ${modelName} does not exist.`);
  const versions = (await listModelVersions(db, modelName)).filter((v) => v.archivedAt === null);
  const views = config.features ? await entityViews(db, config.features.views).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ValidationError(`features.views: ${err.message}`);
    throw err;
  }) : [];
  for (const view of views) {
    for (const v of versions) {
      if (v.signature.features.some((f) => f.name === view.joinKey)) {
        throw new ValidationError(`features.views: ${view.name}'s entity key ${JSON.stringify(view.joinKey)} is also a feature of ${modelName} v${v.version}; rows could not tell the entity id from the feature.`);
      }
    }
  }
  if (config.postprocess) for (const v of versions) checkPostprocess(config.postprocess, v.signature, `${modelName} v${v.version}`);
  if (config.defaultAnswer) for (const v of versions) checkDefaultAnswer(config.defaultAnswer, v);
  return { config, views };
}

function checkDefaultAnswer(answer: NonNullable<ServingConfig['defaultAnswer']>, v: ModelVersion): void {
  if (v.signature.task === 'regression') {
    if (typeof answer.label !== 'number') throw new ValidationError(`defaultAnswer.label must be a number: ${v.modelName} v${v.version} is a regressor.`);
    return;
  }
  const classes = v.signature.classes.map(String);
  if (!classes.includes(String(answer.label))) {
    throw new ValidationError(`defaultAnswer.label ${JSON.stringify(answer.label)} is not a class of ${v.modelName} v${v.version} (${classes.join(', ')}).`);
  }
  for (const k of Object.keys(answer.probabilities ?? {})) {
    if (!classes.includes(k)) throw new ValidationError(`defaultAnswer.probabilities: ${JSON.stringify(k)} is not a class of ${v.modelName} v${v.version} (${classes.join(', ')}).`);
  }
}

export async function getServingConfig(db: Db, modelName: string): Promise<ServingConfig | null> {
  const { rows } = await db.query<{ serving_config: ServingConfig | null }>('select serving_config from registered_models where name = $1', [modelName]);
  return rows[0]?.serving_config ?? null;
}

/** Declares (or with null, clears) a model's serving config after checking it; returns it resolved. */
export async function setServingConfig(db: Db, modelName: string, input: unknown, actor: string): Promise<ResolvedServingConfig> {
  const resolved = input === null ? EMPTY : await checkServingConfig(db, modelName, input);
  if (input === null && !(await modelExists(db, modelName))) throw new NotFoundError(`Model ${modelName} does not exist.`);
  await db.query(
    `update registered_models set serving_config = $2, serving_config_updated_by = $3, serving_config_updated_at = now() where name = $1`,
    [modelName, input === null ? null : JSON.stringify(resolved.config), actor],
  );
  return resolved;
}

/**
 * Serving configs as the request path reads them: kept `ttlMs` per model (a Postgres round trip per request
 * would cost more than scoring) and refreshed ahead, dropped at once when this process changes one. Other
 * processes see a change within `ttlMs`.
 */
export class ServingConfigCache {
  private readonly cache: RefreshingCache<string, ResolvedServingConfig>;

  constructor(
    private readonly db: Db,
    ttlMs: number,
  ) {
    this.cache = new RefreshingCache(ttlMs);
  }

  get(modelName: string): Promise<ResolvedServingConfig> {
    return this.cache.get(modelName, this.read);
  }

  private readonly read = async (modelName: string): Promise<ResolvedServingConfig> => {
    const config = await getServingConfig(this.db, modelName);
    if (!config) return EMPTY;
    return { config, views: config.features ? await entityViews(this.db, config.features.views) : [] };
  };

  forget(modelName: string): void {
    this.cache.delete(modelName);
  }
}
