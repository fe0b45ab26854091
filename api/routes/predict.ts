// POST /v1/models/:name/predict: online scoring of JSON rows, routed to the model's stable, canary or
// shadow version by its deployment (or @production when it has none). Every answered row is logged
// (prediction log) and gets an id for later feedback.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../schemas.js';

// No type keyword: Fastify's coercion would turn null into 0 or numbers into strings. Values are checked
// against the version's signature (number, string or null per feature) with row and column in the error.
const Row = Type.Record(Type.String(), Type.Unsafe<number | string | null>({ description: 'number, string (categorical features) or null' }));

const PredictBody = Type.Object(
  {
    rows: Type.Array(Row, { minItems: 1, maxItems: 1000, description: 'Feature rows as JSON objects; null marks a missing value.' }),
    routingKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Entity id (or any key) that pins the caller to one routing arm; default: a fresh request id' }),
    ),
  },
  { additionalProperties: false },
);

export const PredictResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer({ description: 'The version that answered' }),
  alias: Type.String({ description: '`production` on the stable arm, else the arm' }),
  arm: Type.String({ description: 'Routing arm: stable, canary, or direct (a version named by the caller)' }),
  requestId: Type.String(),
  fallback: Type.Union([Type.Null(), Type.Object({ fromVersion: Type.Integer(), reason: Type.String({ description: 'error or timeout' }) })], {
    description: 'Set when the routed version failed or timed out and the fallback version answered',
  }),
  predictions: Type.Array(
    Type.Object({
      id: Type.String({ description: 'Prediction id, for feedback' }),
      label: Type.Union([Type.String(), Type.Number()]),
      probabilities: Type.Record(Type.String(), Type.Number()),
    }),
  ),
});

const predictRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/:name/predict',
    {
      config: { roles: ['scorer'] },
      schema: { params: Type.Object({ name: Type.String() }), body: PredictBody, response: { 200: PredictResponse, ...errors(400, 404, 503, 504) } },
    },
    async (request) => app.serving.predict({ modelName: request.params.name, rows: request.body.rows, routingKey: request.body.routingKey }),
  );
};

export default predictRoutes;
