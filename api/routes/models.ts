// /v1/models: registered versions and aliases, and online scoring of JSON rows on the production version.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { listModelVersions } from '../../lib/registry/registry.js';
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

const Version = Type.Object({
  version: Type.Integer(),
  sha256: Type.String(),
  aliases: Type.Array(Type.String()),
  metrics: Type.Record(Type.String(), Type.Number()),
  trainingRunId: Type.Union([Type.String(), Type.Null()]),
  datasetVersionId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:name',
    { schema: { params: Type.Object({ name: Type.String() }), response: { 200: Type.Object({ name: Type.String(), versions: Type.Array(Version) }), ...errors(404) } } },
    async (request) => {
      const versions = await listModelVersions(app.deps.db, request.params.name);
      if (versions.length === 0) throw new NotFoundError(`Model ${request.params.name} does not exist.`);
      return { name: request.params.name, versions };
    },
  );

  app.post(
    '/:name/predict',
    { schema: { params: Type.Object({ name: Type.String() }), body: PredictBody, response: { 200: PredictResponse, ...errors(400, 404) } } },
    async (request) => app.predictor.predict(request.params.name, request.body.rows),
  );
};

export default modelRoutes;
