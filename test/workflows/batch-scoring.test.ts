// Batch scoring against the real dev server and Postgres: the scored artifact agrees with online predictions
// row for row; a Postgres query scored into a table and a Parquet file gives the same predictions; a schedule
// created through the API runs the job; an attempt that dies after N batches is retried from batch N (heartbeat
// details and the committed parts), giving the same result bytes as an uninterrupted run.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
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

/** The dataset's rows as a Postgres table, with integer, bigint and numeric columns that the query source casts. */
async function sourceTable(name: string): Promise<void> {
  const records = Array.from({ length: dataset.numRows }, (_, i) => Object.fromEntries(['id', ...features].map((c) => [c, dataset.getChild(c)!.get(i) as number | null])));
  await stack.runtime.db.query(`create table ${name} (id integer primary key, income numeric, debt_ratio double precision, age integer, late_payments bigint, utilization real)`);
  await stack.runtime.db.query(`insert into ${name} select * from json_populate_recordset(null::${name}, $1::json)`, [JSON.stringify(records)]);
}

/** Polls a run until its workflow has closed (the run record says `completed` a moment before the workflow does). */
async function finished(statusUrl: string) {
  return waitFor(() => stack.api('GET', statusUrl), (r) => r.body.workflowStatus !== undefined && r.body.workflowStatus !== 'RUNNING');
}

describe('batch scoring through the API', () => {
  it('scores a dataset version in batches; predictions equal online predictions for the same rows', async () => {
    const start = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, keyColumns: ['id'], batchRows: 128 });
    expect(start.status).toBe(202);
    expect(start.body.version).toBe(1);
    const done = await finished(start.body.statusUrl);
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

describe('batch scoring from a Postgres query into a table and a Parquet file', () => {
  it('reads the query in key order through a cursor and writes one row per input row, equal to the dataset run', async () => {
    const src = `bs_src_${Date.now()}`;
    await sourceTable(src);
    const reference = await stack.api('POST', '/v1/batch-scoring', { datasetVersionId, modelName, version: 1, keyColumns: ['id'], batchRows: 300 });
    const ref = await readResult((await finished(reference.body.statusUrl)).body.resultUri);

    const out = `bs_out_${Date.now()}`;
    const start = await stack.api('POST', '/v1/batch-scoring', {
      query: `select * from ${src} where id > 0;`,
      modelName,
      keyColumns: ['id'],
      batchRows: 300,
      output: { table: out, file: 'parquet' },
    });
    expect(start.status).toBe(202);
    const done = await finished(start.body.statusUrl);
    const n = dataset.numRows;
    expect(done.body).toMatchObject({ status: 'completed', datasetVersionId: null, outputTable: out, outputFile: 'parquet', rows: n, batches: Math.ceil(n / 300), batchesDone: Math.ceil(n / 300) });

    const { rows } = await stack.runtime.db.query(`select * from ${out} order by row_index`);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set([start.body.id]));
    const refIds = ref.getChild('id')!;
    const refYes = ref.getChild('probability_yes')!;
    const refLabel = ref.getChild('label')!;
    // The dataset version keeps the CSV's order, which is by id, as the query is read.
    rows.forEach((r, i) => {
      expect(Number(r.row_index)).toBe(i);
      expect(r.id).toBe(refIds.get(i));
      expect(r.label).toBe(refLabel.get(i));
      expect(Math.abs(r.probability_yes - refYes.get(i))).toBeLessThanOrEqual(1e-6);
    });

    const parquet = tableFromIPC(readParquet(await stack.runtime.artifacts.get(done.body.resultUri)).intoIPCStream());
    expect(parquet.numRows).toBe(n);
    expect(parquet.schema.fields.map((f) => f.name)).toEqual(['row_index', 'id', 'label', 'probability_no', 'probability_yes']);
    expect(parquet.getChild('probability_yes')!.get(n - 1)).toBeCloseTo(refYes.get(n - 1), 6);

    // A second run into the same table adds its own rows under its own run id.
    const again = await stack.api('POST', '/v1/batch-scoring', { query: `select * from ${src}`, modelName, keyColumns: ['id'], output: { table: out } });
    expect((await finished(again.body.statusUrl)).body).toMatchObject({ status: 'completed', resultUri: null, outputFile: null });
    const counts = await stack.runtime.db.query(`select run_id, count(*)::int as n, count(distinct row_index)::int as d from ${out} group by run_id`);
    expect(counts.rows.map((r) => [r.n, r.d])).toEqual([[n, n], [n, n]]);
  });

  it('copies key columns of every type into the table as the query gives them', async () => {
    const src = `bs_types_${Date.now()}`;
    await sourceTable(src);
    const out = `bs_types_out_${Date.now()}`;
    const query = `select s.*, 'n-' || id as name, id % 2 = 0 as even, timestamptz '2026-01-01T00:00:00Z' + id * interval '1.5 second' as at from ${src} s`;
    const start = await stack.api('POST', '/v1/batch-scoring', { query, modelName, keyColumns: ['at', 'name', 'even', 'id'], batchRows: 400, output: { table: out } });
    expect(start.status).toBe(202);
    expect((await finished(start.body.statusUrl)).body).toMatchObject({ status: 'completed', rows: dataset.numRows });
    const columns = await stack.runtime.db.query(`select column_name, data_type from information_schema.columns where table_name = $1 order by ordinal_position`, [out]);
    expect(columns.rows.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'run_id text', 'row_index bigint', 'at timestamp with time zone', 'name text', 'even boolean', 'id double precision',
      'label text', 'probability_no real', 'probability_yes real',
    ]);
    const { rows } = await stack.runtime.db.query(`select * from ${out} where row_index in (0, 7) order by row_index`);
    expect(rows.map((r) => [Number(r.row_index), r.at.toISOString(), r.name, r.even, r.id])).toEqual([
      [0, '2026-01-01T00:00:01.500Z', 'n-1', false, 1],
      [7, '2026-01-01T00:00:12.000Z', 'n-8', true, 8],
    ]);
    expect(rows[0].probability_no + rows[0].probability_yes).toBeCloseTo(1, 5);
  });

  it('refuses a bad query source or output before starting anything, naming the problem', async () => {
    const src = `bs_bad_${Date.now()}`;
    await sourceTable(src);
    const post = (body: object) => stack.api('POST', '/v1/batch-scoring', { modelName, ...body });
    const noKeys = await post({ query: `select * from ${src}` });
    expect(noKeys.status).toBe(400);
    expect(noKeys.body.error).toMatch(/needs keyColumns/);
    const both = await post({ query: `select * from ${src}`, datasetVersionId, keyColumns: ['id'] });
    expect(both.body.error).toMatch(/either datasetVersionId or query/);
    const broken = await post({ query: 'select * from no_such_table', keyColumns: ['id'] });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/no_such_table/);
    const writes = await post({ query: `delete from ${src} returning *`, keyColumns: ['id'] });
    expect(writes.status).toBe(400);
    expect((await stack.runtime.db.query(`select count(*)::int as n from ${src}`)).rows[0].n).toBe(dataset.numRows);
    const smuggled = await post({ query: `select * from ${src}) as x; commit; drop table ${src}; select * from (select 1`, keyColumns: ['id'] });
    expect(smuggled.status).toBe(400);
    expect((await stack.runtime.db.query(`select to_regclass($1) as t`, [src])).rows[0].t).toBe(src);
    const wrongType = await post({ query: `select id, income::text as income, debt_ratio, age, late_payments, utilization from ${src}`, keyColumns: ['id'] });
    expect(wrongType.body.error).toMatch(/Column "income" of the query is utf8/);
    const empty = await post({ query: `select * from ${src} where false`, keyColumns: ['id'] });
    expect(empty.body.error).toMatch(/no rows to score/);
    const taken = await post({ datasetVersionId, output: { table: 'predictions' } });
    expect(taken.status).toBe(400);
    expect(taken.body.error).toMatch(/output.table predictions exists with columns/);
    expect((await post({ datasetVersionId, output: { table: 'Bad-Name' } })).status).toBe(400);
    expect((await post({ datasetVersionId, output: { table: 'nope_schema.t' } })).body.error).toMatch(/schema nope_schema does not exist/);
  });
});

