// /v1/approvals: releases waiting for a human decision, and the decision itself (sent as a workflow Update).
// A decision may name the release workflow or the training run that produced the version.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { getModelVersion } from '../../lib/registry/registry.js';
import { approveUpdate, rejectUpdate, releaseStatusQuery, releaseWorkflow } from '../../workflows/release.js';
import { STAGE } from '../../workflows/search-attributes.js';
import { statusQuery, trainingWorkflow } from '../../workflows/training.js';
import { DecisionRecord, errors } from '../schemas.js';

const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    approver: Type.String({ minLength: 1 }),
    reason: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const Pending = Type.Object({
  workflowId: Type.String({ description: 'The release workflow to send the decision to' }),
  modelName: Type.String(),
  version: Type.Integer(),
  trainingRunId: Type.Optional(Type.String()),
  metrics: Type.Record(Type.String(), Type.Number()),
});

/** Finds the release workflow for an id that names either a release or a training run. */
async function releaseHandle(client: Client, id: string): Promise<WorkflowHandle<typeof releaseWorkflow>> {
  const handle = client.workflow.getHandle<typeof releaseWorkflow>(id);
  const description = await handle.describe();
  if (description.type === trainingWorkflow.name) {
    const status = await client.workflow.getHandle<typeof trainingWorkflow>(id).query(statusQuery);
    if (!status.releaseWorkflowId) throw new ConflictError(`Training run ${id} is still ${status.stage}; no version awaits approval yet.`);
    return releaseHandle(client, status.releaseWorkflowId);
  }
  if (description.type !== releaseWorkflow.name) throw new NotFoundError(`${id} is neither a release nor a training run.`);
  if (description.status.name !== 'RUNNING') throw new ConflictError(`Release ${id} is ${description.status.name}; it is not waiting for approval.`);
  return handle;
}

/** Temporal answers "already completed" in a few shapes depending on timing; all mean nothing awaits a decision. */
function isClosedWorkflowError(err: unknown): boolean {
  return /already completed|workflow execution.*(completed|closed)|not running/i.test(String((err as Error)?.message ?? ''));
}

const approvalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: { response: { 200: Type.Object({ pending: Type.Array(Pending) }) } } }, async () => {
    const pending: Array<Static<typeof Pending>> = [];
    const query = `WorkflowType = '${releaseWorkflow.name}' AND ${STAGE.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`;
    for await (const wf of app.deps.client.workflow.list({ query })) {
      const status = await app.deps.client.workflow.getHandle(wf.workflowId).query(releaseStatusQuery).catch(() => undefined);
      if (status?.stage !== 'awaiting_approval' || status.decision) continue;
      const version = await getModelVersion(app.deps.db, status.modelName, status.version);
      pending.push({ workflowId: wf.workflowId, modelName: status.modelName, version: status.version, trainingRunId: status.trainingRunId, metrics: version.metrics });
    }
    return { pending };
  });

  app.post(
    '/:workflowId',
    { schema: { params: Type.Object({ workflowId: Type.String() }), body: DecisionBody, response: { 200: DecisionRecord, ...errors(400, 403, 404, 409) } } },
    async (request) => {
      const { decision, approver, reason } = request.body;
      const handle = await releaseHandle(app.deps.client, request.params.workflowId);
      try {
        return await handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [{ approver, reason }] });
      } catch (err) {
        if (isClosedWorkflowError(err)) throw new ConflictError(`Release ${handle.workflowId} finished before the decision arrived.`);
        request.log.info({ approver, err: (err as Error).message }, 'approval decision refused');
        throw err;
      }
    },
  );
};

export default approvalRoutes;
