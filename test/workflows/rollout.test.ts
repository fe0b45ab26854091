// Rollouts through real HTTP, Temporal and Postgres: a canary that rolls back on a planted bad version, a canary
// that completes to 100 % on traffic generated through the predict API, a shadow report, blue-green, a canary
// that continues across a worker restart, the inconclusive policy, and rollouts run by an approved release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureRow, Predictor } from '../../lib/serving/predictor.js';
import { approveUpdate, releaseStatusQuery, releaseWorkflow, releaseWorkflowId } from '../../workflows/release.js';
import { rolloutStatusQuery, rolloutWorkflowId } from '../../workflows/rollout.js';
import { registerCandidate } from '../lib/release/fixtures.js';
import { connectWorker } from '../../workers/temporal-connection.js';
import { createWorkers, workerConfig } from '../../workers/worker.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { trainUntilApproval } from '../setup/demo-training.js';

let stack: Stack;
const modelName = `rollout-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };

const train = (seed: number) => trainUntilApproval(stack, modelName, seed);

/**
 * Calls the predict API (bounded: `concurrency` loops, at most `max` requests, loopback) with varied rows and
 * routing keys until the rollout's workflow is closed. Returns the answers' statuses.
 */
async function traffic(rolloutId: string, max = 4000, concurrency = 4, target = modelName, rowAt: (i: number) => Record<string, number> = (i) => ({ ...row, income: 20 + ((i * 7) % 60), utilization: ((i * 13) % 100) / 100 })): Promise<number[]> {
  const statuses: number[] = [];
  let done = false;
  let sent = 0;
  const handle = stack.runtime.client.workflow.getHandle(rolloutId);
  const closed = handle.result().then(
    () => undefined,
    () => undefined,
  );
  void closed.then(() => (done = true));
  const loop = async (worker: number) => {
    while (!done && sent < max) {
      const i = sent++;
      const res = await stack.api('POST', `/v1/models/${target}/predict`, {
        rows: [rowAt(i)],
        routingKey: `customer-${worker}-${i}`,
      });
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w)));
  await closed;
  return statuses;
}

async function rollout(version: number, options: Record<string, unknown>) {
  const res = await stack.api('POST', '/v1/rollouts', { modelName, version, reason: 'test rollout', rollout: options });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

// Loose on latency (two shared cores) and on the score distribution: the two demo versions are trained on
// different samples and score these rows differently (PSI about 2.5); the planted failure is an error-rate one.
const thresholds = { minRequests: 10, latencyFloorMs: 200, maxScorePsi: 10 };

beforeAll(async () => {
  stack = await startStack();
  const first = await train(3);
  await train(11); // v2: registered, not approved: rolled out through the API
  expect((await stack.api('POST', `/v1/approvals/${first}`, { decision: 'approve', reason: 'v1' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.status === 200);
});
/** Workers started by the restart test, which replace the stack's own for the tests after it. */
let restarted: (() => Promise<void>) | undefined;
afterAll(async () => {
  await restarted?.();
  await stack?.stop();
});

describe('rollouts', () => {
  it('refuses a rollout for an unknown version, a bad step plan, or a key without the role', async () => {
    expect((await stack.api('POST', '/v1/rollouts', { modelName, version: 9, reason: 'x' })).status).toBe(404);
    const bad = await stack.api('POST', '/v1/rollouts', { modelName, version: 2, reason: 'x', rollout: { strategy: 'canary', steps: [50, 20] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('rollout.steps must increase');
    const scorer = await stack.createKey(['scorer']);
    expect((await stack.api('POST', '/v1/rollouts', { modelName, version: 2, reason: 'x' }, { key: scorer })).status).toBe(403);
  });

  it('rolls a canary back automatically when the new version fails: canary removed, stable unchanged, recorded', async () => {
    const predictor = stack.app.predictor as Predictor;
    const original = predictor.score.bind(predictor);
    predictor.score = async (version, rows: FeatureRow[]) => {
      if (version.version === 2) throw new Error('planted failure in v2');
      return original(version, rows);
    };
    try {
      const id = await rollout(2, { strategy: 'canary', steps: [30, 60], stepSeconds: 2, thresholds });
      const statuses = await traffic(id);
      expect(statuses.some((s) => s === 200)).toBe(true);
      const res = await stack.api('GET', `/v1/rollouts/${id}`);
      expect(res.body.workflowStatus).toBe('COMPLETED');
      expect(res.body.result).toMatchObject({ outcome: 'rolled_back', strategy: 'canary' });
      expect(res.body.result.reason).toMatch(/canary failed at 30%.*error rate/);
      expect(res.body.recordedSteps.map((s: any) => [s.kind, s.percent, s.verdict, s.decision])).toEqual([
        ['canary_step', 30, null, 'applied'],
        ['analysis', 30, 'failed', 'rollback'],
        ['rollback', 0, null, 'rollback'],
      ]);
      const analysis = res.body.recordedSteps[1].analysis;
      expect(analysis.checks.find((c: any) => c.name === 'error_rate')).toMatchObject({ passed: false, canary: 1 });
      const dep = await stack.api('GET', `/v1/deployments/${modelName}`);
      expect(dep.body.deployment).toMatchObject({ stableVersion: 1, canaryVersion: null, canaryPercent: 0 });
      expect(dep.body.history[0]).toMatchObject({ source: id, reason: expect.stringContaining('rollback') });
      const model = await stack.api('GET', `/v1/models/${modelName}`);
      expect(JSON.stringify(model.body)).toContain('production');
      expect((await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row], routingKey: 'after' })).body).toMatchObject({ version: 1, arm: 'stable' });
    } finally {
      predictor.score = original;
    }
  });

  it('takes a canary through its steps to 100 % on live traffic, then v2 is stable and @production with v1 warm as fallback', async () => {
    const id = await rollout(2, { strategy: 'canary', steps: [20, 50], stepSeconds: 2, thresholds });
    const handle = stack.runtime.client.workflow.getHandle(id);
    const statuses = await traffic(id);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const status = await handle.query(rolloutStatusQuery);
    expect(status.outcome, JSON.stringify(status.steps.map((s) => s.analysis?.checks ?? s.decision))).toBe('promoted');
    expect(status).toMatchObject({ stage: 'completed', outcome: 'promoted', percent: 100, previousStable: 1 });
    expect(status.steps.map((s) => [s.kind, s.percent, s.verdict, s.decision])).toEqual([
      ['canary_step', 20, null, 'applied'],
      ['analysis', 20, 'successful', 'next'],
      ['canary_step', 50, null, 'applied'],
      ['analysis', 50, 'successful', 'next'],
      ['promote', 100, null, 'promoted'],
    ]);
    const desc = await handle.describe();
    expect(desc.searchAttributes.MlcycleStage).toEqual(['rollout:completed']);
    const dep = await stack.api('GET', `/v1/deployments/${modelName}`);
    expect(dep.body.deployment).toMatchObject({ stableVersion: 2, canaryVersion: null, fallbackVersion: 1 });
    // Newest first; the same id also ran the rolled-back canary above (one rollout id per model version).
    const percents = dep.body.history.slice(0, 3).map((h: any) => [h.source, h.state.stableVersion, h.state.canaryPercent]);
    expect(percents).toEqual([
      [id, 2, 0],
      [id, 1, 50],
      [id, 1, 20],
    ]);
    const alias = await stack.api('GET', `/v1/models/${modelName}/aliases/production/history`);
    expect(JSON.stringify(alias.body)).toContain(id);
    await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.body.version === 2, 5000);
  });

  it('shadows a fraction of traffic for a duration and stores a comparison report without promoting', async () => {
    const id = await rollout(1, { strategy: 'shadow', shadowFraction: 0.5, stepSeconds: 2, thresholds });
    const statuses = await traffic(id);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const res = await stack.api('GET', `/v1/rollouts/${id}`);
    expect(res.body.result).toMatchObject({ outcome: 'shadow_reported', report: { arm: 'shadow', stableVersion: 2, candidateVersion: 1 } });
    expect(res.body.result.report.checks[0]).toMatchObject({ name: 'traffic', passed: true });
    expect(res.body.recordedSteps.map((s: any) => s.kind)).toEqual(['shadow_start', 'shadow_report']);
    expect(res.body.recordedSteps[1].analysis.verdict).toBe(res.body.result.report.verdict);
    const dep = await stack.api('GET', `/v1/deployments/${modelName}`);
    expect(dep.body.deployment).toMatchObject({ stableVersion: 2, shadowVersion: null, shadowFraction: 0 });
  });

  it('switches blue-green at once, keeps the old stable as fallback and moves @production', async () => {
    const id = await rollout(1, { strategy: 'blue-green' });
    await stack.runtime.client.workflow.getHandle(id).result();
    const dep = await stack.api('GET', `/v1/deployments/${modelName}`);
    expect(dep.body.deployment).toMatchObject({ stableVersion: 1, fallbackVersion: 2, canaryVersion: null });
    const model = await stack.api('GET', `/v1/models/${modelName}/aliases/production/history`);
    expect(JSON.stringify(model.body)).toContain(id);
    await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.body.version === 1, 5000);
  });

  it('continues a canary across a worker restart: the workers stop mid-step, new ones finish the rollout', async () => {
    const id = await rollout(2, { strategy: 'canary', steps: [50], stepSeconds: 4, thresholds });
    const handle = stack.runtime.client.workflow.getHandle(id);
    const load = traffic(id);
    await waitFor(() => handle.query(rolloutStatusQuery).catch(() => undefined), (st) => st?.stage === 'canary' && st.steps.length === 1, 20_000);
    stack.workers.shutdown(); // the durable timer keeps running on the server
    await waitFor(async () => stack.workers.orchestration.getState(), (state) => state === 'STOPPED', 20_000);
    const connection = await connectWorker(stack.runtime.temporalAddress);
    const workers = await createWorkers(workerConfig(stack.runtime, connection));
    const running = workers.run();
    restarted = async () => {
      workers.shutdown();
      await running;
      await connection.close();
    };
    {
      const statuses = await load;
      expect(statuses.filter((st) => st !== 200)).toEqual([]);
      const res = await stack.api('GET', `/v1/rollouts/${id}`);
      expect(res.body.result, JSON.stringify(res.body.recordedSteps)).toMatchObject({ outcome: 'promoted' });
      expect(res.body.recordedSteps.map((st: any) => [st.kind, st.percent, st.verdict, st.decision])).toEqual([
        ['canary_step', 50, null, 'applied'],
        ['analysis', 50, 'successful', 'next'],
        ['promote', 100, null, 'promoted'],
      ]);
      expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 2, fallbackVersion: 1, canaryVersion: null });
    }
  });
  it('waits longer while the analysis is inconclusive, then follows the declared policy (rollback)', async () => {
    const id = await rollout(1, { strategy: 'canary', steps: [10], stepSeconds: 1, maxInconclusiveWaits: 1, onInconclusive: 'rollback', thresholds: { minRequests: 1_000_000 } });
    const result = await stack.runtime.client.workflow.getHandle(id).result();
    expect(result).toMatchObject({ outcome: 'rolled_back' });
    expect(result.reason).toMatch(/inconclusive at 10% after 1 extra waits/);
    expect(result.steps.map((st: any) => [st.kind, st.verdict, st.decision])).toEqual([
      ['canary_step', null, 'applied'],
      ['analysis', 'inconclusive', 'wait'],
      ['analysis', 'inconclusive', 'rollback'],
      ['rollback', null, 'rollback'],
    ]);
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 2, canaryVersion: null });
  });
});

describe('rollouts from a release', () => {
  const gated = `rollout-release-${Date.now()}`;
  const GOOD: [number, number] = [1, 0.5];
  async function release(rollout?: Record<string, unknown>) {
    const mv = await registerCandidate({ db: stack.runtime.db, artifacts: stack.runtime.artifacts }, gated, GOOD);
    const handle = await stack.runtime.client.workflow.start(releaseWorkflow, {
      workflowId: releaseWorkflowId(gated, mv.version),
      taskQueue: stack.config.taskQueues.orchestration,
      args: [{ modelName: gated, version: mv.version, trainingRunId: mv.trainingRunId, startedBy: 'alice', rollout: rollout as never }],
    });
    await waitFor(() => handle.query(releaseStatusQuery), (st) => st.stage === 'awaiting_approval');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', reason: 'fine' }] });
    return { mv, handle };
  }

  it('blue-green by default: @production moves (source: the release), no deployment row, served at once', async () => {
    const { handle } = await release();
    const result = await handle.result();
    expect(result).toMatchObject({ approved: true, rollout: { workflowId: rolloutWorkflowId(gated, 1), outcome: 'promoted' } });
    expect((await handle.query(releaseStatusQuery)).stage).toBe('completed');
    expect((await stack.api('GET', `/v1/deployments/${gated}`)).status).toBe(404);
    const { rows } = await stack.runtime.db.query('select version, source from alias_history where model_name = $1', [gated]);
    expect(rows).toEqual([{ version: 1, source: releaseWorkflowId(gated, 1) }]);
    expect((await stack.api('POST', `/v1/models/${gated}/predict`, { rows: [{ a: 1, b: 2 }] })).body).toMatchObject({ version: 1, arm: 'stable' });
  });

  it('runs the release input\'s canary as a child rollout, on live traffic, to 100 %', async () => {
    const { handle } = await release({ strategy: 'canary', steps: [50], stepSeconds: 2, thresholds });
    const rolloutId = rolloutWorkflowId(gated, 2);
    await waitFor(() => stack.runtime.client.workflow.getHandle(rolloutId).describe().catch(() => undefined), (d) => d !== undefined, 20_000);
    const statuses = await traffic(rolloutId, 4000, 4, gated, (i) => ({ a: ((i * 7) % 40) / 10 - 2, b: ((i * 13) % 40) / 10 - 2 }));
    expect(statuses.filter((st) => st !== 200)).toEqual([]);
    const result = await handle.result();
    expect(result.rollout).toMatchObject({ workflowId: rolloutId, outcome: 'promoted' });
    const steps = (await stack.api('GET', `/v1/rollouts/${rolloutId}`)).body.recordedSteps;
    expect(steps.map((st: any) => [st.kind, st.verdict, st.decision])).toEqual([
      ['canary_step', null, 'applied'],
      ['analysis', 'successful', 'next'],
      ['promote', null, 'promoted'],
    ]);
    expect((await stack.api('GET', `/v1/deployments/${gated}`)).body.deployment).toMatchObject({ stableVersion: 2, fallbackVersion: 1 });
  });
});

