// Release gates against the real dev server: a passing candidate is put to an approver with its report, a failing
// one ends in gates_failed without asking anyone, the champion comparison, declared gates, and the registry API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveUpdate, releaseStatusQuery, releaseWorkflow, releaseWorkflowId } from '../../workflows/index.js';
import { registerCandidate } from '../lib/release/fixtures.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { saveHistory } from '../setup/histories.js';

let stack: Stack;
const model = `gated-${Date.now()}`;
const GOOD: [number, number] = [1, 0.5];
const BAD: [number, number] = [-1, -0.5];

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

async function release(modelName: string, coefficients: [number, number], options: { evaluation?: boolean } = {}) {
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  const mv = await registerCandidate(deps, modelName, coefficients, options);
  const handle = await stack.runtime.client.workflow.start(releaseWorkflow, {
    workflowId: releaseWorkflowId(modelName, mv.version),
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ modelName, version: mv.version, trainingRunId: mv.trainingRunId, startedBy: 'alice' }],
  });
  return { mv, handle };
}

describe('release gates', () => {
  it('evaluates a good candidate, stores its report and only then asks for approval', async () => {
    const { handle } = await release(model, GOOD);
    const status = await waitFor(() => handle.query(releaseStatusQuery), (s) => s.stage !== 'evaluating');
    expect(status.stage).toBe('awaiting_approval');
    expect(status.gates).toMatchObject({ passed: true, failed: 0, championVersion: null, reportPath: `/v1/models/${model}/versions/1/report` });
    expect(status.gates!.gates.map((g) => g.kind)).toEqual(['metric', 'baseline', 'champion', 'robustness', 'latency', 'size']);
    expect(status.gates!.gates.find((g) => g.kind === 'champion')!.summary).toContain('no production version');

    const pending = await waitFor(
      () => stack.api('GET', '/v1/approvals'),
      (r) => r.body.pending.some((p: { workflowId: string }) => p.workflowId === handle.workflowId),
      15_000,
    );
    const item = pending.body.pending.find((p: { workflowId: string }) => p.workflowId === handle.workflowId);
    expect(item).toMatchObject({ reportUrl: `/v1/models/${model}/versions/1/report`, gates: { passed: true, total: 6, failed: 0 } });

    expect((await fetch(stack.url + item.reportUrl)).status).toBe(401);
    const report = await fetch(stack.url + item.reportUrl, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toContain('text/html');
    const html = await report.text();
    expect(html).toContain('All gates passed');
    for (const id of ['gates', 'roc-curve', 'pr-curve', 'calibration', 'confusion-matrix', 'feature-importance', 'lineage']) expect(html).toContain(`id="${id}"`);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', reason: 'gates and report fine' }] });
    const result = await handle.result();
    expect(result).toMatchObject({ approved: true, gates: { passed: true } });
    await saveHistory('release-gated', handle.workflowId, await handle.fetchHistory());
  });

  it('ends a candidate worse than production in gates_failed, with the report, without asking for approval', async () => {
    const { handle, mv } = await release(model, BAD);
    const result = await handle.result();
    expect(result.approved).toBe(false);
    expect(result.decision).toMatchObject({ approver: 'mlcycle:gates', via: 'gates' });
    expect(result.decision.reason).toContain('roc_auc not worse than production');
    const status = await handle.query(releaseStatusQuery);
    expect(status.stage).toBe('gates_failed');
    expect(status.gates).toMatchObject({ passed: false, championVersion: 1 });
    const failed = status.gates!.gates.filter((g) => !g.passed).map((g) => g.kind);
    expect(failed).toEqual(expect.arrayContaining(['metric', 'baseline', 'champion']));

    const { rows } = await stack.runtime.db.query('select approved, approver, via from release_decisions where release_id = $1', [handle.workflowId]);
    expect(rows).toEqual([{ approved: false, approver: 'mlcycle:gates', via: 'gates' }]);
    const run = await stack.runtime.db.query('select status from training_runs where id = $1', [mv.trainingRunId]);
    expect(run.rows[0].status).toBe('gates_failed');
    const production = await stack.runtime.db.query(`select version from model_aliases where model_name = $1 and alias = 'production'`, [model]);
    expect(production.rows).toEqual([{ version: 1 }]);

    const { body: html } = await stack.api('GET', `/v1/models/${model}/versions/${mv.version}/report`);
    expect(html).toContain('Gates failed');
    expect(html).toContain('not worse than production');
    await saveHistory('release-gates-failed', handle.workflowId, await handle.fetchHistory());
  });

  it('runs the gates declared for the model: slice gaps by a group column, latency and size budgets', async () => {
    const name = `declared-${Date.now()}`;
    const bad = await stack.api('PUT', `/v1/models/${name}/gates`, { config: { slices: [{ column: 'segment', metric: 'auc', maxGap: 0.1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('unknown metric "auc"');
    const set = await stack.api('PUT', `/v1/models/${name}/gates`, {
      config: {
        slices: [{ column: 'segment', metric: 'accuracy', maxGap: 0.5, minRows: 50 }],
        latency: { maxP99Ms: 0.000001 },
        size: { maxBytes: 10 },
      },
    });
    expect(set.status).toBe(200);
    expect((await stack.api('GET', `/v1/models/${name}/gates`)).body).toMatchObject({ declared: true, config: { size: { maxBytes: 10 } } });

    const { handle } = await release(name, GOOD);
    const result = await handle.result();
    expect(result.approved).toBe(false);
    const gates = result.gates!.gates;
    expect(gates.map((g) => [g.kind, g.passed])).toEqual([
      ['slice', true],
      ['latency', false],
      ['size', false],
    ]);
    expect(gates[0].summary).toMatch(/segment = [xy]/);
    const evaluation = await stack.api('GET', `/v1/models/${name}/versions/1/evaluation`);
    expect(evaluation.body.gateReport.gates[0].details.groups).toHaveLength(2);
  });

  it('ends the release when the version has no evaluation set, saying why', async () => {
    const name = `noeval-${Date.now()}`;
    const { handle } = await release(name, GOOD, { evaluation: false });
    const result = await handle.result();
    expect(result.approved).toBe(false);
    expect(result.gates).toBeUndefined();
    const status = await handle.query(releaseStatusQuery);
    expect(status.stage).toBe('gates_failed');
    expect(status.evaluationError).toContain('has no evaluation set');
    expect(result.decision.reason).toContain('could not be evaluated');
  });
});
