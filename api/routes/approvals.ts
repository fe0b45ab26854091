// /v1/approvals: releases waiting for a human decision, and the decision itself (sent as a workflow Update).
// A decision may name the release workflow or the training run that produced the version.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { evaluationSummary, findEvaluations } from '../../lib/release/evaluations.js';
import { getModelVersions } from '../../lib/registry/registry.js';
import { reportPath } from '../../lib/registry/types.js';
import { approveUpdate, rejectUpdate, releaseWorkflow } from '../../workflows/release.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from '../../workflows/search-attributes.js';
import { statusQuery, trainingWorkflow } from '../../workflows/training.js';
import { actingAs } from '../auth.js';
import { DecisionRecord, errors } from '../schemas.js';

const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    approver: Type.Optional(
      Type.String({ minLength: 1, description: "Optional: the approver is always the API key's name; if given it must match it" }),
    ),
    reason: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const GateLine = Type.Object({ kind: Type.String(), name: Type.String(), passed: Type.Boolean(), summary: Type.String() });

const Pending = Type.Object({
  workflowId: Type.String({ description: 'The release workflow to send the decision to' }),
  modelName: Type.String(),
  version: Type.Integer(),
  trainingRunId: Type.Optional(Type.String()),
  metrics: Type.Record(Type.String(), Type.Number()),
  reportUrl: Type.Union([Type.String(), Type.Null()], { description: 'The HTML evaluation report (API path), null if the version was not evaluated' }),
  gates: Type.Union([
    Type.Object({ passed: Type.Boolean(), total: Type.Integer(), failed: Type.Integer(), championVersion: Type.Union([Type.Integer(), Type.Null()]), gates: Type.Array(GateLine) }),
    Type.Null(),
  ]),
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
  app.get('/', { config: { roles: ['viewer'] }, schema: { response: { 200: Type.Object({ pending: Type.Array(Pending) }) } } }, async () => {
    const query = `WorkflowType = '${releaseWorkflow.name}' AND ${STAGE.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`;
    // Built from the visibility store and Postgres, not by querying each workflow: a query needs a worker,
    // and one release whose worker is down must not hang the whole list.
    const waiting: Array<{ workflowId: string; modelName: string; version: number }> = [];
    for await (const wf of app.deps.client.workflow.list({ query })) {
      const modelName = wf.typedSearchAttributes.get(MODEL_NAME);
      const version = wf.typedSearchAttributes.get(MODEL_VERSION);
      if (modelName !== undefined && version !== undefined) waiting.push({ workflowId: wf.workflowId, modelName, version });
    }
    // One query each for the versions and their evaluations, not two per pending release.
    const [versions, evaluations] = await Promise.all([getModelVersions(app.deps.db, waiting), findEvaluations(app.deps.db, waiting)]);
    const pending: Array<Static<typeof Pending>> = [];
    for (const { workflowId, modelName, version: versionNumber } of waiting) {
      const key = `${modelName}@${versionNumber}`;
      const version = versions.get(key);
      if (!version) continue;
      const evaluation = evaluations.get(key);
      pending.push({
        workflowId,
        modelName,
        version: versionNumber,
        trainingRunId: version.trainingRunId ?? undefined,
        metrics: version.metrics,
        reportUrl: evaluation ? reportPath(modelName, versionNumber) : null,
        gates: evaluation ? { ...evaluationSummary(evaluation), championVersion: evaluation.championVersion } : null,
      });
    }
    return { pending };
  });

  app.post(
    '/:workflowId',
    {
      config: { roles: ['approver'] },
      schema: { params: Type.Object({ workflowId: Type.String() }), body: DecisionBody, response: { 200: DecisionRecord, ...errors(400, 401, 403, 404, 409) } },
    },
    async (request) => {
      const { decision, reason } = request.body;
      const approver = actingAs(request.principal, request.body.approver, 'approver') ?? '';
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
