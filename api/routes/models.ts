// /v1/models: registered models, their versions and aliases.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { listModelVersions } from '../../lib/registry/registry.js';
import { errors } from '../schemas.js';

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
};

export default modelRoutes;