describe('batch scoring on a Temporal Schedule', () => {
  it('creates a validated schedule through the API whose runs score the job; lists its runs; deletes it', async () => {
    const src = `bs_sched_${Date.now()}`;
    await sourceTable(src);
    const out = `bs_sched_out_${Date.now()}`;
    const job = { query: `select * from ${src}`, modelName, keyColumns: ['id'], output: { table: out } };
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, cron: 'not a cron' })).status).toBe(400);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job })).body.error).toMatch(/exactly one of cron or everySeconds/);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, everySeconds: 10 })).status).toBe(400);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, keyColumns: ['nope'], cron: '0 3 * * *' })).status).toBe(400);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, modelName: `none-${Date.now()}`, cron: '0 3 * * *' })).status).toBe(404);
    const viewer = await stack.createKey(['viewer']);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, cron: '0 3 * * *' }, { key: viewer })).status).toBe(403);

    const scheduleId = `bs-nightly-${Date.now()}`;
    const created = await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, scheduleId, cron: '0 3 * * *' });
    expect(created.status).toBe(201);
    expect((await stack.api('POST', '/v1/batch-scoring/schedules', { ...job, scheduleId, cron: '0 3 * * *' })).status).toBe(409);
    try {
      // Run it now, as an operator would from the Web UI or `temporal schedule trigger`.
      await stack.runtime.client.schedule.getHandle(scheduleId).trigger();
      const described = await waitFor(() => stack.api('GET', `/v1/batch-scoring/schedules/${scheduleId}`), (r) => r.body.recentRuns?.length === 1);
      expect(described.body).toMatchObject({ scheduleId, cron: '0 3 * * *', everySeconds: null, paused: false, input: { query: job.query, modelName } });
      expect(described.body.nextRunAt).toMatch(/T03:00:00/);
      const run = await finished(described.body.recentRuns[0].statusUrl);
      expect(run.body).toMatchObject({ status: 'completed', alias: 'production', version: 1, outputTable: out, rows: dataset.numRows });
      const { rows } = await stack.runtime.db.query(`select count(*)::int as n, count(distinct row_index)::int as d from ${out} where run_id = $1`, [run.body.id]);
      expect(rows[0]).toEqual({ n: dataset.numRows, d: dataset.numRows });
    } finally {
      expect((await stack.api('DELETE', `/v1/batch-scoring/schedules/${scheduleId}`)).status).toBe(204);
    }
    expect((await stack.api('GET', `/v1/batch-scoring/schedules/${scheduleId}`)).status).toBe(404);
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
