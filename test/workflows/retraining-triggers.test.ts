// Retraining triggers against the real dev server and Postgres: live quality below its threshold, new labelled
// data past a volume, and the Temporal Schedule. Each starts exactly one retrain under the model's fixed id
// (`retrain-<model>`), and a second one is stopped: by the cooldown (quality, labels) or by a running
// retrain holding the id (schedule). One model; monitoring is stopped and the retrain ended between tests.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../cli/simulate.js';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { monitoringWorkflowId } from '../../workflows/monitoring.js';
import { retrainingScheduleId, retrainingStatusQuery, retrainingWorkflowId } from '../../workflows/retraining.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const modelName = `triggers-${Date.now()}`;
type Trigger = { id: string; reasons: string[]; workflowId: string | null; outcome: string };

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(1000, 7));
  const ds = await stack.api('POST', '/v1/datasets', { name: `triggers-${Date.now()}`, uri: csv });
  const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: ds.body.id, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice' });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval', 120_000);
  expect((await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'trigger tests' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ income: 50, debt_ratio: 0.3, age: 40, late_payments: 0, utilization: 0.4 }] }), (r) => r.status === 200);
}, 240_000);

afterEach(async () => {
  // Stop monitoring (and the schedule), then end the retrain so the next test starts from no retrain running.
  await stack.api('DELETE', `/v1/models/${modelName}/monitoring`);
  await stack.runtime.client.workflow.getHandle(monitoringWorkflowId(modelName)).result().catch(() => {});
  const retrain = stack.runtime.client.workflow.getHandle(retrainingWorkflowId(modelName));
  if ((await retrain.describe().catch(() => null))?.status.name === 'RUNNING') await retrain.terminate('trigger test done');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/**
 * Scores rows from the training distribution, 25 per request, and sends every true label, until at least
 * `labels` were stored (a request refused under load, e.g. 503, is simply not labelled).
 */
async function trafficWithLabels(labels: number, seed: number): Promise<void> {
  let stored = 0;
  for (let round = 0; stored < labels && round < 10; round++) {
    const r = await simulate({ apiUrl: stack.url, model: modelName, requests: Math.ceil((labels - stored) / 25), rowsPerRequest: 25, shiftAfter: 1000, feedbackDelayMs: 0, seed: seed + round, headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(r.feedbackAccepted).toBe(r.predictions);
    stored += r.feedbackAccepted;
  }
  expect(stored).toBeGreaterThanOrEqual(labels);
  await stack.app.predictionLog.flush();
}

async function triggers(reason: string): Promise<Trigger[]> {
  const r = await stack.api('GET', `/v1/models/${modelName}/monitoring`);
  return (r.body.retrainTriggers as Trigger[]).filter((t) => t.reasons.includes(reason));
}

async function monitorStatus(): Promise<{ reportsThisRun: number; retrainBlocked?: string; lastRetrain?: { outcome: string } }> {
  return stack.runtime.client.workflow.getHandle(monitoringWorkflowId(modelName)).query('status');
}

/** Executions of the fixed retrain id since `since`, from Temporal's visibility (every run of the id, any status). */
async function retrainRuns(since: Date): Promise<number> {
  let n = 0;
  for await (const w of stack.runtime.client.workflow.list({ query: `WorkflowId = "${retrainingWorkflowId(modelName)}"` })) if (w.startTime >= since) n++;
  return n;
}

async function startMonitoring(policy: Record<string, unknown>): Promise<void> {
  const res = await stack.api('POST', `/v1/models/${modelName}/monitoring`, { policy: { intervalSeconds: 1, windowSeconds: 3600, ...policy } });
  expect(res.status).toBe(202);
  expect(res.body.started).toBe(true);
}

/** Waits for `more` reports after now and checks the cooldown held the trigger back. */
async function expectCooldownHolds(more: number): Promise<void> {
  const from = (await monitorStatus()).reportsThisRun;
  const later = await waitFor(monitorStatus, (s) => s.reportsThisRun >= from + more, 60_000);
  expect(later.retrainBlocked).toMatch(/^cooldown: /);
}

describe('retraining triggers', () => {
  it('live quality below its threshold starts one retrain; the cooldown stops a second', async () => {
    const since = new Date();
    await trafficWithLabels(100, 21);
    // The model is good but not 99% accurate on live labels: a quality finding on every report.
    await startMonitoring({ quality: { minAccuracy: 0.99 }, retrain: { onDrift: false, onQuality: true, cooldownSeconds: 3600, startedBy: 'monitor' } });
    const [started] = await waitFor(() => triggers('quality'), (t) => t.length > 0, 60_000);
    expect(started).toMatchObject({ reasons: ['quality'], outcome: 'started', workflowId: retrainingWorkflowId(modelName) });
    const retrain = await stack.runtime.client.workflow.getHandle(retrainingWorkflowId(modelName)).query(retrainingStatusQuery);
    expect(retrain.reasons).toEqual(['quality']);

    await expectCooldownHolds(3);
    expect(await triggers('quality')).toHaveLength(1);
    expect(await waitFor(() => retrainRuns(since), (n) => n >= 1)).toBe(1);
  });

  it('new labels past the volume start one retrain; more labels inside the cooldown do not start another', async () => {
    const since = new Date();
    await startMonitoring({ quality: {}, retrain: { onDrift: false, onQuality: false, newLabels: 60, cooldownSeconds: 3600, startedBy: 'monitor' } });
    // Labels from before monitoring started do not count: a few reports, no trigger.
    await waitFor(monitorStatus, (s) => s.reportsThisRun >= 2, 60_000);
    expect(await triggers('new_labels')).toEqual([]);

    await trafficWithLabels(75, 22); // >= 60
    const [started] = await waitFor(() => triggers('new_labels'), (t) => t.length > 0, 60_000);
    expect(started).toMatchObject({ reasons: ['new_labels'], outcome: 'started', workflowId: retrainingWorkflowId(modelName) });

    await trafficWithLabels(75, 23); // as many again since that retrain, but within the cooldown
    await expectCooldownHolds(3);
    expect(await triggers('new_labels')).toHaveLength(1);
    expect(await waitFor(() => retrainRuns(since), (n) => n >= 1)).toBe(1);
  });

  it('the Temporal Schedule starts a retrain when it fires, and none while one runs', async () => {
    const since = new Date();
    const res = await stack.api('POST', `/v1/models/${modelName}/monitoring`, { policy: { intervalSeconds: 3600, quality: {}, retrain: { onDrift: false, onQuality: false, newLabels: null, everySeconds: 3600, startedBy: 'monitor' } } });
    expect(res.body.scheduleId).toBe(retrainingScheduleId(modelName));
    const schedule = stack.runtime.client.schedule.getHandle(retrainingScheduleId(modelName));
    const described = await schedule.describe();
    expect(described.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'scheduledRetrainingWorkflow' });

    // A retrain already holds the fixed id (parked on a queue no worker polls, so it stays running however
    // fast a real one would finish): the firing is recorded as already_running and starts nothing.
    const holder = await stack.runtime.client.workflow.start('retrainingWorkflow', {
      workflowId: retrainingWorkflowId(modelName),
      taskQueue: `parked-${modelName}`,
      args: [{ modelName, reasons: ['test'], triggerId: 'test', startedBy: 'test' }],
    });
    // Fire it now rather than in an hour: the same path a timed firing takes.
    await schedule.trigger();
    const [held] = await waitFor(() => triggers('schedule'), (t) => t.length > 0, 60_000);
    expect(held).toMatchObject({ reasons: ['schedule'], outcome: 'already_running', workflowId: retrainingWorkflowId(modelName) });
    expect((await holder.describe()).status.name).toBe('RUNNING');
    await holder.terminate('test: free the id');

    // A scheduled workflow id carries the firing time to the second: fire again in a later second.
    await new Promise((r) => setTimeout(r, 1100));
    await schedule.trigger();
    const both = await waitFor(() => triggers('schedule'), (t) => t.length > 1, 60_000);
    expect(both.map((t) => t.outcome).sort()).toEqual(['already_running', 'started']);
    const retrain = stack.runtime.client.workflow.getHandle(retrainingWorkflowId(modelName));
    expect((await retrain.query(retrainingStatusQuery)).reasons).toEqual(['schedule']);
    expect((await schedule.describe()).info.recentActions).toHaveLength(2);
    // Two executions of the id since the test began: the parked holder and the one retrain the schedule started.
    expect(await waitFor(() => retrainRuns(since), (n) => n >= 2)).toBe(2);

    // Stopping monitoring deletes the schedule.
    await stack.api('DELETE', `/v1/models/${modelName}/monitoring`);
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});
