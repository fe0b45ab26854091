// /v1/rollouts: start a rollout (blue-green, canary, shadow) of an already registered version, follow it, and
// approve or reject its promotion when it asks. The rollout is a workflow (workflows/rollout.ts); the recorded
// steps come from Postgres (rollout_steps).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Type } from 'typebox';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { getModelVersion } from '../../lib/registry/registry.js';
import { MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { resolveRollout, type RolloutInput, type RolloutResult } from '../../lib/serving/rollout.js';
import { listRolloutSteps } from '../../lib/serving/rollout-store.js';
import { approvePromotionUpdate, rejectPromotionUpdate, rolloutStatusQuery, rolloutWorkflow, rolloutWorkflowId } from '../../workflows/rollout.js';
import { actingAs, actorOf } from '../auth.js';
import { errors, RolloutOptionsSchema } from '../schemas.js';

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
    rollout: Type.Optional(RolloutOptionsSchema),
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
      resolveRollout(rollout);
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
