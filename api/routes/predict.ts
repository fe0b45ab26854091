// POST /v1/models/:name/predict: online scoring of JSON rows (or entity ids whose features come from the
// online store), routed to the model's stable, canary or shadow version by its deployment (or @production
// when it has none). Every answered row is logged (prediction log) and gets an id for later feedback.
// GET/PUT /v1/models/:name/serving-config: the feature views, post-processing and default answer that apply.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { modelExists } from '../../lib/registry/registry.js';
import { MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { PostprocessSchema } from '../../lib/serving/postprocess.js';
import { getServingConfig, SCORING_BODY_LIMIT_BYTES, ServingConfigSchema, setServingConfig } from '../../lib/serving/serving-config.js';
import { actorOf } from '../auth.js';
import { errors } from '../schemas.js';

// No type keyword: Fastify's coercion would turn null into 0 or numbers into strings. Values are checked
// against the version's signature (number, string or null per feature) with row and column in the error.
const Row = Type.Record(Type.String(), Type.Unsafe<number | string | null>({ description: 'number, string (categorical features) or null' }));

const PredictBody = Type.Object(
  {
    rows: Type.Array(Row, {
      minItems: 1,
      maxItems: 1000,
      description:
        "Feature rows as JSON objects; null marks a missing value. A row may name an entity by a feature view's join key (e.g. customer_id): the model's serving config says which views fill it, and values sent in the row override theirs.",
    }),
    routingKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Entity id (or any key) that pins the caller to one routing arm; default: the one entity every row names, else a fresh request id' }),
    ),
  },
  { additionalProperties: false },
);

export const PredictResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer({ description: 'The version that answered (for a default answer, the routed version that failed)' }),
  alias: Type.String({ description: '`production` on the stable arm, else the arm' }),
  arm: Type.String({ description: 'Routing arm: stable, canary, or direct (a version named by the caller)' }),
  requestId: Type.String(),
  fallback: Type.Union(
    [
      Type.Null(),
      Type.Object({
        fromVersion: Type.Integer(),
        reason: Type.String({ description: 'error or timeout' }),
        to: Type.String({ description: '`version`: the fallback version answered; `default`: the model\'s declared default answer did' }),
      }),
    ],
    { description: 'Set when the routed version failed or timed out and a fallback answered' },
  ),
  postprocess: Type.Union([Type.Null(), PostprocessSchema], { description: "The model's post-processing rules applied to `label`, if any" }),
  predictions: Type.Array(
    Type.Object({
      id: Type.String({ description: 'Prediction id, for feedback' }),
      label: Type.Union([Type.String(), Type.Number()], { description: 'After post-processing, when the model declares it' }),
      modelLabel: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'What the model said, when post-processing is declared' })),
      probabilities: Type.Record(Type.String(), Type.Number()),
      entities: Type.Optional(
        Type.Array(Type.Object({ view: Type.String(), entityId: Type.String(), status: Type.String({ description: 'present, expired or missing' }) }), {
          description: 'Entities the row named, and what the online store had for each',
        }),
      ),
    }),
  ),
});

const ServingConfigAnswer = Type.Object({ declared: Type.Boolean(), config: Type.Union([ServingConfigSchema, Type.Null()]) });

const predictRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/:name/predict',
    {
      config: { roles: ['scorer'] },
      bodyLimit: SCORING_BODY_LIMIT_BYTES,
      schema: { params: Type.Object({ name: Type.String() }), body: PredictBody, response: { 200: PredictResponse, ...errors(400, 404, 413, 503, 504) } },
    },
    async (request) => app.serving.predict({ modelName: request.params.name, rows: request.body.rows, routingKey: request.body.routingKey }),
  );

  app.get(
    '/:name/serving-config',
    { config: { roles: ['viewer'] }, schema: { params: Type.Object({ name: Type.String() }), response: { 200: ServingConfigAnswer, ...errors(404) } } },
    async (request) => {
      const { name } = request.params;
      if (!(await modelExists(app.deps.db, name))) throw new NotFoundError(`Model ${name} does not exist.`);
      const config = await getServingConfig(app.deps.db, name);
      return { declared: config !== null, config };
    },
  );

  app.put(
    '/:name/serving-config',
    {
      config: { roles: ['admin', 'trainer'] },
      schema: {
        params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }) }),
        body: Type.Object({ config: Type.Union([ServingConfigSchema, Type.Null()], { description: 'null clears it' }) }, { additionalProperties: false }),
        response: { 200: ServingConfigAnswer, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { config } = await setServingConfig(app.deps.db, name, request.body.config, actorOf(request));
      // This instance applies it at once; others within SERVING_CONFIG_TTL_MS.
      app.servingConfigs.forget(name);
      return { declared: request.body.config !== null, config: request.body.config === null ? null : config };
    },
  );
};

export default predictRoutes;
