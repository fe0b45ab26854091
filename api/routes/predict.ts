// POST /v1/models/:name/predict: online scoring of JSON rows on the model's production version.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../schemas.js';

const Row = Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]));

const PredictBody = Type.Object(
  { rows: Type.Array(Row, { minItems: 1, maxItems: 1000, description: 'Feature rows as JSON objects; null marks a missing value.' }) },
  { additionalProperties: false },
);

const PredictResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  alias: Type.String(),
  predictions: Type.Array(
    Type.Object({ label: Type.Union([Type.String(), Type.Number()]), probabilities: Type.Record(Type.String(), Type.Number()) }),
  ),
});

const predictRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/:name/predict',
    { schema: { params: Type.Object({ name: Type.String() }), body: PredictBody, response: { 200: PredictResponse, ...errors(400, 404) } } },
    async (request) => app.predictor.predict(request.params.name, request.body.rows),
  );
};

export default predictRoutes;
