// The monitoring loop over real HTTP, Temporal and Postgres: feedback (per-item outcomes), a monitoring
// workflow on short intervals, drift after the simulator shifts its inputs, a webhook alert, and the
// retraining it starts (prediction log + feedback -> a new dataset version -> training -> approval), whose
// version the policy's rollout carries through canary steps (live traffic and labels) to production.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../cli/simulate.js';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let hook: Server;
let hookUrl: string;
const received: any[] = [];
const modelName = `loop-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };
let datasetId: string;

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(1500, 5));
  const ds = await stack.api('POST', '/v1/datasets', { name: `loop-${Date.now()}`, uri: csv });
  datasetId = ds.body.id;
  const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: datasetId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice' });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval');
  expect((await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'loop test' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.status === 200);
}, 180_000);

afterAll(async () => {
  await stack?.api('DELETE', `/v1/models/${modelName}/monitoring`).catch(() => {});
  await stack?.stop();
  hook?.close();
});

async function predictIds(n: number): Promise<string[]> {
  const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: Array.from({ length: n }, () => row) });
  expect(res.status).toBe(200);
  return res.body.predictions.map((p: { id: string }) => p.id);
}

describe('feedback', () => {
  it('stores a label for a prediction id answered moments ago, and counts a replacement (the latest wins)', async () => {
    const [id] = await predictIds(1);
    const first = await stack.api('POST', '/v1/feedback', { predictionId: id, label: 'no' });
    expect(first.status).toBe(200);
    expect(first.body.items[0]).toMatchObject({ status: 200, outcome: 'accepted', modelName, version: 1 });
    const second = await stack.api('POST', '/v1/feedback', { predictionId: id, label: 'yes' });
    expect(second.body).toMatchObject({ accepted: 1, replaced: 1 });
    expect(second.body.items[0]).toMatchObject({ outcome: 'replaced', previousLabel: 'no' });
    const { rows } = await stack.runtime.db.query('select label, updates from prediction_feedback where prediction_id = $1', [id]);
    expect(rows[0]).toEqual({ label: 'yes', updates: 1 });
  });

  it('answers a batch per item: unknown ids 404, wrong label types 400, the rest stored', async () => {
    const [a, b] = await predictIds(2);
    const res = await stack.api('POST', '/v1/feedback', {
      items: [
        { predictionId: a, label: 'yes' },
        { predictionId: '00000000-0000-4000-8000-000000000000', label: 'yes' },
        { predictionId: 'not-a-uuid', label: 'no' },
        { predictionId: b, label: 1 },
        { predictionId: a, label: 'no' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, replaced: 1, rejected: 3 });
    expect(res.body.items.map((i: { status: number }) => i.status)).toEqual([200, 404, 404, 400, 200]);
    expect(res.body.items[3].error).toMatch(/not one of the model's classes/);
    const { rows } = await stack.runtime.db.query('select prediction_id::text as id, label, updates from prediction_feedback where prediction_id = any($1::uuid[])', [[a, b]]);
    expect(rows).toEqual([{ id: a, label: 'no', updates: 1 }]);
  });

  it('refuses a single unknown id with 404, a wrong label type with 400, and a non-scalar label at the schema', async () => {
    const [id] = await predictIds(1);
    const unknown = await stack.api('POST', '/v1/feedback', { predictionId: '00000000-0000-4000-8000-000000000001', label: 'yes' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NotFoundError');
    const wrong = await stack.api('POST', '/v1/feedback', { predictionId: id, label: true });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatch(/boolean/);
    expect((await stack.api('POST', '/v1/feedback', { predictionId: id, label: { x: 1 } })).status).toBe(400);
    expect((await stack.api('POST', '/v1/feedback', { items: [] })).status).toBe(400);
  });
});

describe('rollout options', () => {
  it('are checked where they are given: a training run and a retrain policy refuse a bad rollout with 400 naming it', async () => {
    const start = (rollout: unknown) => stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: datasetId, target: DEMO_DATASET.target, rollout });
    const decreasing = await start({ strategy: 'canary', steps: [50, 20] });
    expect(decreasing.status).toBe(400);
    expect(decreasing.body.error).toMatch(/rollout\.steps must increase/);
    expect((await start({ strategy: 'canary', step: [10] })).status).toBe(400);
    expect((await start({ strategy: 'linear' })).status).toBe(400);
    const policy = await stack.api('POST', `/v1/models/${modelName}/monitoring`, { policy: { retrain: { rollout: { strategy: 'shadow', approval: {} } } } });
    expect(policy.status).toBe(400);
    expect(policy.body.error).toMatch(/retrain\.rollout\.approval applies to the canary strategy only/);
    const { rows } = await stack.runtime.db.query('select 1 from monitoring_policies where model_name = $1', [modelName]);
    expect(rows).toEqual([]);
  });
});

describe('the loop', () => {
  it('reports, detects drift after the shift, alerts once to the webhook, and starts one retrain on prediction log + feedback', async () => {
    // Traffic from the training distribution first: a report on it must not read as drift.
    const before = await simulate({ apiUrl: stack.url, model: modelName, requests: 24, rowsPerRequest: 25, shiftAfter: 1000, feedbackDelayMs: 0, seed: 3, headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(before.firstFailure).toBeUndefined();
    await stack.app.predictionLog.flush();
    const policy = {
      intervalSeconds: 1,
      windowSeconds: 3600,
      alertWebhook: hookUrl,
      alertCooldownSeconds: 3600,
      quality: { minAccuracy: 0.2 },
      retrain: {
        onDrift: true,
        onQuality: false,
        cooldownSeconds: 3600,
        startedBy: 'monitor',
        // The retrained model is meant to score shifted traffic differently, so the score-distribution check is
        // loose; live accuracy on the canary's labels is what must hold.
        rollout: { strategy: 'canary', steps: [20, 50], stepSeconds: 3, maxInconclusiveWaits: 10, thresholds: { minRequests: 20, maxScorePsi: 5, maxAccuracyDrop: 0.15 } },
      },
    };
    const started = await stack.api('POST', `/v1/models/${modelName}/monitoring`, { policy });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ workflowId: `monitor-${modelName}`, started: true });
    const again = await stack.api('POST', `/v1/models/${modelName}/monitoring`, {});
    expect(again.body.started).toBe(false);

    const calm = await waitFor(() => stack.api('GET', `/v1/models/${modelName}/monitoring`), (r) => r.body.latest?.report?.windowRows >= 600, 60_000);
    expect(calm.body.latest.report.drift.status).toBe('ok');
    expect(calm.body.latest.report.profile.source).toBe('dataset');
    expect(calm.body.latest.report.quality.labelledRows).toBeGreaterThanOrEqual(600);
    expect(calm.body.latest.report.quality.accuracy).toBeGreaterThan(0.5);
    expect(calm.body.latest.report.slo.requests).toBeGreaterThan(600);
    expect(received).toEqual([]);
    const { rows: profiles } = await stack.runtime.db.query('select source from model_profiles where model_name = $1 and version = 1', [modelName]);
    expect(profiles).toEqual([{ source: 'dataset' }]);

    // Now the shift: incomes fall, utilization and late payments rise.
    const after = await simulate({ apiUrl: stack.url, model: modelName, requests: 40, rowsPerRequest: 25, shiftAfter: 0, shift: 1.5, feedbackDelayMs: 200, seed: 4, headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(after.shiftedPredictions).toBe(1000);
    expect(after.feedbackAccepted).toBe(1000);
    await stack.app.predictionLog.flush();

    const drifted = await waitFor(() => stack.api('GET', `/v1/models/${modelName}/monitoring`), (r) => r.body.latest?.report?.drift?.status === 'drift', 60_000);
    const verdict = drifted.body.latest.report.drift;
    expect(verdict.numbers.drifted).toContain('income');
    expect(verdict.numbers.drifted).not.toContain('age');
    await waitFor(async () => received.length, (n) => n >= 1, 30_000);
    const alert = received[0];
    expect(alert).toMatchObject({ event: 'monitoring.alert', model: modelName, version: 1, kind: 'drift', severity: 'critical', dedupKey: `${modelName}:drift:drift` });
    expect(alert.summary).toMatch(/income/);

    // The retrain: one workflow under the fixed id, a new dataset version whose parent is the training set.
    const trigger = await waitFor(() => stack.api('GET', `/v1/models/${modelName}/monitoring`), (r) => r.body.retrainTriggers?.some((t: { outcome: string }) => t.outcome === 'started'), 30_000);
    const startedTrigger = trigger.body.retrainTriggers.find((t: { outcome: string }) => t.outcome === 'started');
    expect(startedTrigger).toMatchObject({ reasons: ['drift'], workflowId: `retrain-${modelName}` });
    const { rows: lineage } = await waitFor(
      () => stack.runtime.db.query('select dataset_version_id, parent_dataset_version_id, labelled_rows from feedback_datasets where model_name = $1', [modelName]),
      (r) => r.rows.length > 0,
      60_000,
    );
    expect(lineage[0].parent_dataset_version_id).toBe(datasetId);
    expect(Number(lineage[0].labelled_rows)).toBeGreaterThanOrEqual(1600);
    const newDataset = await stack.api('GET', `/v1/datasets/${encodeURIComponent(lineage[0].dataset_version_id)}`);
    expect(newDataset.body.lineage.parentIds).toEqual([datasetId]);
    expect(newDataset.body.rowCount).toBe(1500 + Number(lineage[0].labelled_rows));

    // Later reports in the cooldown neither alert again nor start a second retrain.
    const settled = await waitFor(() => stack.api('GET', `/v1/models/${modelName}/monitoring`), (r) => r.body.workflow?.state?.state?.alertsSuppressed >= 2, 30_000);
    expect(received.filter((a) => a.kind === 'drift')).toHaveLength(1);
    expect(settled.body.retrainTriggers.filter((t: { outcome: string }) => t.outcome === 'started')).toHaveLength(1);
    const alerts = await stack.api('GET', `/v1/alerts?model=${modelName}`);
    expect(alerts.body.alerts.filter((a: { kind: string }) => a.kind === 'drift')).toHaveLength(1);
    expect(alerts.body.alerts[0].deliveredAt).not.toBeNull();

    // The retrain's training run reaches approval; approving it puts v2 in production.
    const trainingRunId = await waitFor(
      async () => (await stack.runtime.client.workflow.getHandle(`retrain-${modelName}`).query('status').catch(() => undefined)) as { trainingRunId?: string } | undefined,
      (s) => s?.trainingRunId !== undefined,
      60_000,
    );
    const runId = trainingRunId!.trainingRunId!;
    await waitFor(() => stack.api('GET', `/v1/training-runs/${runId}`), (r) => r.body.release?.stage === 'awaiting_approval', 120_000);
    expect((await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: 'retrained on drifted traffic' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);

    // The approved v2 goes through the policy's canary: shifted traffic with labels keeps flowing until v2 is @production.
    const during = await simulate({ apiUrl: stack.url, model: modelName, requests: 1500, rowsPerRequest: 10, shiftAfter: 0, shift: 1.5, feedbackDelayMs: 0, paceMs: 50, untilVersion: 2, seed: 5, headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(during.firstFailure).toBeUndefined();
    expect(during.reachedVersion).toBe(true);
    const rollout = await stack.api('GET', `/v1/rollouts/rollout-${modelName}-v2`);
    expect(rollout.body.result).toMatchObject({ strategy: 'canary', outcome: 'promoted' });
    const steps = rollout.body.recordedSteps.map((s: { kind: string; percent: number | null; verdict: string | null; decision: string }) => ({ kind: s.kind, percent: s.percent, verdict: s.verdict, decision: s.decision }));
    expect(steps.filter((s: { kind: string }) => s.kind === 'canary_step').map((s: { percent: number }) => s.percent)).toEqual([20, 50]);
    expect(steps.filter((s: { kind: string; decision: string }) => s.kind === 'analysis' && s.decision === 'next').map((s: { percent: number }) => s.percent)).toEqual([20, 50]);
    expect(steps.at(-1)).toMatchObject({ kind: 'promote', percent: 100, decision: 'promoted' });
    // Both arms answered during the canary.
    const { rows: arms } = await stack.runtime.db.query<{ arm: string; version: number }>('select distinct arm, version from predictions where model_name = $1 and arm in ($2, $3)', [modelName, 'stable', 'canary']);
    expect(arms).toEqual(expect.arrayContaining([{ arm: 'stable', version: 1 }, { arm: 'canary', version: 2 }]));

    const stopped = await stack.api('DELETE', `/v1/models/${modelName}/monitoring`);
    expect(stopped.body.stopped).toBe(true);
  }, 420_000);
});
