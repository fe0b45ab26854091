// /v1/rollouts: start a rollout (blue-green, canary, shadow) of an already registered version, follow it, and
// approve or reject its promotion when it asks. The rollout is a workflow (workflows/rollout.ts); the recorded
// steps come from Postgres (rollout_steps).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Type } from 'typebox';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { getModelVersion } from '../../lib/registry/registry.js';
import { MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { resolveRollout, ROLLOUT_STRATEGIES, type RolloutInput, type RolloutResult } from '../../lib/serving/rollout.js';
import { listRolloutSteps } from '../../lib/serving/rollout-store.js';
import { approvePromotionUpdate, rejectPromotionUpdate, rolloutStatusQuery, rolloutWorkflow, rolloutWorkflowId } from '../../workflows/rollout.js';
import { actingAs, actorOf } from '../auth.js';
import { errors } from '../schemas.js';

const Options = Type.Object(
  {
    strategy: Type.Union(ROLLOUT_STRATEGIES.map((s) => Type.Literal(s))),
    steps: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1, maxItems: 20, description: 'Canary percentages, increasing (default 5, 25, 50, 100)' })),
    stepSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds per canary step, or the shadow duration (default 300)' })),
    maxInconclusiveWaits: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    onInconclusive: Type.Optional(Type.Union([Type.Literal('rollback'), Type.Literal('proceed')])),
    thresholds: Type.Optional(
      Type.Object(
        {
          minRequests: Type.Optional(Type.Integer({ minimum: 1 })),
          maxErrorRateIncrease: Type.Optional(Type.Number({ minimum: 0 })),
          maxLatencyRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          latencyFloorMs: Type.Optional(Type.Number({ minimum: 0 })),
          maxScorePsi: Type.Optional(Type.Number({ minimum: 0 })),
          maxAccuracyDrop: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Live quality: canary accuracy on feedback labels at most this below stable (default 0.05)' })),
          maxRmseRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Live quality: a regressor canary's RMSE at most this multiple of stable's (default 1.2)" })),
        },
        { additionalProperties: false },
      ),
    ),
    shadowFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    promoteAfterShadow: Type.Optional(Type.Boolean()),
    approval: Type.Optional(
      Type.Object(
        {
          approvers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, description: "Who may decide; default anyone with the approver role but the rollout's starter" })),
          deadlineSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Rolled back without a decision by then; default: waits' })),
        },
        { additionalProperties: false, description: 'Canary only: wait for POST /v1/rollouts/{id}/decision before the last step (promotion)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    approver: Type.Optional(Type.String({ minLength: 1, description: "Optional: the approver is always the API key's name; if given it must match it" })),
    reason: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const DecisionAnswer = Type.Object({ approver: Type.String(), reason: Type.String(), approved: Type.Boolean(), at: Type.String(), via: Type.String() });

const StartBody = Type.Object(
  {
    modelName: Type.String({ pattern: MODEL_NAME_PATTERN }),
    version: Type.Integer({ minimum: 1 }),
    rollout: Type.Optional(Options),
    reason: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const rolloutRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      config: { roles: ['admin', 'trainer'] },
      schema: { body: StartBody, response: { 202: Type.Object({ id: Type.String(), statusUrl: Type.String() }), ...errors(400, 404, 409) } },
    },
    async (request, reply) => {
      const { modelName, version, rollout, reason } = request.body;
      try {
        resolveRollout(rollout);
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
      const mv = await getModelVersion(app.deps.db, modelName, version);
      if (mv.archivedAt) throw new ConflictError(`${modelName} v${version} is archived and may not be rolled out.`);
      const input: RolloutInput = { modelName, version, rollout, reason, actor: actorOf(request) };
      const id = rolloutWorkflowId(modelName, version);
      try {
        await app.deps.client.workflow.start(rolloutWorkflow, {
          workflowId: id,
          taskQueue: app.deps.config.taskQueues.orchestration,
          args: [input],
          staticSummary: `Roll out ${modelName} v${version} (${rollout?.strategy ?? 'blue-green'})`,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(`A rollout of ${modelName} v${version} is already running (${id}).`);
        throw err;
      }
      return reply.status(202).send({ id, statusUrl: `/v1/rollouts/${id}` });
    },
  );

  app.post(
    '/:id/decision',
    {
      config: { roles: ['approver'] },
      schema: { params: Type.Object({ id: Type.String() }), body: DecisionBody, response: { 200: DecisionAnswer, ...errors(400, 401, 403, 404, 409) } },
    },
    async (request) => {
      const { id } = request.params;
      const { decision, reason } = request.body;
      const approver = actingAs(request.principal, request.body.approver, 'approver') ?? '';
      const handle = app.deps.client.workflow.getHandle<typeof rolloutWorkflow>(id);
      const description = await handle.describe();
      if (description.type !== rolloutWorkflow.name) throw new NotFoundError(`${id} is not a rollout.`);
      if (description.status.name !== 'RUNNING') throw new ConflictError(`Rollout ${id} is ${description.status.name}; it is not waiting for a promotion decision.`);
      return handle.executeUpdate(decision === 'approve' ? approvePromotionUpdate : rejectPromotionUpdate, { args: [{ approver, reason }] });
    },
  );

  app.get('/:id', { schema: { params: Type.Object({ id: Type.String() }), response: { 200: Type.Object({}, { additionalProperties: true }), ...errors(404) } } }, async (request) => {
    const { id } = request.params;
    const handle = app.deps.client.workflow.getHandle(id);
    const description = await handle.describe().catch((err: unknown) => {
      if ((err as Error).name === 'WorkflowNotFoundError') throw new NotFoundError(`Rollout ${id} does not exist.`);
      throw err;
    });
    if (description.type !== rolloutWorkflow.name) throw new NotFoundError(`${id} is not a rollout.`);
    const workflowStatus = description.status.name;
    const live = await handle.query(rolloutStatusQuery).catch(() => undefined);
    let result: RolloutResult | undefined;
    let error: string | undefined;
    if (workflowStatus === 'COMPLETED') result = (await handle.result()) as RolloutResult;
    if (workflowStatus === 'FAILED') error = await handle.result().then(() => undefined, (err: Error) => (err.cause as Error | undefined)?.message ?? err.message);
    const modelName = live?.modelName ?? result?.modelName;
    const recorded = modelName ? await listRolloutSteps(app.deps.db, modelName, id, description.runId) : [];
    return { id, runId: description.runId, workflowStatus, status: live, result, error, recordedSteps: recorded.reverse() };
  });
};

export default rolloutRoutes;
