// Feature view declarations: the TypeBox schema (the API's body and the registry's stored form), typed
// constructors for declaring views in code, and the checks a declaration must pass before it is stored.
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';
import { ValidationError } from '../errors.js';
import { DATASET_NAME_PATTERN } from '../data/types.js';

export const FEATURE_VIEW_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,62}$';
const FEATURE_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,62}$';
const AggregationSchema = Type.Union([Type.Literal('count'), Type.Literal('sum'), Type.Literal('mean'), Type.Literal('min'), Type.Literal('max')]);
export type Aggregation = Static<typeof AggregationSchema>;

const name = Type.String({ pattern: FEATURE_NAME_PATTERN, description: 'Output column name.' });
const column = Type.String({ minLength: 1, description: 'Source column.' });

const ValueFeature = Type.Object({ kind: Type.Literal('value'), name, column }, { additionalProperties: false, description: 'The column as it is.' });
const ScaleFeature = Type.Object(
  { kind: Type.Literal('scale'), name, column, center: Type.Number(), scale: Type.Number({ exclusiveMinimum: 0 }) },
  { additionalProperties: false, description: '(x - center) / scale (standardisation or min-max with fixed constants).' },
);
const BucketFeature = Type.Object(
  { kind: Type.Literal('bucket'), name, column, boundaries: Type.Array(Type.Number(), { minItems: 1 }) },
  { additionalProperties: false, description: 'Bucket index 0..n: the number of boundaries <= x (Postgres width_bucket).' },
);
const EncodeFeature = Type.Object(
  { kind: Type.Literal('encode'), name, column, categories: Type.Array(Type.String(), { minItems: 1 }) },
  { additionalProperties: false, description: 'Ordinal code: the 0-based position in `categories`; an unknown category is missing.' },
);
const AggregateFeature = Type.Object(
  {
    kind: Type.Literal('aggregate'),
    name,
    fn: AggregationSchema,
    column: Type.Optional(Type.String({ minLength: 1, description: 'Required except for count (which then counts rows).' })),
    windowSeconds: Type.Integer({ minimum: 1, description: 'Rows with event time in [t - window, t], t the feature row\'s event time.' }),
  },
  { additionalProperties: false },
);
export const FeatureSchema = Type.Union([ValueFeature, ScaleFeature, BucketFeature, EncodeFeature, AggregateFeature]);
export type Feature = Static<typeof FeatureSchema>;

export const FeatureViewSchema = Type.Object(
  {
    name: Type.String({ pattern: FEATURE_VIEW_NAME_PATTERN }),
    description: Type.String(),
    owner: Type.String({ minLength: 1 }),
    tags: Type.Record(Type.String(), Type.String()),
    entity: Type.Object(
      { name: Type.String({ minLength: 1 }), joinKey: Type.String({ minLength: 1, description: 'The key column in the source and the label table.' }) },
      { additionalProperties: false },
    ),
    source: Type.Object(
      {
        dataset: Type.String({ pattern: DATASET_NAME_PATTERN }),
        versionId: Type.Optional(Type.String({ minLength: 1, description: 'Pin a dataset version; default the latest.' })),
        eventTime: Type.String({ minLength: 1, description: 'Timestamp column: when the value became true.' }),
        createdTime: Type.Optional(Type.String({ minLength: 1, description: 'Timestamp column: when the row was written (for the created-time guard).' })),
      },
      { additionalProperties: false },
    ),
    features: Type.Array(FeatureSchema, { minItems: 1 }),
    ttlSeconds: Type.Integer({ minimum: 1, description: 'A feature row older than this (counted back from the read or label time) is missing.' }),
  },
  { additionalProperties: false },
);
export type FeatureView = Static<typeof FeatureViewSchema>;
export type EntityRef = FeatureView['entity'];
export type SourceRef = FeatureView['source'];

/** An entity: what features describe, and the column that keys it. */
export function entity(def: EntityRef): EntityRef {
  return { ...def };
}

/** A dataset source: the dataset (latest version unless pinned) and its time columns. */
export function datasetSource(def: SourceRef): SourceRef {
  return { ...def };
}

/** Declares a feature view; checks it at once, so a bad declaration fails where it is written. */
export function featureView(def: FeatureView): FeatureView {
  return parseFeatureView(def);
}

/** Validates a declaration (from code or JSON); errors name the JSON path. */
export function parseFeatureView(input: unknown): FeatureView {
  if (!Value.Check(FeatureViewSchema, input)) {
    const first = [...Value.Errors(FeatureViewSchema, input)][0];
    const where = first ? (first as { instancePath?: string }).instancePath || '/' : '/';
    throw new ValidationError(`Feature view declaration is invalid at ${where}: ${first?.message ?? 'does not match the schema'}.`);
  }
  const view = input as FeatureView;
  const seen = new Set<string>();
  for (const [i, f] of view.features.entries()) {
    if (seen.has(f.name)) throw new ValidationError(`Feature view ${view.name}: /features/${i} repeats the feature name ${JSON.stringify(f.name)}.`);
    seen.add(f.name);
    if (f.kind === 'aggregate' && f.fn !== 'count' && !f.column) {
      throw new ValidationError(`Feature view ${view.name}: /features/${i} (${f.fn}) needs a column.`);
    }
    if (f.kind === 'bucket') {
      for (let j = 1; j < f.boundaries.length; j++) {
        if (!(f.boundaries[j] > f.boundaries[j - 1])) throw new ValidationError(`Feature view ${view.name}: /features/${i}/boundaries must be strictly increasing.`);
      }
    }
  }
  return view;
}

/** Source columns a view reads (besides the entity key and time columns). */
export function sourceColumns(view: FeatureView): string[] {
  const cols = new Set<string>();
  for (const f of view.features) if (f.column) cols.add(f.column);
  return [...cols];
}
