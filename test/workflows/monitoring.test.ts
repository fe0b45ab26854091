// The monitoring workflow against the real dev server and Postgres: it continues as new after
// `reportsPerRun` reports, carrying its state (last report, alert and retrain cooldowns, counters) into the
// next run; and the SLOs of a report count what serving actually did for a model served at @production
// without a deployment row (failed rows, default answers), not shadow copies.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../cli/simulate.js';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { computeAndStoreReport, listReports } from '../../lib/monitoring/report.js';
import type { Predictor } from '../../lib/serving/predictor.js';
import { monitoringStatusQuery, monitoringWorkflowId } from '../../workflows/monitoring.js';
import { retrainingWorkflowId } from '../../workflows/retraining.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const modelName = `monitor-${Date.now()}`;
const row = { income: 50, debt_ratio: 0.3, age: 40, late_payments: 0, utilization: 0.4 };

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(1000, 9));
  const ds = await stack.api('POST', '/v1/datasets', { name: `monitor-${Date.now()}`, uri: csv });
  const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: ds.body.id, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice' });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval', 120_000);
  expect((await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'monitoring tests' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.status === 200);
}, 240_000);

afterAll(async () => {
  await stack?.api('DELETE', `/v1/models/${modelName}/monitoring`).catch(() => {});
  await stack?.runtime.client.workflow.getHandle(retrainingWorkflowId(modelName)).terminate('test done').catch(() => {});
  await stack?.stop();
});

describe('monitoringWorkflow', () => {
  it('continues as new every reportsPerRun reports and carries the last report and its cooldowns across runs', async () => {
    const traffic = await simulate({ apiUrl: stack.url, model: modelName, requests: 4, rowsPerRequest: 25, shiftAfter: 1000, feedbackDelayMs: 0, seed: 31, headers: { authorization: `Bearer ${stack.adminKey}` } });
    // A request refused under load (503) is simply not labelled; 30 labelled rows are enough for live quality.
    expect(traffic.feedbackAccepted).toBe(traffic.predictions);
    expect(traffic.predictions).toBeGreaterThanOrEqual(50);
    await stack.app.predictionLog.flush();
    // Every report breaches the quality threshold: the first one alerts and retrains, the rest are held back
    // by the alert and retrain cooldowns, which only hold across runs if the state carries them.
    const policy = {
      intervalSeconds: 1,
      reportsPerRun: 2,
      quality: { minAccuracy: 0.99 },
      alertCooldownSeconds: 3600,
      retrain: { onDrift: false, onQuality: true, cooldownSeconds: 3600, startedBy: 'monitor' },
    };
    expect((await stack.api('POST', `/v1/models/${modelName}/monitoring`, { policy })).status).toBe(202);
    const handle = stack.runtime.client.workflow.getHandle(monitoringWorkflowId(modelName));
    const firstRunId = (await handle.describe()).runId;

    // Three runs: 2 + 2 reports, then the third run's first report.
    const status = await waitFor(() => handle.query(monitoringStatusQuery), (s) => s.state.totalReports >= 5, 90_000);
    expect(status.reportsThisRun).toBeLessThanOrEqual(2);
    expect((await stack.runtime.client.workflow.getHandle(monitoringWorkflowId(modelName), firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
    const continued = async () => {
      let n = 0;
      for await (const w of stack.runtime.client.workflow.list({ query: `WorkflowId = "${monitoringWorkflowId(modelName)}"` })) if (w.status.name === 'CONTINUED_AS_NEW') n++;
      return n;
    };
    // Visibility lags the runs a little.
    await waitFor(continued, (n) => n >= 2, 30_000);

    // One quality alert and one retrain over every run; the later reports were suppressed and blocked.
    const { rows: alerts } = await stack.runtime.db.query("select id from monitoring_alerts where model_name = $1 and kind = 'quality'", [modelName]);
    expect(alerts).toHaveLength(1);
    expect(status.state.alerts[`${modelName}:quality:accuracy`]).toMatchObject({ severity: 'critical' });
    expect(status.state.alertsSuppressed).toBeGreaterThanOrEqual(4);
    expect(status.state.lastRetrainAtMs).not.toBeNull();
    expect(status.retrainBlocked).toMatch(/^cooldown: /);
    const { rows: retrains } = await stack.runtime.db.query("select outcome from retraining_triggers where model_name = $1", [modelName]);
    expect(retrains).toEqual([{ outcome: 'started' }]);

    // The last report travels in the state: the status query of any run shows the newest stored report.
    const [latest] = await listReports(stack.runtime.db, modelName, 1, false);
    const now = await handle.query(monitoringStatusQuery);
    expect(now.state.lastReport?.reportId).toBe(latest.id);
    expect(now.latest?.reportId).toBe(latest.id);

    expect((await stack.api('DELETE', `/v1/models/${modelName}/monitoring`)).body.stopped).toBe(true);
    const final = await handle.result();
    expect(final.totalReports).toBeGreaterThanOrEqual(5);
  }, 150_000);
});

describe('SLOs', () => {
  it('count failed rows and default answers of a model served at @production without a deployment row', async () => {
    const { rows: deployments } = await stack.runtime.db.query('select 1 from deployments where model_name = $1', [modelName]);
    expect(deployments).toEqual([]);
    expect((await stack.api('PUT', `/v1/models/${modelName}/serving-config`, { config: { defaultAnswer: { label: 'no' } } })).status).toBe(200);
    const start = new Date(Date.now() - 1);
    const predict = () => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: Array.from({ length: 10 }, () => row) });
    for (let i = 0; i < 3; i++) expect((await predict()).status).toBe(200);

    const predictor = stack.app.predictor as Predictor;
    const original = predictor.score.bind(predictor);
    predictor.score = async () => {
      throw new Error('planted failure');
    };
    try {
      const failed = await predict();
      expect(failed.status).toBe(200);
      expect(failed.body.fallback).toMatchObject({ reason: 'error', to: 'default' });
    } finally {
      predictor.score = original;
    }
    await stack.app.predictionLog.flush();

    const summary = await computeAndStoreReport(stack.runtime, modelName, new Date());
    const [stored] = await listReports(stack.runtime.db, modelName, 1, false);
    expect(stored.id).toBe(summary.reportId);
    const slo = stored.report.slo!;
    // 40 rows were asked for since `start`; earlier traffic (the first test's) is in the hour-long window too.
    const { rows: counts } = await stack.runtime.db.query<{ status: string; n: string }>('select status, count(*) as n from predictions where model_name = $1 and at >= $2 group by 1 order by 1', [modelName, start]);
    expect(counts.map((c) => [c.status, Number(c.n)])).toEqual([['default', 10], ['error', 10], ['ok', 30]]);
    const { rows: before } = await stack.runtime.db.query<{ n: string }>("select count(*) as n from predictions where model_name = $1 and at < $2 and at >= $3 and status = 'ok'", [modelName, start, new Date(Date.now() - 3_600_000)]);
    const requests = 40 + Number(before[0].n);
    expect(slo.requests).toBe(requests);
    expect(slo.errorRate).toBeCloseTo(10 / requests, 12);
    expect(slo.fallbackRate).toBeCloseTo(10 / requests, 12);
    expect(summary.findings.map((f) => `${f.kind}:${f.subject}`)).toEqual(expect.arrayContaining(['slo:error_rate', 'slo:fallback_rate']));
  });
});
