// /v1/datasets: register contracts, ingest a source into a new dataset version (through the ingestion
// workflow, now or on a Temporal Schedule), list versions, and read their profile, runs and quarantine.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listContracts, registerContract } from '../../lib/data/contracts.js';
import { parseContract } from '../../lib/data/contract.js';
import { getDatasetProfile, getDatasetVersion, listDatasetVersions } from '../../lib/data/datasets.js';
import { getRun, listQuarantine, listRuns } from '../../lib/data/runs.js';
import { DATASET_NAME_PATTERN, INGESTION_MODES, SOURCE_FORMATS, type IngestionInput } from '../../lib/data/types.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { ingestionWorkflow } from '../../workflows/ingestion.js';
import { errors } from '../schemas.js';

const Column = Type.Object({ name: Type.String(), type: Type.String(), nullCount: Type.Integer() });
const Lineage = Type.Object({
  sourceUri: Type.String(),
  contractVersion: Type.Union([Type.Integer(), Type.Null()]),
  parentIds: Type.Array(Type.String()),
  ingestionRunId: Type.Union([Type.String(), Type.Null()]),
  rowsRead: Type.Integer(),
  rowsQuarantined: Type.Integer(),
  duplicatesDropped: Type.Integer(),
  rowsFromParent: Type.Integer(),
});
export const DatasetVersionSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  uri: Type.String(),
  rowCount: Type.Integer(),
  columns: Type.Array(Column),
  sourceUri: Type.String(),
  lineage: Lineage,
  createdAt: Type.String(),
});
const IngestResult = Type.Intersect([
  DatasetVersionSchema,
  Type.Object({ created: Type.Boolean(), report: Type.Unknown({ description: 'The run report: checks, drift, duplicates, warnings.' }) }),
]);

const source = {
  name: Type.String({ pattern: DATASET_NAME_PATTERN, description: 'Dataset name; versions accumulate under it.' }),
  uri: Type.String({
    minLength: 1,
    description:
      'Absolute path or file:// URL (readable by the worker) of a CSV (optionally .gz), Parquet or Arrow IPC file or stream; ' +
      'or a Postgres URL with `query` (`postgres:default` is mlcycle\'s own database).',
  }),
  query: Type.Optional(Type.String({ minLength: 1, description: 'SQL for a Postgres source, run read-only through a cursor.' })),
  format: Type.Optional(Type.Union(SOURCE_FORMATS.map((f) => Type.Literal(f)), { description: 'When the extension does not say it.' })),
  mode: Type.Optional(Type.Union(INGESTION_MODES.map((m) => Type.Literal(m)), { description: 'replace (default) or append onto the latest version.' })),
  contractVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'Contract version to check; default the latest.' })),
};
const IngestBody = Type.Object(
  { ...source, contract: Type.Optional(Type.Unknown({ description: 'A data contract to register (a new version if it differs) and check against.' })) },
  { additionalProperties: false },
);
const ScheduleBody = Type.Object(
  {
    ...source,
    scheduleId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' })),
    cron: Type.Optional(Type.String({ minLength: 1, description: 'Cron expression, e.g. "0 3 * * *".' })),
    everySeconds: Type.Optional(Type.Integer({ minimum: 60, description: 'Interval in seconds (at least 60).' })),
  },
  { additionalProperties: false },
);
const Quarantined = Type.Object({
  runId: Type.String(),
  rowNumber: Type.Integer(),
  column: Type.Union([Type.String(), Type.Null()]),
  value: Type.Union([Type.String(), Type.Null()]),
  check: Type.String(),
  severity: Type.String(),
  reason: Type.String(),
});
const QuarantinePage = Type.Object({ total: Type.Integer(), rows: Type.Array(Quarantined) });
const QuarantineQuery = Type.Object({
  check: Type.Optional(Type.String()),
  severity: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('warn')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});
const Run = Type.Object({
  id: Type.String(),
  datasetName: Type.String(),
  sourceUri: Type.String(),
  contractVersion: Type.Union([Type.Integer(), Type.Null()]),
  mode: Type.String(),
  status: Type.String(),
  report: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  datasetVersionId: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});
const Contract = Type.Object({ datasetName: Type.String(), version: Type.Integer(), contract: Type.Unknown(), sha256: Type.String(), createdAt: Type.String() });
const NameParams = Type.Object({ name: Type.String({ pattern: DATASET_NAME_PATTERN }) });
const VersionParams = Type.Object({ name: Type.String({ pattern: DATASET_NAME_PATTERN }), id: Type.String() });

