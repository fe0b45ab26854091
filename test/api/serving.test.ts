// Online scoring through HTTP: prediction ids, the prediction log, Prometheus metrics, and load shedding.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const modelName = `serving-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(300, 3));
  const ds = await stack.api('POST', '/v1/datasets', { name: `serving-${Date.now()}`, uri: csv });
  const run = await stack.api('POST', '/v1/training-runs', {
    modelName,
    datasetVersionId: ds.body.id,
    target: DEMO_DATASET.target,
    features: [...DEMO_DATASET.features],
    startedBy: 'alice',
  });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval');
  const approved = await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'serving test' }, { key: await stack.keyFor('bob', ['approver']) });
  expect(approved.status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.status === 200);
});
afterAll(async () => stack?.stop());

describe('online scoring', () => {
  it('answers each row with a prediction id and logs exactly those rows', async () => {
    const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row, { ...row, income: null }] });
    expect(res.status).toBe(200);
    expect(res.body.arm).toBe('stable');
    const ids = res.body.predictions.map((p: { id: string }) => p.id);
    expect(new Set(ids).size).toBe(2);
    await stack.app.predictionLog.flush();
    const { rows } = await stack.runtime.db.query('select id, version, arm, inputs, outputs from predictions where id = any($1) order by inputs->>$2', [ids, 'income']);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ version: 1, arm: 'stable', inputs: row });
    expect(rows[1].inputs.income).toBeNull();
    expect(rows[0].outputs.label).toBe(res.body.predictions[0].label);
  });

  it('exposes request, latency and queue metrics for Prometheus', async () => {
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`mlcycle_predict_requests_total{model="${modelName}",version="1",arm="stable",outcome="ok"}`);
    expect(text).toMatch(new RegExp(`mlcycle_predict_latency_seconds_count\\{model="${modelName}",version="1",arm="stable"\\} \\d+`));
    expect(text).toContain('mlcycle_prediction_log_queue_depth');
  });

  it('sheds with 503 and Retry-After when the log cannot take more, without losing accepted rows', async () => {
    const log = stack.app.predictionLog;
    const options = log.options as { maxQueue: number };
    const saved = options.maxQueue;
    options.maxQueue = 0;
    try {
      const res = await fetch(`${stack.url}/v1/models/${modelName}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminKey}` },
        body: JSON.stringify({ rows: [row] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      options.maxQueue = saved;
    }
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain('mlcycle_predict_shed_total{reason="prediction_log_full"} 1');
  });
});

describe('missing values', () => {
  it('scores null as missing (imputed), not as zero', async () => {
    const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ ...row, income: null }, { ...row, income: 0 }] });
    expect(res.status).toBe(200);
    const [missing, zero] = res.body.predictions;
    expect(missing.probabilities.yes).not.toBeCloseTo(zero.probabilities.yes, 4);
  });
});
