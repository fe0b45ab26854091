// Batch scoring against the real dev server and Postgres: the scored artifact agrees with online predictions
// row for row, and an attempt that dies after N batches is retried from batch N (heartbeat details and the
// committed parts), giving the same result bytes as an uninterrupted run.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchScoringTestHooks, type BatchScoringHeartbeat } from '../../activities/batch-scoring.js';
import { loadDatasetTable } from '../../lib/data/datasets.js';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { batchScoringWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let datasetVersionId: string;
let dataset: Table;
const modelName = `batch-${Date.now()}`;
const features = [...DEMO_DATASET.features];

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(1000, 21));
  const ds = await stack.api('POST', '/v1/datasets', { name: `batch-${Date.now()}`, uri: csv });
  expect(ds.status).toBe(201);
  datasetVersionId = ds.body.id;
  dataset = (await loadDatasetTable(stack.runtime, datasetVersionId)).table;
  const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId, target: DEMO_DATASET.target, features, startedBy: 'alice' });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval' || r.body.workflowStatus === 'FAILED');
  expect((await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'batch test' }, { key: await stack.keyFor('bob', ['approver']) })).status).toBe(200);
  await waitFor(() => stack.api('GET', `/v1/models/${modelName}`), (r) => r.body.versions?.some((v: { version: number; aliases: string[] }) => v.version === 1 && v.aliases.includes('production')));
});
afterAll(async () => stack?.stop());
afterEach(() => {
  delete batchScoringTestHooks.onStart;
  delete batchScoringTestHooks.afterBatch;
});

async function readResult(uri: string): Promise<Table> {
  return tableFromIPC(await stack.runtime.artifacts.get(uri));
}

describe('batch scoring through the API', () => {
  it('scores a dataset version in batches; predictions equal online predictions for the same rows', async () => {
    const start = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, keyColumns: ['id'], batchRows: 128 });
    expect(start.status).toBe(202);
    expect(start.body.version).toBe(1);
    const done = await waitFor(() => stack.api('GET', start.body.statusUrl), (r) => r.body.status === 'completed' || r.body.status === 'failed');
    const n = dataset.numRows;
    expect(done.body).toMatchObject({ status: 'completed', workflowStatus: 'COMPLETED', version: 1, alias: null, rows: n, batches: Math.ceil(n / 128), batchesDone: Math.ceil(n / 128) });
    expect(done.body.resultUri).toMatch(/^artifact:\/\/sha256\//);

    const result = await readResult(done.body.resultUri);
    expect(result.numRows).toBe(n);
    expect(result.schema.fields.map((f) => f.name)).toEqual(['row_index', 'id', 'label', 'probability_no', 'probability_yes']);
    const rowIndex = result.getChild('row_index')!;
    const ids = result.getChild('id')!;
    for (let i = 0; i < n; i++) {
      expect(rowIndex.get(i)).toBe(i);
      expect(ids.get(i)).toBe(dataset.getChild('id')!.get(i));
    }

    // Every row (several online requests: the predict route takes up to 1000 rows).
    const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(features.map((f) => [f, dataset.getChild(f)!.get(i) as number | null])));
    const online: Array<{ label: string; probabilities: Record<string, number> }> = [];
    for (let i = 0; i < n; i += 500) {
      const res = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: rows.slice(i, i + 500) });
      expect(res.status).toBe(200);
      online.push(...res.body.predictions);
    }
    expect(rows.some((r) => r.income === null)).toBe(true);
    const labels = result.getChild('label')!;
    const pYes = result.getChild('probability_yes')!;
    const pNo = result.getChild('probability_no')!;
    let maxDiff = 0;
    for (let i = 0; i < n; i++) {
      expect(labels.get(i)).toBe(online[i].label);
      maxDiff = Math.max(maxDiff, Math.abs(pYes.get(i) - online[i].probabilities.yes), Math.abs(pNo.get(i) - online[i].probabilities.no));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
  });

  it('refuses a bad request before starting anything: 400 with the reason, 404 for what does not exist', async () => {
    const bad = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, keyColumns: ['nope'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Key column "nope" is not in dataset/);
    const clash = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, keyColumns: ['label'] });
    expect(clash.status).toBe(400);
    const both = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, version: 1, alias: 'production' });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/either a version or an alias/);
    expect((await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, version: 9 })).status).toBe(404);
    expect((await stack.api('POST', '/v1/batch-scoring', { datasetVersionId: 'nope@1', modelName })).status).toBe(404);
    expect((await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName: `none-${Date.now()}` })).status).toBe(404);
    expect((await stack.api('GET', '/v1/batch-scoring/nope')).status).toBe(404);
    const viewer = await stack.createKey(['viewer']);
    expect((await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName }, { key: viewer })).status).toBe(403);
  });
});

