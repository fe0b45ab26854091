// The thin lifecycle end to end through HTTP: CSV -> dataset -> training -> ONNX parity -> registry ->
// approval Update -> production alias -> online scoring. Real Temporal, Postgres, onnxruntime, HTTP.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { WORKFLOWS_PATH } from '../../workers/plugins.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { saveHistory } from '../setup/histories.js';

let stack: Stack;
let csvPath: string;
const modelName = `credit-${Date.now()}`;

beforeAll(async () => {
  stack = await startStack();
  csvPath = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csvPath, creditCsv(600, 11));
});
afterAll(async () => stack?.stop());

describe('lifecycle through the API', () => {
  let datasetId: string;
  let runId: string;

  it('ingests a CSV into a content-addressed dataset version, once', async () => {
    const first = await stack.api('POST', '/v1/datasets', { name: `credit-${Date.now()}`, uri: csvPath });
    expect(first.status).toBe(201);
    expect(first.body.rowCount).toBe(600);
    expect(first.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.columns.find((c: { name: string }) => c.name === 'defaulted').type).toBe('utf8');
    datasetId = first.body.id;
    const again = await stack.api('POST', '/v1/datasets', { name: first.body.name, uri: `file://${csvPath}` });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: datasetId, version: first.body.version, created: false });
  });

  it('answers 400 with the reason for a missing or malformed CSV', async () => {
    const missing = await stack.api('POST', '/v1/datasets', { name: 'nope', uri: path.join(stack.tmpDir, 'missing.csv') });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain('not found');
    const bad = path.join(stack.tmpDir, 'bad.csv');
    await writeFile(bad, 'a,b\n1,2\n3,4,5\n');
    const malformed = await stack.api('POST', '/v1/datasets', { name: 'bad', uri: bad });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/line 3/i);
    const relative = await stack.api('POST', '/v1/datasets', { name: 'rel', uri: 'data.csv' });
    expect(relative.status).toBe(400);
    const noName = await stack.api('POST', '/v1/datasets', { uri: csvPath });
    expect(noName.status).toBe(400);
  });

  it('rejects a training request that names unknown columns or datasets', async () => {
    const badTarget = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: datasetId, target: 'nope' });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error).toContain('nope');
    const badDataset = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: 'x@0', target: 'defaulted' });
    expect(badDataset.status).toBe(400);
    // unknown training field: refused, not silently dropped
    const typo = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: datasetId, target: 'defaulted', featurs: ['age'] });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toContain('additional properties');
  });

  it('trains, checks ONNX parity, registers and waits for approval', async () => {
    const started = await stack.api('POST', '/v1/training-runs', {
      modelName,
      datasetVersionId: datasetId,
      target: DEMO_DATASET.target,
      features: [...DEMO_DATASET.features],
      startedBy: 'alice',
    });
    expect(started.status).toBe(202);
    runId = started.body.id;
    const status = await waitFor(
      () => stack.api('GET', `/v1/training-runs/${runId}`),
      (r) => r.body.release?.stage === 'awaiting_approval' || r.body.workflowStatus !== 'RUNNING',
    );
    expect(status.body.stage).toBe('releasing');
    expect(status.body.release.workflowId).toBe(`release-${modelName}-v1`);
    expect(status.body.version).toBe(1);
    expect(status.body.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(status.body.metrics.accuracy).toBeGreaterThan(0.6);

    const pending = await waitFor(
      () => stack.api('GET', '/v1/approvals'),
      (r) => r.body.pending.some((p: { trainingRunId: string }) => p.trainingRunId === runId),
      15_000,
    );
    expect(pending.body.pending.find((p: { trainingRunId: string }) => p.trainingRunId === runId)).toMatchObject({
      workflowId: `release-${modelName}-v1`,
      version: 1,
      metrics: { accuracy: expect.any(Number), roc_auc: expect.any(Number) },
    });
  });

  it('does not serve a model before approval', async () => {
    const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ income: 1 }] });
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('@production');
  });

  it('validates decisions: 400 for missing fields, 404 for unknown runs', async () => {
    const noReason = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: '' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(noReason.status).toBe(400);
    const blankReason = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: '   ' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(blankReason.status).toBe(400);
    expect(blankReason.body.error).toContain('reason');
    const unknown = await stack.api('POST', '/v1/approvals/no-such-run', { decision: 'approve', reason: 'ok' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(unknown.status).toBe(404);
    const self = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: 'my own' }, { key: await stack.keyFor('alice', ['approver']) });
    expect(self.status).toBe(403);
    expect(self.body.error).toContain('started this training run');
  });

  it('approves through the Update, sets @production, and then answers 409 to a second decision', async () => {
    const approved = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'approve', reason: 'metrics fine' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ approver: 'bob', approved: true, reason: 'metrics fine', via: 'update' });
    const again = await stack.api('POST', `/v1/approvals/${runId}`, { decision: 'reject', reason: 'late' }, { key: await stack.keyFor('carol', ['approver']) });
    expect(again.status).toBe(409);

    const result = await stack.runtime.client.workflow.getHandle(runId).result();
    expect(result).toMatchObject({ modelName, version: 1, release: { approved: true } });
    const { rows } = await stack.runtime.db.query('select version, actor, reason, source from alias_history where model_name = $1', [modelName]);
    expect(rows).toEqual([{ version: 1, actor: 'bob', reason: 'metrics fine', source: `release-${modelName}-v1` }]);
  });

  it('scores JSON rows with onnxruntime on the production version', async () => {
    const res = await stack.api('POST', `/v1/models/${modelName}/predict`, {
      rows: [
        { income: 20, debt_ratio: 0.9, age: 22, late_payments: 4, utilization: 0.95 },
        { income: 120, debt_ratio: 0.05, age: 60, late_payments: 0, utilization: 0.05 },
        { income: null, debt_ratio: 0.3, age: 40, late_payments: 0, utilization: 0.3 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect(res.body.alias).toBe('production');
    const [risky, safe, missing] = res.body.predictions;
    expect(risky.label).toBe('yes');
    expect(safe.label).toBe('no');
    expect(risky.probabilities.yes + risky.probabilities.no).toBeCloseTo(1, 5);
    expect(Number.isFinite(missing.probabilities.yes)).toBe(true);
  });

  it('answers 400 for rows that do not fit the signature and 404 for unknown models', async () => {
    const bad = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ income: 'lots' }] });
    expect(bad.status).toBe(400);
    const partial = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [{ income: 1 }] });
    expect(partial.status).toBe(400);
    expect(partial.body.error).toContain('missing feature "debt_ratio"');
    const unknown = await stack.api('POST', '/v1/models/no-such-model/predict', { rows: [{ a: 1 }] });
    expect(unknown.status).toBe(404);
  });

  it('replays the recorded history with the current workflow code', async () => {
    const history = await stack.runtime.client.workflow.getHandle(runId).fetchHistory();
    await saveHistory('training-approved', runId, history);
    const release = await stack.runtime.client.workflow.getHandle(`release-${modelName}-v1`).fetchHistory();
    await saveHistory('release-approved', `release-${modelName}-v1`, release);
    const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, [
      { workflowId: runId, history },
      { workflowId: `release-${modelName}-v1`, history: release },
    ]);
    for await (const r of results) expect(r.error).toBeUndefined();
  });

  it('gives the version its lineage: dataset, training run, decision, code and environment', async () => {
    const res = await stack.api('GET', `/v1/models/${modelName}/versions/1`);
    expect(res.status).toBe(200);
    expect(res.body.dataset.id).toBe(datasetId);
    expect(res.body.featureViews).toEqual([]);
    expect(res.body.trainingRun).toMatchObject({ id: runId, startedBy: 'alice' });
    expect(res.body.decision).toMatchObject({ approved: true, approver: 'bob' });
    expect(res.body.environment.code.version).toBe('0.1.0');
    expect(res.body.environment.packages['onnxruntime-node']).toMatch(/^\d+\.\d+/);
    expect(res.body.environment.machine.node).toBe(process.version);
  });

  it('makes the run findable in the Web UI by model, version and stage', async () => {
    const query = `WorkflowType = 'trainingWorkflow' AND MlcycleModel = '${modelName}' AND MlcycleVersion = 1 AND MlcycleStage = 'completed'`;
    const ids = await waitFor(
      async () => {
        const found: string[] = [];
        for await (const wf of stack.runtime.client.workflow.list({ query })) found.push(wf.workflowId);
        return found;
      },
      (found) => found.length > 0,
      15_000,
    );
    expect(ids).toEqual([runId]);
    const description = await stack.runtime.client.workflow.getHandle(runId).describe();
    expect(await description.staticSummary()).toContain(modelName);
  });

  it('reports health of Postgres and Temporal', async () => {
    const res = await stack.api('GET', '/health');
    expect(res.body).toEqual({ status: 'ok', postgres: 'ok', temporal: 'ok' });
  });
});

describe('OpenAPI', () => {
  it('documents every route with its request and error schemas', async () => {
    const res = await stack.api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    for (const route of ['/health', '/v1/datasets/', '/v1/training-runs/', '/v1/training-runs/{id}', '/v1/approvals/{workflowId}', '/v1/models/{name}/predict']) {
      expect(Object.keys(paths)).toContain(route);
    }
    expect(paths['/v1/approvals/{workflowId}'].post.responses).toHaveProperty('409');
    expect(paths['/v1/models/{name}/predict'].post.requestBody).toBeDefined();
  });
});
