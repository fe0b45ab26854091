// Deployment state and routing through HTTP: canary split by routing key, shadow scoring, switches under
// load without failed requests, fallback when the routed version fails or times out, and sha256 refusal.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureRow, Predictor } from '../../lib/serving/predictor.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { trainUntilApproval } from '../setup/demo-training.js';

let stack: Stack;
const modelName = `deploy-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };
const predict = (body: Record<string, unknown>) => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row], ...body });
const put = (body: Record<string, unknown>) => stack.api('PUT', `/v1/deployments/${modelName}`, { reason: 'test', ...body });

const train = (seed: number) => trainUntilApproval(stack, modelName, seed);

/** Waits until this API instance serves `generation` (LISTEN/NOTIFY or the poll), and returns how long it took. */
async function adopted(generation: number): Promise<number> {
  const t0 = Date.now();
  await waitFor(async () => stack.app.deployments.get(modelName)?.generation ?? 0, (g) => g >= generation, 5000);
  return Date.now() - t0;
}

beforeAll(async () => {
  stack = await startStack();
  const first = await train(3);
  await train(11); // v2: registered, awaiting approval, deployable as canary/shadow
  expect((await stack.api('POST', `/v1/approvals/${first}`, { decision: 'approve', reason: 'v1' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => predict({}), (r) => r.status === 200);
});
afterAll(async () => stack?.stop());

describe('deployments', () => {
  it('serves @production when a model has no deployment', async () => {
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).status).toBe(404);
    const res = await predict({});
    expect(res.body).toMatchObject({ version: 1, arm: 'stable', alias: 'production', fallback: null });
  });

  it('rejects a deployment naming a version that does not exist', async () => {
    const res = await put({ stableVersion: 9 });
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('no version 9');
  });

  it('splits traffic by routing key within a second of the change, and one key sticks to one arm', async () => {
    const res = await put({ stableVersion: 1, canary: { version: 2, percent: 50 } });
    expect(res.status).toBe(200);
    expect(await adopted(res.body.deployment.generation)).toBeLessThan(1000);
    const keys = Array.from({ length: 60 }, (_, i) => `customer-${i}`);
    const first = await Promise.all(keys.map((k) => predict({ routingKey: k })));
    const again = await Promise.all(keys.map((k) => predict({ routingKey: k })));
    expect(first.every((r) => r.status === 200)).toBe(true);
    expect(again.map((r) => [r.body.arm, r.body.version])).toEqual(first.map((r) => [r.body.arm, r.body.version]));
    const canary = first.filter((r) => r.body.arm === 'canary');
    expect(canary.length).toBeGreaterThan(10);
    expect(canary.length).toBeLessThan(50);
    expect(canary.every((r) => r.body.version === 2 && r.body.alias === 'canary')).toBe(true);
    expect(first.filter((r) => r.body.arm === 'stable').every((r) => r.body.version === 1)).toBe(true);
  });

  it('keeps listening after its LISTEN connection is killed (real Postgres only)', async (ctx) => {
    const { rows } = await stack.runtime.db.query<{ version: string }>('select version()');
    if (rows[0].version.includes('PGlite')) return ctx.skip(); // no NOTIFY across connections there: polled every 250 ms
    const killed = await stack.runtime.db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %'`,
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 800)); // the watcher reconnects after 500 ms
    const res = await put({ canary: { version: 2, percent: 40 } });
    expect(await adopted(res.body.deployment.generation)).toBeLessThan(1000);
    const again = await stack.runtime.db.query(`select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen %'`);
    expect(again.rowCount).toBe(1);
  });

  it('scores the shadow version and logs it with its request id, but never returns it', async () => {
    const res = await put({ canary: null, shadow: { version: 2, fraction: 1 } });
    await adopted(res.body.deployment.generation);
    const answer = await predict({});
    expect(answer.body).toMatchObject({ version: 1, arm: 'stable' });
    await stack.app.serving.drain();
    await stack.app.predictionLog.flush();
    const { rows } = await stack.runtime.db.query('select version, arm, status from predictions where request_id = $1 order by arm', [answer.body.requestId]);
    expect(rows).toEqual([
      { version: 2, arm: 'shadow', status: 'ok' },
      { version: 1, arm: 'stable', status: 'ok' },
    ]);
  });

  it('records every change in the deployment history', async () => {
    const res = await stack.api('GET', `/v1/deployments/${modelName}`);
    expect(res.status).toBe(200);
    expect(res.body.deployment).toMatchObject({ stableVersion: 1, shadowVersion: 2, shadowFraction: 1, canaryVersion: null });
    expect(res.body.history[0].state.canaryPercent).toBe(0);
    expect(res.body.history.at(-1).state.canaryPercent).toBe(50);
  });

  it('switches stable back and forth under concurrent load without failing a request', async () => {
    await put({ shadow: null });
    let stop = false;
    const answers: Array<{ status: number; version: number }> = [];
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await predict({});
        answers.push({ status: r.status, version: r.body.version });
      }
    });
    for (const v of [2, 1, 2, 1]) {
      const res = await put({ stableVersion: v });
      await adopted(res.body.deployment.generation);
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await Promise.all(load);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([1, 2]));
  });

  it('answers from the fallback (previous stable) when the routed version fails or times out, and flags it', async () => {
    const res = await put({ stableVersion: 2 }); // fallback becomes v1, the previous stable
    expect(res.body.deployment).toMatchObject({ stableVersion: 2, fallbackVersion: 1 });
    await adopted(res.body.deployment.generation);
    const predictor = stack.app.predictor as Predictor;
    const original = predictor.score.bind(predictor);
    let mode: 'error' | 'hang' = 'error';
    predictor.score = async (version, rows: FeatureRow[]) => {
      if (version.version !== 2) return original(version, rows);
      if (mode === 'error') throw new Error('planted failure');
      return new Promise(() => {});
    };
    const options = stack.app.serving.options as { timeoutMs: number };
    const savedTimeout = options.timeoutMs;
    try {
      const failed = await predict({});
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ version: 1, arm: 'stable', fallback: { fromVersion: 2, reason: 'error', to: 'version' } });
      mode = 'hang';
      options.timeoutMs = 50;
      const slow = await predict({});
      expect(slow.body).toMatchObject({ version: 1, fallback: { fromVersion: 2, reason: 'timeout' } });
      await stack.app.predictionLog.flush();
      const { rows } = await stack.runtime.db.query('select version, status from predictions where request_id = $1 order by status', [failed.body.requestId]);
      expect(rows).toEqual([
        { version: 2, status: 'error' },
        { version: 1, status: 'fallback' },
      ]);
    } finally {
      predictor.score = original;
      options.timeoutMs = savedTimeout;
    }
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain(`mlcycle_predict_fallbacks_total{model="${modelName}",version="2",reason="error",to="version"} 1`);
    expect(metrics).toContain(`mlcycle_predict_fallbacks_total{model="${modelName}",version="2",reason="timeout",to="version"} 1`);
    expect(metrics).toMatch(new RegExp(`mlcycle_predict_batch_rows_count\\{model="${modelName}"\\} \\d+`));
  });

  it('never adopts a deployment whose version fails its sha256 check; the previous state keeps serving', async () => {
    await put({ stableVersion: 1 });
    const sha = (await stack.runtime.db.query('select sha256 from model_versions where model_name = $1 and version = 2', [modelName])).rows[0].sha256 as string;
    // A fresh process would verify the bytes on load: drop the cached session, then corrupt the artifact.
    const { app } = stack;
    await app.predictor.close();
    const file = path.join(stack.config.artifactDir, 'sha256', sha.slice(0, 2), sha);
    const saved = await readFile(file).catch(() => null);
    if (!saved) return expect.fail(`cannot find the artifact of v2 at ${file}`);
    try {
      await writeFile(file, Buffer.concat([saved, Buffer.from('tampered')]));
      const res = await put({ canary: { version: 2, percent: 100 } });
      await new Promise((r) => setTimeout(r, 1200));
      expect(app.deployments.get(modelName)?.generation).toBeLessThan(res.body.deployment.generation);
      const answer = await predict({ routingKey: 'anyone' });
      expect(answer.body).toMatchObject({ version: 1, arm: 'stable' });
    } finally {
      await writeFile(file, saved);
    }
    await put({ canary: null });
  });

  it('keeps @production on what is served: a hand move elsewhere is refused naming the routes that switch, a stable switch moves it', async () => {
    const current = (await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment.stableVersion as number;
    const other = current === 1 ? 2 : 1;
    const refused = await stack.api('PUT', `/v1/models/${modelName}/aliases/production`, { version: other, reason: 'by hand' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain(`is served by its deployment (stable v${current})`);
    expect(refused.body.error).toContain('POST /v1/rollouts');
    expect(refused.body.error).toContain(`PUT /v1/deployments/${modelName}`);
    expect((await predict({ routingKey: 'after-refusal' })).body.version).toBe(current);
    // Other aliases are the registry's business only.
    expect((await stack.api('PUT', `/v1/models/${modelName}/aliases/challenger`, { version: other, reason: 'to compare' })).status).toBe(200);

    const switched = await put({ stableVersion: other, reason: 'switch by deployment' });
    expect(switched.status).toBe(200);
    const history = await stack.api('GET', `/v1/models/${modelName}/aliases/production/history`);
    expect(history.body.history[0]).toMatchObject({ version: other, previousVersion: current, source: 'deployment', reason: 'switch by deployment' });
    // Pointing @production where the deployment already serves is allowed (and records nothing new).
    const same = await stack.api('PUT', `/v1/models/${modelName}/aliases/production`, { version: other, reason: 'bookkeeping' });
    expect(same.body).toMatchObject({ changed: false });
    await adopted(switched.body.deployment.generation);
    expect((await predict({ routingKey: 'after-switch' })).body.version).toBe(other);
  });
});
