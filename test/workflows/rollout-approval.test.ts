// Rollouts on the real dev server, Postgres and HTTP: a canary that waits for approval before its last step
// (refused deciders, a Signal from the Temporal CLI side, a rejection that rolls back, an approval that
// promotes), and a canary rolled back on live quality once feedback labels arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decidePromotionSignal, rolloutStatusQuery } from '../../workflows/rollout.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { trainUntilApproval } from '../setup/demo-training.js';

let stack: Stack;
const modelName = `rollout-approval-${Date.now()}`;
const row = { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 };
// Loose on latency (two shared cores) and on the score distribution (the two versions are trained on different samples).
const thresholds = { minRequests: 10, latencyFloorMs: 200, maxScorePsi: 10 };

const train = (seed: number) => trainUntilApproval(stack, modelName, seed);

async function rollout(version: number, options: Record<string, unknown>): Promise<string> {
  const res = await stack.api('POST', '/v1/rollouts', { modelName, version, reason: 'approval test', rollout: options });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/**
 * Bounded predict traffic (loopback, `concurrency` loops, at most `max` requests) until `until` holds for the
 * rollout's status; `onAnswer` sees each answer (e.g. to send feedback).
 */
async function traffic(id: string, until: (stage: string, closed: boolean) => boolean, onAnswer?: (body: any) => Promise<void>, max = 3000, concurrency = 3): Promise<void> {
  let sent = 0;
  let done = false;
  const handle = stack.runtime.client.workflow.getHandle(id);
  const watch = (async () => {
    while (!done) {
      const d = await handle.describe();
      const closed = d.status.name !== 'RUNNING';
      const stage = closed ? '' : (await handle.query(rolloutStatusQuery)).stage;
      if (until(stage, closed)) done = true;
      else await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const loop = async (w: number) => {
    while (!done && sent < max) {
      const i = sent++;
      const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ ...row, income: 20 + ((i * 7) % 60), utilization: ((i * 13) % 100) / 100 }], routingKey: `c-${w}-${i}` });
      if (res.status === 200 && onAnswer) await onAnswer(res.body);
    }
  };
  await Promise.all([watch, ...Array.from({ length: concurrency }, (_, w) => loop(w))]);
  done = true;
}

const decide = async (id: string, who: string, decision: 'approve' | 'reject', reason = `${decision} by ${who}`) =>
  stack.api('POST', `/v1/rollouts/${id}/decision`, { decision, reason }, { key: await stack.keyFor(who, ['approver']) });