const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** Registers the body's contract, if any, and returns the workflow input. */
  async function ingestionInput(body: { name: string; uri: string; query?: string; format?: IngestionInput['format']; mode?: IngestionInput['mode']; contractVersion?: number; contract?: unknown }): Promise<IngestionInput> {
    let contractVersion = body.contractVersion;
    if (body.contract !== undefined) {
      if (contractVersion !== undefined) throw new ValidationError('Give either contract or contractVersion, not both.');
      contractVersion = (await registerContract(app.deps.db, body.name, body.contract)).version;
    }
    const input: IngestionInput = { name: body.name, sourceUri: body.uri };
    if (body.query !== undefined) input.query = body.query;
    if (body.format !== undefined) input.format = body.format;
    if (body.mode !== undefined) input.mode = body.mode;
    if (contractVersion !== undefined) input.contractVersion = contractVersion;
    return input;
  }

  app.post(
    '/',
    { schema: { body: IngestBody, response: { 200: IngestResult, 201: IngestResult, ...errors(400, 404, 422, 500) } } },
    async (request, reply) => {
      const input = await ingestionInput(request.body);
      const { client, config } = app.deps;
      const result = await client.workflow.execute(ingestionWorkflow, {
        workflowId: `ingest-${input.name}-${randomUUID()}`,
        taskQueue: config.taskQueues.orchestration,
        args: [input],
        staticSummary: `Ingest ${input.name} from ${request.body.uri}`,
      });
      return reply.status(result.created ? 201 : 200).send(result);
    },
  );

  app.post(
    '/schedules',
    { schema: { body: ScheduleBody, response: { 201: Type.Object({ scheduleId: Type.String(), input: Type.Unknown() }), ...errors(400, 409) } } },
    async (request, reply) => {
      const { cron, everySeconds, scheduleId, ...rest } = request.body;
      if ((cron === undefined) === (everySeconds === undefined)) throw new ValidationError('A schedule needs exactly one of cron or everySeconds.');
      const input = await ingestionInput(rest);
      const id = scheduleId ?? `ingest-${input.name}`;
      const { client, config } = app.deps;
      try {
        await client.schedule.create({
          scheduleId: id,
          spec: cron !== undefined ? { cronExpressions: [cron] } : { intervals: [{ every: `${everySeconds}s` }] },
          action: { type: 'startWorkflow', workflowType: ingestionWorkflow, args: [input], taskQueue: config.taskQueues.orchestration, workflowId: `ingest-${input.name}-scheduled` },
          memo: { datasetName: input.name },
        });
      } catch (err) {
        if ((err as Error).name === 'ScheduleAlreadyRunning') throw new ValidationError(`Schedule ${id} already exists; delete it first or pick another scheduleId.`);
        throw err;
      }
      return reply.status(201).send({ scheduleId: id, input });
    },
  );

  app.delete(
    '/schedules/:scheduleId',
    { schema: { params: Type.Object({ scheduleId: Type.String() }), response: { 204: Type.Null(), ...errors(404) } } },
    async (request, reply) => {
      try {
        await app.deps.client.schedule.getHandle(request.params.scheduleId).delete();
      } catch (err) {
        if ((err as Error).name === 'ScheduleNotFoundError') throw new NotFoundError(`Schedule ${request.params.scheduleId} does not exist.`);
        throw err;
      }
      return reply.status(204).send(null);
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

  app.post(
    '/:name/contracts',
    { schema: { params: NameParams, body: Type.Unknown(), response: { 200: Contract, 201: Contract, ...errors(400) } } },
    async (request, reply) => {
      const { created, ...contract } = await registerContract(app.deps.db, request.params.name, request.body);
      return reply.status(created ? 201 : 200).send(contract);
    },
  );

  app.get(
    '/:name/contracts',
    { schema: { params: NameParams, response: { 200: Type.Object({ contracts: Type.Array(Contract) }) } } },
    async (request) => ({ contracts: await listContracts(app.deps.db, request.params.name) }),
  );

  app.post(
    '/contracts/validate',
    { schema: { body: Type.Unknown(), response: { 200: Type.Object({ valid: Type.Boolean() }), ...errors(400) } } },
    async (request) => {
      parseContract(request.body);
      return { valid: true };
    },
  );

  app.get(
    '/:name/versions',
    { schema: { params: NameParams, response: { 200: Type.Object({ versions: Type.Array(DatasetVersionSchema) }) } } },
    async (request) => ({ versions: await listDatasetVersions(app.deps.db, request.params.name) }),
  );

  async function versionOf(name: string, id: string) {
    const version = await getDatasetVersion(app.deps.db, id);
    if (version.name !== name) throw new NotFoundError(`Dataset version ${id} does not belong to dataset ${name}.`);
    return version;
  }

  app.get(
    '/:name/versions/:id/profile',
    { schema: { params: VersionParams, response: { 200: Type.Object({ id: Type.String(), profile: Type.Unknown() }), ...errors(404) } } },
    async (request) => {
      await versionOf(request.params.name, request.params.id);
      return { id: request.params.id, profile: await getDatasetProfile(app.deps, request.params.id) };
    },
  );

  app.get(
    '/:name/versions/:id/quarantine',
    { schema: { params: VersionParams, querystring: QuarantineQuery, response: { 200: QuarantinePage, ...errors(404) } } },
    async (request) => {
      await versionOf(request.params.name, request.params.id);
      return listQuarantine(app.deps.db, { datasetVersionId: request.params.id, ...request.query });
    },
  );

  app.get(
    '/:name/quarantine',
    { schema: { params: NameParams, querystring: QuarantineQuery, response: { 200: QuarantinePage } } },
    async (request) => listQuarantine(app.deps.db, { datasetName: request.params.name, ...request.query }),
  );

  app.get(
    '/:name/runs',
    { schema: { params: NameParams, response: { 200: Type.Object({ runs: Type.Array(Run) }) } } },
    async (request) => ({ runs: await listRuns(app.deps.db, request.params.name) }),
  );

  app.get(
    '/runs/:runId',
    { schema: { params: Type.Object({ runId: Type.String() }), response: { 200: Run, ...errors(404) } } },
    async (request) => getRun(app.deps.db, request.params.runId),
  );

  app.get(
    '/runs/:runId/quarantine',
    { schema: { params: Type.Object({ runId: Type.String() }), querystring: QuarantineQuery, response: { 200: QuarantinePage, ...errors(404) } } },
    async (request) => {
      await getRun(app.deps.db, request.params.runId);
      return listQuarantine(app.deps.db, { runId: request.params.runId, ...request.query });
    },
  );
};

export default datasetRoutes;