describe('batchScoringWorkflow', () => {
  const run = (workflowId: string) =>
    stack.runtime.client.workflow.execute(batchScoringWorkflow, {
      workflowId,
      taskQueue: stack.config.taskQueues.orchestration,
      args: [{ datasetVersionId, modelName, version: 1, keyColumns: ['id'], batchRows: 100 }],
    });

  it('resumes a retried attempt from the last committed batch, scoring no batch twice, with the same result', async () => {
    const reference = await run(`batch-ref-${Date.now()}`);
    const batches = Math.ceil(dataset.numRows / 100);
    expect(reference.batches).toBe(batches);

    const runId = `batch-crash-${Date.now()}`;
    const starts: Array<{ attempt: number; heartbeat: BatchScoringHeartbeat | undefined; startBatch: number }> = [];
    const scored: Array<{ attempt: number; batchIndex: number }> = [];
    batchScoringTestHooks.onStart = (info) => {
      if (info.runId === runId) starts.push({ attempt: info.attempt, heartbeat: info.heartbeat, startBatch: info.startBatch });
    };
    batchScoringTestHooks.afterBatch = (info) => {
      if (info.runId !== runId) return;
      scored.push({ attempt: info.attempt, batchIndex: info.batchIndex });
      // A crash after the third batch is committed, on the first attempt only.
      if (info.attempt === 1 && info.batchIndex === 2) throw new Error('planted crash after batch 2');
    };
    const result = await run(runId);

    expect(starts).toEqual([
      { attempt: 1, heartbeat: undefined, startBatch: 0 },
      { attempt: 2, heartbeat: { nextBatch: 3, batches }, startBatch: 3 },
    ]);
    expect(scored.filter((s) => s.attempt === 1).map((s) => s.batchIndex)).toEqual([0, 1, 2]);
    expect(scored.filter((s) => s.attempt === 2).map((s) => s.batchIndex)).toEqual(Array.from({ length: batches - 3 }, (_, i) => i + 3));
    // Deterministic parts: the resumed run's result is byte-identical to the uninterrupted one.
    expect(result.resultSha256).toBe(reference.resultSha256);
    const parts = await stack.runtime.db.query('select batch_index from batch_scoring_parts where run_id = $1 order by batch_index', [runId]);
    expect(parts.rows.map((r) => r.batch_index)).toEqual(Array.from({ length: batches }, (_, i) => i));
    const row = await stack.runtime.db.query('select status, rows, result_sha256 from batch_scoring_runs where id = $1', [runId]);
    expect(row.rows[0]).toMatchObject({ status: 'completed', rows: String(dataset.numRows), result_sha256: reference.resultSha256 });
  });

  it('records a failed run with its reason', async () => {
    const runId = `batch-fail-${Date.now()}`;
    const err = await stack.runtime.client.workflow
      .execute(batchScoringWorkflow, { workflowId: runId, taskQueue: stack.config.taskQueues.orchestration, args: [{ datasetVersionId, modelName, keyColumns: ['missing'] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const status = await stack.api('GET', `/v1/batch-scoring/${runId}`);
    expect(status.body).toMatchObject({ status: 'failed', workflowStatus: 'FAILED' });
    expect(status.body.error).toMatch(/Key column "missing"/);
  });
});
