// /v1/datasets: ingest a source into a new dataset version (through the ingestion workflow), list and get versions.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { getDatasetVersion, listDatasetVersions } from '../../lib/data/datasets.js';
import { DATASET_NAME_PATTERN } from '../../lib/data/types.js';
import { ingestionWorkflow } from '../../workflows/ingestion.js';
import { errors } from '../schemas.js';

const Column = Type.Object({ name: Type.String(), type: Type.String(), nullCount: Type.Integer() });
export const DatasetVersionSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  uri: Type.String(),
  rowCount: Type.Integer(),
  columns: Type.Array(Column),
  sourceUri: Type.String(),
  createdAt: Type.String(),
});

const IngestBody = Type.Object(
  {
    name: Type.String({ pattern: DATASET_NAME_PATTERN, description: 'Dataset name; versions accumulate under it.' }),
    uri: Type.String({ minLength: 1, description: 'Absolute path or file:// URL of a CSV file (optionally .gz) readable by the worker.' }),
  },
  { additionalProperties: false },
);

const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      schema: {
        body: IngestBody,
        response: { 200: Type.Intersect([DatasetVersionSchema, Type.Object({ created: Type.Boolean() })]), 201: Type.Intersect([DatasetVersionSchema, Type.Object({ created: Type.Boolean() })]), ...errors(400, 500) },
      },
    },
    async (request, reply) => {
      const { name, uri } = request.body;
      const { client, config } = app.deps;
      const result = await client.workflow.execute(ingestionWorkflow, {
        workflowId: `ingest-${name}-${randomUUID()}`,
        taskQueue: config.taskQueues.orchestration,
        args: [{ name, sourceUri: uri }],
        staticSummary: `Ingest ${name} from ${uri}`,
      });
      return reply.status(result.created ? 201 : 200).send(result);
    },
  );

  app.get(
    '/',
    { schema: { querystring: Type.Object({ name: Type.Optional(Type.String()) }), response: { 200: Type.Object({ datasets: Type.Array(DatasetVersionSchema) }) } } },
    async (request) => ({ datasets: await listDatasetVersions(app.deps.db, request.query.name) }),
  );

  app.get(
    '/:id',
    { schema: { params: Type.Object({ id: Type.String() }), response: { 200: DatasetVersionSchema, ...errors(404) } } },
    async (request) => getDatasetVersion(app.deps.db, request.params.id),
  );
};

export default datasetRoutes;
