// A batch scoring worker killed mid-run: a worker in its own process scores a Postgres query into a table and an
// Arrow file; after a few committed batches it gets SIGKILL. Temporal notices the missing heartbeats; a worker
// started afterwards takes the retried attempt, resumes after the last committed batch, and the run ends with
// exactly one prediction per input row in the table and in the file.
//
// The run is on a task queue only the spawned workers poll, so the test's own in-process worker cannot take it.
// `heartbeatTimeout: '3s'` in the input (not accepted over HTTP) makes the retry come within seconds.
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../../lib/onnx/linear-classifier.js';
import { registerUploadedModelVersion } from '../../lib/registry/registry.js';
import { batchScoringWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { activityAttempts, spawnWorker, type SpawnedWorker } from '../setup/spawned-worker.js';

const ROWS = 200_000;
const BATCH_ROWS = 2_000;
const features = Array.from({ length: 10 }, (_, i) => `f${i}`);
const pipeline: LinearPipeline = {
  features,
  imputeValues: features.map(() => 0),
  mean: features.map(() => 0),
  scale: features.map(() => 1),
  coefficients: features.map((_, i) => (i % 2 ? 0.3 : -0.2)),
  intercept: 0.1,
  classes: ['no', 'yes'],
};

let stack: Stack;
const workers: SpawnedWorker[] = [];
const stamp = Date.now();
const modelName = `killed-bs-${stamp}`;
const source = `bs_killed_src_${stamp}`;
const output = `bs_killed_out_${stamp}`;

beforeAll(async () => {
  stack = await startStack();
  const stored = await stack.runtime.artifacts.put(exportLinearClassifier(pipeline));
  await registerUploadedModelVersion(stack.runtime.db, { modelName, sha256: stored.sha256, uri: stored.uri, signature: linearSignature(pipeline), metrics: {}, params: {}, createdBy: 'test' });
  const columns = features.map((f, j) => `((i * ${j + 3}) % 17)::double precision / 4 as ${f}`).join(', ');
  await stack.runtime.db.query(`create table ${source} as select i as id, ${columns} from generate_series(1, ${ROWS}) as i`);
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGTERM');
  await stack?.stop();
});

describe('a batch scoring worker killed mid-run', () => {
  it('resumes on a new worker from the last committed batch: one prediction per input row in the table and the file', async () => {
    const taskQueue = `${stack.config.taskQueues.orchestration}-killed`;
    const first = await spawnWorker(stack, { taskQueue });
    workers.push(first);
    const runId = `batch-killed-${stamp}`;
    const batches = ROWS / BATCH_ROWS;
    const handle = await stack.runtime.client.workflow.start(batchScoringWorkflow, {
      workflowId: runId,
      taskQueue,
      args: [{ query: `select * from ${source}`, modelName, version: 1, keyColumns: ['id'], batchRows: BATCH_ROWS, output: { table: output, file: 'arrow' }, heartbeatTimeout: '3s' }],
    });

    const committed = async () => (await stack.runtime.db.query<{ n: number }>('select count(*)::int as n from batch_scoring_parts where run_id = $1', [runId])).rows[0].n;
    await waitFor(committed, (n) => n >= 5, 60_000);
    await first.kill('SIGKILL');
    const killedAt = new Date();
    const before = await stack.runtime.db.query<{ batch_index: number; committed_at: Date }>('select batch_index, committed_at from batch_scoring_parts where run_id = $1 order by batch_index', [runId]);
    // Killed midway: some batches committed, not all.
    expect(before.rows.length).toBeGreaterThanOrEqual(5);
    expect(before.rows.length).toBeLessThan(batches);
    expect(before.rows.map((r) => r.batch_index)).toEqual(before.rows.map((_, i) => i));
    const rowsBefore = (await stack.runtime.db.query<{ n: number }>(`select count(*)::int as n from ${output} where run_id = $1`, [runId])).rows[0].n;
    expect(rowsBefore).toBe(before.rows.length * BATCH_ROWS);

    const second = await spawnWorker(stack, { taskQueue });
    workers.push(second);
    const result = await handle.result();
    expect(result).toMatchObject({ rows: ROWS, batches, outputTable: output });

    // Exactly one prediction per input row in the table...
    const table = await stack.runtime.db.query(
      `select count(*)::int as n, count(distinct row_index)::int as rows, count(distinct id)::int as ids, min(row_index)::int as lo, max(row_index)::int as hi from ${output} where run_id = $1`,
      [runId],
    );
    expect(table.rows[0]).toEqual({ n: ROWS, rows: ROWS, ids: ROWS, lo: 0, hi: ROWS - 1 });
    // ... and in the file, in key order.
    const file = tableFromIPC(await stack.runtime.artifacts.get(result.resultUri!));
    expect(file.numRows).toBe(ROWS);
    const rowIndex = file.getChild('row_index')!.toArray() as Int32Array;
    const ids = file.getChild('id')!.toArray() as Float64Array;
    for (let i = 0; i < ROWS; i++) {
      if (rowIndex[i] !== i || ids[i] !== i + 1) throw new Error(`file row ${i}: row_index ${rowIndex[i]}, id ${ids[i]}`);
    }

    // The killed attempt's batches were kept, not redone: same parts, committed before the kill.
    const after = await stack.runtime.db.query<{ batch_index: number; committed_at: Date }>('select batch_index, committed_at from batch_scoring_parts where run_id = $1 order by batch_index', [runId]);
    expect(after.rows).toHaveLength(batches);
    expect(after.rows.slice(0, before.rows.length)).toEqual(before.rows);
    expect(after.rows.slice(before.rows.length).every((r) => r.committed_at > killedAt)).toBe(true);

    // Temporal retried the scoring activity once, on the new worker, because the killed one stopped heartbeating
    // (the history records only an activity's last started attempt).
    const attempts = await activityAttempts(handle, 'scoreBatches');
    expect(attempts.map((a) => [a.attempt, a.identity])).toEqual([[2, second.identity]]);
    expect(attempts[0].lastFailure).toMatch(/heartbeat/i);
  }, 120_000);
});
