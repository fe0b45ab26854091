// /v1/batch-scoring: start a batch scoring run (a workflow on the train queue), now or on a Temporal Schedule,
// and read a run's status and outputs.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { Type } from 'typebox';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { ALIAS_PATTERN, MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import {
  getRun,
  MAX_BATCH_ROWS,
  OUTPUT_FILE_FORMATS,
  OUTPUT_TABLE_PATTERN,
  planBatchScoring,
  type BatchScoringInput,
} from '../../lib/serving/batch-scoring.js';
import { batchScoringStatusQuery, batchScoringWorkflow } from '../../workflows/batch-scoring.js';
import { actorOf } from '../auth.js';
import { errors } from '../schemas.js';

const ROLES = ['scorer', 'trainer'] as const;

const job = {
  datasetVersionId: Type.Optional(Type.String({ minLength: 1, description: 'Score this dataset version; or give query' })),
  query: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000, description: 'A SELECT on mlcycle\'s database, run read-only; needs keyColumns, which order its rows' })),
  modelName: Type.String({ pattern: MODEL_NAME_PATTERN }),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'Score with this version; or name an alias' })),
  alias: Type.Optional(Type.String({ pattern: ALIAS_PATTERN, description: 'Resolved once when a run starts; default production' })),
  keyColumns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, maxItems: 32, description: 'Source columns copied next to the predictions' })),
  batchRows: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BATCH_ROWS, description: 'Rows per batch (default 10000): the unit of progress and resumption' })),
  output: Type.Optional(
    Type.Object(
      {
        table: Type.Optional(Type.String({ pattern: OUTPUT_TABLE_PATTERN, description: 'A table in mlcycle\'s database (created on first use), keyed by (run_id, row_index)' })),
        file: Type.Optional(Type.Union(OUTPUT_FILE_FORMATS.map((f) => Type.Literal(f)), { description: 'Result file format; default arrow unless a table is named' })),
      },
      { additionalProperties: false },
    ),
  ),
};
const StartBody = Type.Object(job, { additionalProperties: false });
const ScheduleBody = Type.Object(
  {
    ...job,
    scheduleId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' })),
    cron: Type.Optional(Type.String({ minLength: 1, description: 'Cron expression (UTC), e.g. "0 3 * * *"' })),
    everySeconds: Type.Optional(Type.Integer({ minimum: 60, description: 'Interval in seconds (at least 60)' })),
  },
  { additionalProperties: false },
);
const ScheduleParams = Type.Object({ scheduleId: Type.String() });
const Schedule = Type.Object({
  scheduleId: Type.String(),
  input: Type.Unknown({ description: 'The job each run scores' }),
  cron: Type.Union([Type.String(), Type.Null()]),
  everySeconds: Type.Union([Type.Integer(), Type.Null()]),
  paused: Type.Boolean(),
  recentRuns: Type.Array(Type.Object({ id: Type.String(), statusUrl: Type.String(), scheduledAt: Type.String() })),
  nextRunAt: Type.Union([Type.String(), Type.Null()]),
});

const Run = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'pending (not started yet), running, completed or failed' }),
  stage: Type.Optional(Type.String({ description: 'planning, scoring, assembling, completed, failed (from the workflow, while it runs)' })),
  modelName: Type.Optional(Type.String()),
  version: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  alias: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  datasetVersionId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  query: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  keyColumns: Type.Optional(Type.Array(Type.String())),
  batchRows: Type.Optional(Type.Integer()),
  batches: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  batchesDone: Type.Optional(Type.Integer()),
  rows: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  outputTable: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  outputFile: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  resultUri: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  resultSha256: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  requestedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  workflowStatus: Type.String(),
});

const statusUrl = (id: string) => `/v1/batch-scoring/${encodeURIComponent(id)}`;

const batchScoringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      config: { roles: [...ROLES] },
      schema: { body: StartBody, response: { 202: Type.Object({ id: Type.String(), statusUrl: Type.String(), version: Type.Integer() }), ...errors(400, 404) } },
    },
    async (request, reply) => {
      const input: BatchScoringInput = { ...request.body, requestedBy: actorOf(request) };
      const id = `batch-score-${input.modelName}-${randomUUID().slice(0, 8)}`;
      // Checked here for an immediate 400/404; the workflow plans again (it may also be started elsewhere).
      const plan = await planBatchScoring(app.deps.db, id, input);
      await app.deps.client.workflow.start(batchScoringWorkflow, {
        workflowId: id,
        taskQueue: app.deps.config.taskQueues.orchestration,
        // The version is pinned at once, so an alias move after the answer does not change what is scored.
        args: [{ ...input, version: plan.version, alias: undefined }],
        staticSummary: `Score ${plan.datasetVersionId ?? 'a query'} with ${plan.modelName} v${plan.version}`,
        staticDetails: `${plan.rows} rows in ${plan.batches} batches of ${plan.batchRows}.`,
      });
      return reply.status(202).send({ id, statusUrl: statusUrl(id), version: plan.version });
    },
  );

  app.post(
    '/schedules',
    {
      config: { roles: [...ROLES] },
      schema: { body: ScheduleBody, response: { 201: Type.Object({ scheduleId: Type.String(), input: Type.Unknown() }), ...errors(400, 404, 409) } },
    },
    async (request, reply) => {
      const { cron, everySeconds, scheduleId, ...job } = request.body;
      if ((cron === undefined) === (everySeconds === undefined)) throw new ValidationError('A schedule needs exactly one of cron or everySeconds.');
      // Each run resolves the alias when it starts (a schedule follows @production); the rest is checked now.
      const input: BatchScoringInput = { ...job, requestedBy: actorOf(request) };
      await planBatchScoring(app.deps.db, 'schedule-check', input);
      const id = scheduleId ?? `batch-score-${input.modelName}-${randomUUID().slice(0, 8)}`;
      try {
        await app.deps.client.schedule.create({
          scheduleId: id,
          spec: cron !== undefined ? { cronExpressions: [cron] } : { intervals: [{ every: `${everySeconds}s` }] },
          // Temporal appends the scheduled time to this id, so every run has its own id (and run record).
          action: { type: 'startWorkflow', workflowType: batchScoringWorkflow, args: [input], taskQueue: app.deps.config.taskQueues.orchestration, workflowId: `${id}-run` },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          // The server turns a cron expression into calendars; the memo keeps it as given, for GET.
          memo: { modelName: input.modelName, cron: cron ?? null, everySeconds: everySeconds ?? null },
        });
      } catch (err) {
        if ((err as Error).name === 'ScheduleAlreadyRunning') throw new ConflictError(`Schedule ${id} already exists; delete it first or pick another scheduleId.`);
        // The schedule client turns the server's INVALID_ARGUMENT (e.g. a cron it cannot parse) into a TypeError.
        if (err instanceof TypeError) throw new ValidationError(`Temporal refused the schedule: ${err.message}`);
        throw err;
      }
      return reply.status(201).send({ scheduleId: id, input });
    },
  );

  async function describeSchedule(scheduleId: string) {
    const handle = app.deps.client.schedule.getHandle(scheduleId);
    const description = await handle.describe().catch((err: unknown) => {
      if ((err as Error).name === 'ScheduleNotFoundError') throw new NotFoundError(`Schedule ${scheduleId} does not exist.`);
      throw err;
    });
    if (description.action.type !== 'startWorkflow' || description.action.workflowType !== batchScoringWorkflow.name) throw new NotFoundError(`${scheduleId} is not a batch scoring schedule.`);
    return { handle, description };
  }

  app.get('/schedules/:scheduleId', { schema: { params: ScheduleParams, response: { 200: Schedule, ...errors(404) } } }, async (request) => {
    const { scheduleId } = request.params;
    const { description } = await describeSchedule(scheduleId);
    const memo = (description.memo ?? {}) as { cron?: string | null; everySeconds?: number | null };
    return {
      scheduleId,
      input: description.action.type === 'startWorkflow' ? (description.action.args?.[0] ?? null) : null,
      cron: memo.cron ?? null,
      everySeconds: memo.everySeconds ?? null,
      paused: description.state.paused,
      recentRuns: description.info.recentActions.map((a) => ({ id: a.action.workflow.workflowId, statusUrl: statusUrl(a.action.workflow.workflowId), scheduledAt: a.scheduledAt.toISOString() })),
      nextRunAt: description.info.nextActionTimes[0]?.toISOString() ?? null,
    };
  });

  app.delete(
    '/schedules/:scheduleId',
    { config: { roles: [...ROLES] }, schema: { params: ScheduleParams, response: { 204: Type.Null(), ...errors(404) } } },
    async (request, reply) => {
      const { handle } = await describeSchedule(request.params.scheduleId);
      await handle.delete();
      return reply.status(204).send(null);
    },
  );

  app.get('/:id', { schema: { params: Type.Object({ id: Type.String() }), response: { 200: Run, ...errors(404) } } }, async (request) => {
    const { id } = request.params;
    const handle = app.deps.client.workflow.getHandle(id);
    const description = await handle.describe().catch((err: unknown) => {
      if ((err as Error).name === 'WorkflowNotFoundError') throw new NotFoundError(`Batch scoring run ${id} does not exist.`);
      throw err;
    });
    if (description.type !== batchScoringWorkflow.name) throw new NotFoundError(`${id} is not a batch scoring run.`);
    const workflowStatus = description.status.name;
    const live = workflowStatus === 'RUNNING' ? await handle.query(batchScoringStatusQuery).catch(() => undefined) : undefined;
    const run = await getRun(app.deps.db, id).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    // Before its first activity a run has no row yet.
    if (!run) return { id, status: workflowStatus === 'RUNNING' ? 'pending' : 'failed', stage: live?.stage, workflowStatus };
    return { ...run, stage: live?.stage, workflowStatus };
  });
};

export default batchScoringRoutes;
