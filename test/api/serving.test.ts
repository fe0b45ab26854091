// Online scoring through HTTP: prediction ids, the prediction log, Prometheus metrics, load shedding, the
// body limit, features from the online store by entity id, post-processing, and the declared default answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../lib/data/datasets.js';
import { DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { datasetSource, entity, featureView } from '../../lib/features/declaration.js';
import { materializeFeatureView } from '../../lib/features/online.js';
import type { FeatureRow, Predictor } from '../../lib/serving/predictor.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { trainUntilApproval } from '../setup/demo-training.js';

let stack: Stack;
const modelName = `serving-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };

beforeAll(async () => {
  stack = await startStack();
  const runId = await trainUntilApproval(stack, modelName, 3);
  const approved = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: 'serving test' }, { key: await stack.keyFor('bob', ['approver']) });
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

  it('micro-batches concurrent requests and gives each exactly its own rows, in the answer and the log', async () => {
    // Distinct rows (income tells them apart), one to three per request, sent at once so they share scoring calls.
    const requests = Array.from({ length: 24 }, (_, r) => Array.from({ length: 1 + (r % 3) }, (_, i) => ({ ...row, income: 10 + r * 10 + i, late_payments: r % 5 })));
    const alone = await Promise.all(requests.slice(0, 3).map((rows) => stack.api('POST', `/v1/models/${modelName}/predict`, { rows })));
    const batchCalls = async () =>
      (await stack.app.metrics.batchSize.get()).values.find((v) => v.metricName === 'mlcycle_predict_batch_rows_count' && v.labels.model === modelName)?.value ?? 0;
    const callsBefore = await batchCalls();
    // Hold every request just before it reaches the batcher until all have arrived, so they meet there at once
    // whatever the HTTP timing: the first finds the version idle and is scored alone, the rest share the next call.
    const predictor = stack.app.predictor;
    const load = predictor.load.bind(predictor);
    let held = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    predictor.load = async (v) => {
      const session = await load(v);
      if (held < requests.length) {
        held++;
        await gate;
      }
      return session;
    };
    let answers;
    try {
      const sent = requests.map((rows) => stack.api('POST', `/v1/models/${modelName}/predict`, { rows }));
      await waitFor(async () => held, (n) => n === requests.length);
      release();
      answers = await Promise.all(sent);
    } finally {
      predictor.load = load;
    }
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect((await batchCalls()) - callsBefore).toBe(2);
    // Scored together or alone, a request gets the same answer for its rows.
    for (let r = 0; r < 3; r++) {
      expect(answers[r].body.predictions.map((p: { probabilities: unknown }) => p.probabilities)).toEqual(alone[r].body.predictions.map((p: { probabilities: unknown }) => p.probabilities));
    }
    await stack.app.predictionLog.flush();
    for (const [r, answer] of answers.entries()) {
      expect(answer.body.predictions).toHaveLength(requests[r].length);
      const { rows: logged } = await stack.runtime.db.query('select id, inputs, outputs from predictions where request_id = $1', [answer.body.requestId]);
      const byId = new Map(logged.map((l) => [l.id, l]));
      expect(byId.size).toBe(requests[r].length);
      answer.body.predictions.forEach((p: { id: string; label: string; probabilities: Record<string, number> }, i: number) => {
        expect(byId.get(p.id)?.inputs).toEqual(requests[r][i]);
        expect(byId.get(p.id)?.outputs).toMatchObject({ label: p.label });
      });
    }
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

const predict = (body: Record<string, unknown>) => stack.api('POST', `/v1/models/${modelName}/predict`, body);
const putConfig = (config: unknown) => stack.api('PUT', `/v1/models/${modelName}/serving-config`, { config });

describe('bad input', () => {
  it('refuses a body over the scoring limit with 413 naming the limit, and keeps serving', async () => {
    const huge = { rows: [{ ...row, note: 'x'.repeat(5 * 1024 * 1024) }] };
    const res = await predict(huge);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'PayloadTooLarge' });
    expect(res.body.error).toContain(`limit of ${4 * 1024 * 1024} bytes`);
    expect((await predict({ rows: [row] })).status).toBe(200);
  });
});

describe('features from the online store by entity id', () => {
  const tag = Date.now().toString(36);
  const viewName = `credit_profile_${tag}`;
  const now = Date.now();
  // c1 is fresh, c2 was last seen 3 days ago (TTL 1 day: expired), c3 was never seen (missing).
  const c1 = { income: 61.5, debt_ratio: 0.22, age: 47, late_payments: 0, utilization: 0.31 };
  const c2 = { income: 30, debt_ratio: 0.9, age: 23, late_payments: 4, utilization: 0.95 };
  const ts = (ms: number) => new Date(ms).toISOString();
  const probabilitiesOf = async (r: Record<string, unknown>) => (await predict({ rows: [r] })).body.predictions[0].probabilities;

  beforeAll(async () => {
    const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
    const source = `credit-profiles-${tag}`;
    const values = [
      `('c1'::text, '${ts(now - 2 * 3_600_000)}'::timestamptz, ${c1.income}::float8, ${c1.debt_ratio}::float8, ${c1.age}::float8, ${c1.late_payments}::float8, ${c1.utilization}::float8)`,
      `('c2'::text, '${ts(now - 3 * 86_400_000)}'::timestamptz, ${c2.income}::float8, ${c2.debt_ratio}::float8, ${c2.age}::float8, ${c2.late_payments}::float8, ${c2.utilization}::float8)`,
    ];
    await ingestDataset(deps, {
      name: source,
      sourceUri: 'postgres:default',
      query: `select * from (values ${values.join(', ')}) as t(customer_id, event_time, income, debt_ratio, age, late_payments, utilization) order by customer_id`,
    });
    const view = featureView({
      name: viewName,
      description: 'Latest credit application values per customer',
      owner: 'risk-team',
      tags: {},
      entity: entity({ name: 'customer', joinKey: 'customer_id' }),
      source: datasetSource({ dataset: source, eventTime: 'event_time' }),
      features: DEMO_DATASET.features.map((f) => ({ kind: 'value' as const, name: f, column: f })),
      ttlSeconds: 86_400,
    });
    expect((await stack.api('POST', '/v1/feature-views', view)).status).toBe(201);
    // What the materialize activity does, into the store this API reads.
    const materialized = await materializeFeatureView({ ...deps, onlineStore: stack.app.onlineStore }, { view: viewName, runId: `serving-${tag}` });
    expect(materialized.entitiesUpserted).toBe(2);
  });

  it('refuses a config naming an unknown view, then declares one', async () => {
    const bad = await putConfig({ features: { views: [`nope_${tag}`], onMissing: 'reject' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/features\.views: Feature view "nope_.*" is not registered/);
    const ok = await putConfig({ features: { views: [viewName], onMissing: 'reject' } });
    expect(ok.status).toBe(200);
    expect((await stack.api('GET', `/v1/models/${modelName}/serving-config`)).body).toMatchObject({ declared: true, config: { features: { views: [viewName] } } });
  });

  it('scores a row that names only an entity id as the same row sent with its stored values, and logs those values', async () => {
    const res = await predict({ rows: [{ customer_id: 'c1' }] });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].entities).toEqual([{ view: viewName, entityId: 'c1', status: 'present' }]);
    expect(res.body.predictions[0].probabilities).toEqual(await probabilitiesOf(c1));
    await stack.app.predictionLog.flush();
    const { rows } = await stack.runtime.db.query('select inputs from predictions where id = $1', [res.body.predictions[0].id]);
    expect(rows[0].inputs).toEqual(c1);
  });

  it('lets request-time values override the stored ones', async () => {
    const res = await predict({ rows: [{ customer_id: 'c1', income: 12, utilization: null }] });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].probabilities).toEqual(await probabilitiesOf({ ...c1, income: 12, utilization: null }));
    expect(res.body.predictions[0].probabilities).not.toEqual(await probabilitiesOf(c1));
  });

  it('with onMissing "reject", answers 400 naming the entity, view and features of an expired or unknown entity', async () => {
    const expired = await predict({ rows: [{ customer_id: 'c1' }, { customer_id: 'c2' }] });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toContain(`row 1: entity customer_id="c2" has no value in feature view ${viewName} (expired: older than the view's TTL of 86400 s) for income, debt_ratio, age, late_payments, utilization`);
    const missing = await predict({ rows: [{ customer_id: 'c3' }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain(`row 0: entity customer_id="c3" has no value in feature view ${viewName} (missing: never materialized)`);
    // Every feature sent in the row: nothing is needed from the store.
    expect((await predict({ rows: [{ customer_id: 'c3', ...row }] })).status).toBe(200);
  });

  it('with onMissing "impute", scores an expired or unknown entity with its features missing, as the signature imputes them', async () => {
    expect((await putConfig({ features: { views: [viewName], onMissing: 'impute' } })).status).toBe(200);
    const res = await predict({ rows: [{ customer_id: 'c2' }, { customer_id: 'c3', age: 30 }] });
    expect(res.status).toBe(200);
    expect(res.body.predictions.map((p: { entities: unknown[] }) => p.entities)).toEqual([
      [{ view: viewName, entityId: 'c2', status: 'expired' }],
      [{ view: viewName, entityId: 'c3', status: 'missing' }],
    ]);
    const allMissing = Object.fromEntries(DEMO_DATASET.features.map((f) => [f, null]));
    expect(res.body.predictions[0].probabilities).toEqual(await probabilitiesOf(allMissing));
    expect(res.body.predictions[1].probabilities).toEqual(await probabilitiesOf({ ...allMissing, age: 30 }));
  });

  it('routes by the entity when no routing key is given, and refuses a non-scalar entity id', async () => {
    const bad = await predict({ rows: [{ customer_id: 1.5 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('customer_id names an entity of feature view');
    // An id Postgres cannot hold is the client's error, not the online store lookup's 500.
    const nul = await predict({ rows: [{ customer_id: 'c1\u0000' }] });
    expect(nul.status).toBe(400);
    expect(nul.body.error).toContain(`row 0: customer_id names an entity of feature view ${viewName} and must be a string without U+0000 or unpaired UTF-16 surrogates`);
    const served = await predict({ rows: [{ customer_id: 'c1' }] });
    expect(served.status).toBe(200);
    expect((await putConfig(null)).status).toBe(200);
    const unknownKey = await predict({ rows: [{ customer_id: 'c1' }] });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error).toContain('unknown feature "customer_id"');
  });
});

describe('post-processing', () => {
  afterAll(async () => {
    await putConfig(null);
  });

  it('refuses rules that do not fit the model, naming the field', async () => {
    const notAClass = await putConfig({ postprocess: { threshold: { positiveClass: 'maybe', value: 0.5 } } });
    expect(notAClass.status).toBe(400);
    expect(notAClass.body.error).toContain('postprocess.threshold.positiveClass "maybe" is not a class');
    const clamp = await putConfig({ postprocess: { clamp: { max: 1 } } });
    expect(clamp.status).toBe(400);
    expect(clamp.body.error).toContain('postprocess.clamp needs a regressor');
  });

  it('applies a threshold then a label map after onnxruntime, and shows both labels in the answer and the log', async () => {
    const rules = { threshold: { positiveClass: 'yes', value: 0.1 }, labelMap: { yes: 'decline', no: 'approve' } };
    expect((await putConfig({ postprocess: rules })).status).toBe(200);
    const rows = [row, { ...row, income: 120, late_payments: 0, utilization: 0.05, debt_ratio: 0.1 }, { ...row, income: 70, late_payments: 0, utilization: 0.3 }];
    const res = await predict({ rows });
    expect(res.status).toBe(200);
    expect(res.body.postprocess).toEqual(rules);
    for (const p of res.body.predictions as Array<{ label: string; modelLabel: string; probabilities: Record<string, number> }>) {
      expect(p.modelLabel).toBe(p.probabilities.yes >= p.probabilities.no ? 'yes' : 'no');
      expect(p.label).toBe(p.probabilities.yes >= 0.1 ? 'decline' : 'approve');
    }
    // The rule changes some answer: the model's own argmax would have said otherwise.
    expect(res.body.predictions.some((p: { label: string; modelLabel: string }) => (p.modelLabel === 'yes') !== (p.label === 'decline'))).toBe(true);
    await stack.app.predictionLog.flush();
    const logged = await stack.runtime.db.query('select outputs from predictions where id = $1', [res.body.predictions[0].id]);
    expect(logged.rows[0].outputs).toMatchObject({ label: res.body.predictions[0].label, modelLabel: res.body.predictions[0].modelLabel });
  });
});

describe('declared default answer', () => {
  const plant = (mode: 'error' | 'hang') => {
    const predictor = stack.app.predictor as Predictor;
    const original = predictor.score.bind(predictor);
    predictor.score = async (version, rows: FeatureRow[]) => {
      if (mode === 'error') throw new Error('planted session failure');
      return new Promise(() => {});
    };
    return () => {
      predictor.score = original;
    };
  };

  it('answers the default, flagged, when the model fails or exceeds its timeout; logs and counts it', async () => {
    expect((await putConfig({ defaultAnswer: { label: 'no', probabilities: { no: 0.8, yes: 0.2 } } })).status).toBe(200);
    const options = stack.app.serving.options as { timeoutMs: number };
    const savedTimeout = options.timeoutMs;
    let restore = plant('error');
    try {
      const failed = await predict({ rows: [row, row] });
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ version: 1, arm: 'stable', fallback: { fromVersion: 1, reason: 'error', to: 'default' } });
      expect(failed.body.predictions.map((p: { label: string; probabilities: unknown }) => [p.label, p.probabilities])).toEqual([
        ['no', { no: 0.8, yes: 0.2 }],
        ['no', { no: 0.8, yes: 0.2 }],
      ]);
      restore();
      restore = plant('hang');
      options.timeoutMs = 50;
      const slow = await predict({ rows: [row] });
      expect(slow.status).toBe(200);
      expect(slow.body.fallback).toEqual({ fromVersion: 1, reason: 'timeout', to: 'default' });
      await stack.app.predictionLog.flush();
      const { rows } = await stack.runtime.db.query('select version, status, outputs from predictions where request_id = $1 order by status, id', [failed.body.requestId]);
      expect(rows.map((r) => [r.version, r.status])).toEqual([
        [1, 'default'],
        [1, 'default'],
        [1, 'error'],
        [1, 'error'],
      ]);
      expect(rows[2].outputs.error).toContain('planted session failure');
    } finally {
      restore();
      options.timeoutMs = savedTimeout;
    }
    // A caller's mistake is not the model's failure: no default answer for it.
    const badRow = await predict({ rows: [{ ...row, income: 'lots' }] });
    expect(badRow.status).toBe(400);
    expect(badRow.body.error).toContain('feature "income" must be a finite number or null');
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain(`mlcycle_predict_fallbacks_total{model="${modelName}",version="1",reason="error",to="default"} 1`);
    expect(metrics).toContain(`mlcycle_predict_fallbacks_total{model="${modelName}",version="1",reason="timeout",to="default"} 1`);
    expect(metrics).toContain(`mlcycle_predict_requests_total{model="${modelName}",version="1",arm="stable",outcome="default"} 2`);
  });

  it('without a default answer, a failing model is a 500 and a slow one a 504', async () => {
    expect((await putConfig(null)).status).toBe(200);
    const restore = plant('error');
    try {
      const res = await predict({ rows: [row] });
      expect(res.status).toBe(500);
      expect(res.body.error).not.toContain('planted');
    } finally {
      restore();
    }
  });

  it('refuses a default label that is not a class of the model', async () => {
    const res = await putConfig({ defaultAnswer: { label: 'perhaps' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('defaultAnswer.label "perhaps" is not a class');
  });
});
