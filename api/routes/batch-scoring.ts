// /v1/batch-scoring: start a batch scoring run (a workflow on the train queue) and read its status and result URI.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { ALIAS_PATTERN, MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { getRun, MAX_BATCH_ROWS, planBatchScoring, type BatchScoringInput } from '../../lib/serving/batch-scoring.js';
import { batchScoringStatusQuery, batchScoringWorkflow } from '../../workflows/batch-scoring.js';
import { actorOf } from '../auth.js';
import { errors } from '../schemas.js';

const StartBody = Type.Object(
  {
    datasetVersionId: Type.String({ minLength: 1 }),
    modelName: Type.String({ pattern: MODEL_NAME_PATTERN }),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Score with this version; or name an alias' })),
    alias: Type.Optional(Type.String({ pattern: ALIAS_PATTERN, description: 'Resolved once when the run starts; default production' })),
    keyColumns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, maxItems: 32, description: 'Dataset columns copied next to the predictions' })),
    batchRows: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BATCH_ROWS, description: 'Rows per batch (default 10000): the unit of progress and resumption' })),
  },
  { additionalProperties: false },
);

const Run = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'pending (not started yet), running, completed or failed' }),
  stage: Type.Optional(Type.String({ description: 'planning, scoring, assembling, completed, failed (from the workflow, while it runs)' })),
  modelName: Type.Optional(Type.String()),
  version: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  alias: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  datasetVersionId: Type.Optional(Type.String()),
  keyColumns: Type.Optional(Type.Array(Type.String())),
  batchRows: Type.Optional(Type.Integer()),
  batches: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  batchesDone: Type.Optional(Type.Integer()),
  rows: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  resultUri: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  resultSha256: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  requestedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  workflowStatus: Type.String(),
});

const batchScoringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      config: { roles: ['scorer', 'trainer'] },
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
        staticSummary: `Score ${plan.datasetVersionId} with ${plan.modelName} v${plan.version}`,
        staticDetails: `${plan.rows} rows in ${plan.batches} batches of ${plan.batchRows}.`,
      });
      return reply.status(202).send({ id, statusUrl: `/v1/batch-scoring/${id}`, version: plan.version });
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
