// /v1/models/:name/monitoring: start (idempotently) or stop a model's monitoring workflow, set its policy,
// and read its reports, live state and retraining triggers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { listRetrainTriggers } from '../../lib/monitoring/alert-store.js';
import type { MonitoringPolicyInput } from '../../lib/monitoring/policy.js';
import { getPolicy, listReports, setPolicy } from '../../lib/monitoring/report.js';
import { modelExists } from '../../lib/registry/registry.js';
import { checkNowSignal, monitoringStatusQuery, monitoringWorkflow, monitoringWorkflowId, stopMonitoringSignal } from '../../workflows/monitoring.js';
import { retrainingScheduleId, retrainSettings, scheduledRetrainingWorkflow } from '../../workflows/retraining.js';
import { errors } from '../schemas.js';

const Params = Type.Object({ name: Type.String() });
const StartBody = Type.Object(
  { policy: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'MonitoringPolicy overrides (docs/monitoring.md); omitted: keep the stored policy' })) },
  { additionalProperties: false },
);

const monitoringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { client, config, db } = app.deps;

  async function requireModel(name: string): Promise<void> {
    if (!(await modelExists(db, name))) throw new NotFoundError(`Model ${name} does not exist.`);
  }

  app.post(
    '/:name/monitoring',
    { config: { roles: ['trainer'] }, schema: { params: Params, body: StartBody, response: { 202: Type.Object({ workflowId: Type.String(), started: Type.Boolean(), scheduleId: Type.Union([Type.String(), Type.Null()]), policy: Type.Unknown() }), ...errors(400, 404) } } },
    async (request, reply) => {
      const { name } = request.params;
      await requireModel(name);
      const policy = request.body?.policy ? await setPolicy(db, name, request.body.policy as MonitoringPolicyInput) : await getPolicy(db, name);
      const workflowId = monitoringWorkflowId(name);
      let started = true;
      try {
        await client.workflow.start(monitoringWorkflow, {
          workflowId,
          taskQueue: config.taskQueues.orchestration,
          args: [{ modelName: name }],
          staticSummary: `Monitor ${name}`,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        started = false;
        // Already running: apply the new policy now rather than at the next tick.
        await client.workflow.getHandle(workflowId).signal(checkNowSignal);
      }
      let scheduleId: string | null = null;
      const scheduleHandle = client.schedule.getHandle(retrainingScheduleId(name));
      await scheduleHandle.delete().catch(() => {});
      if (policy.retrain.everySeconds !== null) {
        scheduleId = retrainingScheduleId(name);
        await client.schedule.create({
          scheduleId,
          spec: { intervals: [{ every: `${policy.retrain.everySeconds}s` }] },
          action: {
            type: 'startWorkflow',
            workflowType: scheduledRetrainingWorkflow,
            args: [{ modelName: name, ...retrainSettings(policy.retrain) }],
            taskQueue: config.taskQueues.orchestration,
            workflowId: `retrain-scheduled-${name}`,
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          memo: { modelName: name },
        });
      }
      return reply.status(202).send({ workflowId, started, scheduleId, policy });
    },
  );

  app.delete(
    '/:name/monitoring',
    { config: { roles: ['trainer'] }, schema: { params: Params, response: { 202: Type.Object({ workflowId: Type.String(), stopped: Type.Boolean() }), ...errors(404) } } },
    async (request, reply) => {
      const { name } = request.params;
      await requireModel(name);
      const workflowId = monitoringWorkflowId(name);
      await client.schedule.getHandle(retrainingScheduleId(name)).delete().catch(() => {});
      let stopped = true;
      try {
        await client.workflow.getHandle(workflowId).signal(stopMonitoringSignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        stopped = false;
      }
      return reply.status(202).send({ workflowId, stopped });
    },
  );

  app.post(
    '/:name/monitoring/check',
    { config: { roles: ['trainer'] }, schema: { params: Params, response: { 202: Type.Object({ workflowId: Type.String() }), ...errors(404) } } },
    async (request, reply) => {
      const workflowId = monitoringWorkflowId(request.params.name);
      await client.workflow.getHandle(workflowId).signal(checkNowSignal);
      return reply.status(202).send({ workflowId });
    },
  );

  app.get(
    '/:name/monitoring',
    {
      schema: {
        params: Params,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })), details: Type.Optional(Type.Boolean({ default: false })) }),
        response: { 200: Type.Unknown(), ...errors(404) },
      },
    },
    async (request) => {
      const { name } = request.params;
      await requireModel(name);
      const limit = request.query.limit ?? 20;
      const reports = await listReports(db, name, limit, request.query.details ?? false);
      // The latest report always comes with its per-column drift numbers.
      const [latest] = await listReports(db, name, 1, true);
      const workflowId = monitoringWorkflowId(name);
      let workflow: { workflowId: string; status: string; state?: unknown } | null = null;
      try {
        const handle = client.workflow.getHandle(workflowId);
        const description = await handle.describe();
        const state = description.status.name === 'RUNNING' ? await handle.query(monitoringStatusQuery).catch(() => undefined) : undefined;
        workflow = { workflowId, status: description.status.name, state };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return {
        model: name,
        policy: await getPolicy(db, name),
        workflow,
        latest: latest ?? null,
        reports,
        retrainTriggers: await listRetrainTriggers(db, name),
      };
    },
  );
};

export default monitoringRoutes;
