// /v1/approvals: runs waiting for a human decision, and the decision itself (sent as a workflow Update).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ConflictError } from '../../lib/errors.js';
import { approveUpdate, rejectUpdate, statusQuery } from '../../workflows/training.js';
import { STAGE } from '../../workflows/search-attributes.js';
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
  workflowId: Type.String(),
  modelName: Type.String(),
  version: Type.Optional(Type.Integer()),
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
});

/** Temporal answers "already completed" in a few shapes depending on timing; all mean nothing awaits a decision. */
function isClosedWorkflowError(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? '');
  return /already completed|workflow execution.*(completed|closed)|not running/i.test(msg);
}

const approvalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: { response: { 200: Type.Object({ pending: Type.Array(Pending) }) } } }, async () => {
    const pending: Array<Static<typeof Pending>> = [];
    const query = `${STAGE.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`;
    for await (const wf of app.deps.client.workflow.list({ query })) {
      const status = await app.deps.client.workflow.getHandle(wf.workflowId).query(statusQuery).catch(() => undefined);
      if (status?.stage !== 'awaiting_approval') continue;
      pending.push({ workflowId: wf.workflowId, modelName: status.modelName, version: status.version, metrics: status.metrics });
    }
    return { pending };
  });

  app.post(
    '/:workflowId',
    { schema: { params: Type.Object({ workflowId: Type.String() }), body: DecisionBody, response: { 200: DecisionRecord, ...errors(400, 403, 404, 409) } } },
    async (request) => {
      const { decision, approver, reason } = request.body;
      const handle = app.deps.client.workflow.getHandle(request.params.workflowId);
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        throw new ConflictError(`Workflow ${request.params.workflowId} is ${description.status.name}; it is not waiting for approval.`);
      }
      try {
        return await handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [{ approver, reason }] });
      } catch (err) {
        if (isClosedWorkflowError(err)) throw new ConflictError(`Workflow ${request.params.workflowId} finished before the decision arrived.`);
        throw err;
      }
    },
  );
};

export default approvalRoutes;