beforeAll(async () => {
  stack = await startStack();
  const first = await train(3);
  await train(11); // v2: registered, rolled out through the API
  expect((await stack.api('POST', `/v1/approvals/${first}`, { decision: 'approve', reason: 'v1' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [row] }), (r) => r.status === 200);
});
afterAll(async () => stack?.stop());

describe('promotion approval', () => {
  it('refuses an approval plan on a strategy other than canary', async () => {
    const res = await stack.api('POST', '/v1/rollouts', { modelName, version: 2, reason: 'x', rollout: { strategy: 'shadow', approval: {} } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('rollout.approval applies to the canary strategy only');
  });

  it('waits before the last step; refuses deciders not on the list and bad Signals; a rejection rolls back', async () => {
    const id = await rollout(2, { strategy: 'canary', steps: [50], stepSeconds: 2, thresholds, approval: { approvers: ['carol', 'dave'] } });
    expect((await decide(id, 'carol', 'approve')).status).toBe(409); // nothing awaits a decision yet
    await traffic(id, (stage, closed) => stage === 'awaiting_approval' || closed);
    const status = await stack.api('GET', `/v1/rollouts/${id}`);
    expect(status.body.status).toMatchObject({ stage: 'awaiting_approval', percent: 50, approval: { approvers: ['carol', 'dave'], refusedDecisions: [] } });
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 1, canaryVersion: 2, canaryPercent: 50 });

    const starter = await stack.api('POST', `/v1/rollouts/${id}/decision`, { decision: 'approve', reason: 'my own' }); // the admin key started it
    expect(starter.status).toBe(403);
    expect(starter.body.error).toContain('admin started this rollout and may not approve its promotion');
    const outsider = await decide(id, 'erin', 'approve');
    expect(outsider.status).toBe(403);
    expect(outsider.body.error).toContain('erin is not an approver for this model; allowed: carol, dave');
    const impersonation = await stack.api('POST', `/v1/rollouts/${id}/decision`, { decision: 'approve', reason: 'x', approver: 'carol' }, { key: await stack.keyFor('erin', ['approver']) });
    expect(impersonation.status).toBe(403);
    const handle = stack.runtime.client.workflow.getHandle(id);
    await handle.signal(decidePromotionSignal, { decision: 'approve', approver: 'mallory', reason: 'from the CLI' });
    await waitFor(() => handle.query(rolloutStatusQuery), (s) => (s.approval?.refusedDecisions.length ?? 0) === 1, 10_000);

    const rejected = await decide(id, 'carol', 'reject', 'the business is not ready');
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ approver: 'carol', approved: false, via: 'update', reason: 'the business is not ready' });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'promotion rejected by carol: the business is not ready' });
    const after = await stack.api('GET', `/v1/rollouts/${id}`);
    expect(after.body.recordedSteps.map((s: any) => [s.kind, s.decision])).toEqual([
      ['canary_step', 'applied'],
      ['analysis', 'next'],
      ['approval', 'rejected'],
      ['rollback', 'rollback'],
    ]);
    const { rows } = await stack.runtime.db.query(`select approval from rollout_steps where rollout_id = $1 and kind = 'approval'`, [id]);
    expect(rows[0].approval).toMatchObject({ approver: 'carol', approved: false, via: 'update' });
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 1, canaryVersion: null });
    expect((await decide(id, 'dave', 'approve')).status).toBe(409); // finished
  });

  it('rolls back when nobody decides before the deadline, recorded as the deadline\'s decision', async () => {
    const id = await rollout(2, { strategy: 'canary', steps: [50], stepSeconds: 2, thresholds, approval: { deadlineSeconds: 1 } });
    await traffic(id, (_stage, closed) => closed);
    const result = await stack.runtime.client.workflow.getHandle(id).result();
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'promotion not decided in time: No decision within 1 s; the canary is rolled back.' });
    const steps = (await stack.api('GET', `/v1/rollouts/${id}`)).body.recordedSteps;
    expect(steps.find((s: any) => s.kind === 'approval')).toMatchObject({ decision: 'rejected', approval: { approver: 'mlcycle:deadline', approved: false, via: 'deadline' } });
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 1, canaryVersion: null });
  });

  it('promotes once an approver on the list approves, and records who', async () => {
    const id = await rollout(2, { strategy: 'canary', steps: [50], stepSeconds: 2, thresholds, approval: { approvers: ['carol', 'dave'] } });
    await traffic(id, (stage, closed) => stage === 'awaiting_approval' || closed);
    const approved = await decide(id, 'dave', 'approve', 'canary looks good');
    expect(approved.status).toBe(200);
    const result = await stack.runtime.client.workflow.getHandle(id).result();
    expect(result.outcome).toBe('promoted');
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 2, canaryVersion: null, fallbackVersion: 1 });
    const history = await stack.api('GET', `/v1/models/${modelName}/aliases/production/history`);
    expect(history.body.history[0]).toMatchObject({ version: 2, actor: 'admin' });
    const steps = (await stack.api('GET', `/v1/rollouts/${id}`)).body.recordedSteps;
    expect(steps.find((s: any) => s.kind === 'approval')).toMatchObject({ decision: 'approved', approval: { approver: 'dave', approved: true } });
  });
});

describe('live quality in the canary analysis', () => {
  it('rolls a canary back when feedback labels show it less accurate than stable', async () => {
    // v2 is stable now; v1 goes out as the canary. Labels agree with stable's answers and contradict the canary's.
    const id = await rollout(1, { strategy: 'canary', steps: [50], stepSeconds: 5, thresholds: { ...thresholds, maxAccuracyDrop: 0.05 } });
    let labelled = 0;
    await traffic(
      id,
      (_stage, closed) => closed,
      async (body) => {
        const p = body.predictions[0];
        const label = body.arm === 'stable' ? p.label : p.label === 'yes' ? 'no' : 'yes';
        const fb = await stack.api('POST', '/v1/feedback', { predictionId: p.id, label });
        if (fb.status === 200) labelled++;
      },
    );
    expect(labelled).toBeGreaterThan(60);
    const res = await stack.api('GET', `/v1/rollouts/${id}`);
    expect(res.body.result).toMatchObject({ outcome: 'rolled_back' });
    expect(res.body.result.reason).toMatch(/canary failed at 50%: canary live accuracy 0\.0% vs stable 100\.0%/);
    const analysis = res.body.recordedSteps.find((s: any) => s.kind === 'analysis').analysis;
    const quality = analysis.checks.find((c: any) => c.name === 'live_quality');
    expect(quality).toMatchObject({ passed: false, stable: 1, canary: 0 });
    // Everything else passed: it is the labels that stopped it.
    expect(analysis.checks.filter((c: any) => !c.passed).map((c: any) => c.name)).toEqual(['live_quality']);
    expect((await stack.api('GET', `/v1/deployments/${modelName}`)).body.deployment).toMatchObject({ stableVersion: 2, canaryVersion: null });
  });
});
