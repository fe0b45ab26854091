// An ingestion worker killed mid-run: a worker in its own process ingests a CSV (with exact dedup and a unique
// key, so a scratch file and a key index exist next to the version's temp file); after a few heartbeats of rows
// it gets SIGKILL, with nothing committed. Temporal notices the missing heartbeats; a worker started afterwards
// takes the retried attempt, which restarts the run, and the run ends with exactly one dataset version, equal to
// a clean ingestion of the same file, no temp or scratch file left in the artifact store and no key index table
// left in Postgres.
//
// The run is on a task queue only the spawned workers poll, so the test's own in-process worker cannot take it.
// `heartbeatTimeout: '3s'` in the input (not accepted over HTTP) makes the retry come within seconds.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerContract } from '../../lib/data/contracts.js';
import { ingestionWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { activityAttempts, spawnWorker, type SpawnedWorker } from '../setup/spawned-worker.js';

/** Rows in the file; every tenth is an exact copy of the row before it, which dedup drops. */
const ROWS = 400_000;
const UNIQUE_ROWS = ROWS - Math.floor(ROWS / 10);
const contract = {
  columns: [
    { name: 'id', type: 'float64', notNull: true },
    { name: 'amount', type: 'float64' },
    { name: 'segment', type: 'utf8' },
    { name: 'at', type: 'timestamp' },
  ],
  dedup: { exact: true },
  unique: [{ columns: ['id'] }],
};

let stack: Stack;
let csv: string;
const workers: SpawnedWorker[] = [];
const stamp = Date.now();

beforeAll(async () => {
  stack = await startStack();
  csv = path.join(stack.tmpDir, 'killed.csv');
  const lines = ['id,amount,segment,at'];
  for (let i = 0, id = 0; i < ROWS; i++) {
    if (i % 10 === 9) {
      lines.push(lines[lines.length - 1]);
      continue;
    }
    id++;
    lines.push(`${id},${((id * 7919) % 100_000) / 100},${['a', 'b', 'c'][id % 3]},${new Date(Date.UTC(2025, 0, 1) + id * 1000).toISOString()}`);
  }
  await writeFile(csv, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGTERM');
  await stack?.stop();
});

const tempFiles = async () => readdir(path.join(stack.runtime.artifacts.root, 'tmp')).catch(() => [] as string[]);
const versionsOf = async (name: string) =>
  (await stack.runtime.db.query<{ id: string; sha256: string; row_count: string; ingestion_run_id: string }>('select id, sha256, row_count, ingestion_run_id from dataset_versions where name = $1', [name])).rows;

describe('an ingestion worker killed mid-run', () => {
  it('restarts the run on a new worker: one version equal to a clean ingestion, no temp files, no half-written row', async () => {
    const db = stack.runtime.db;
    const client = stack.runtime.client.workflow;

    // A clean ingestion of the same file, on the test's own worker.
    const cleanName = `killed-clean-${stamp}`;
    await registerContract(db, cleanName, contract);
    const clean = await client.execute(ingestionWorkflow, { workflowId: `ingest-${cleanName}`, taskQueue: stack.config.taskQueues.orchestration, args: [{ name: cleanName, sourceUri: csv }] });
    expect(clean).toMatchObject({ rowCount: UNIQUE_ROWS, created: true });
    expect(clean.report.duplicates.exact).toBe(ROWS - UNIQUE_ROWS);

    // The same file on a worker that gets SIGKILL once it has heartbeated rows, well before the end.
    const name = `killed-run-${stamp}`;
    await registerContract(db, name, contract);
    const taskQueue = `${stack.config.taskQueues.orchestration}-ingest-killed`;
    const first = await spawnWorker(stack, { taskQueue });
    workers.push(first);
    const runId = `ingest-${name}`;
    const handle = await client.start(ingestionWorkflow, { workflowId: runId, taskQueue, args: [{ name, sourceUri: csv, heartbeatTimeout: '3s' }] });
    const reading = await waitFor(
      async () => ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'ingestSource'),
      (a) => {
        const payload = a?.heartbeatDetails?.payloads?.[0]?.data;
        return payload !== undefined && payload !== null && (JSON.parse(Buffer.from(payload).toString()) as { rowsRead: number }).rowsRead > 0;
      },
      60_000,
    );
    expect(reading!.attempt).toBe(1);
    expect(reading!.lastWorkerIdentity).toBe(first.identity);
    await first.kill('SIGKILL');

    // Killed midway: nothing committed, the dead attempt's temp files still there.
    const run = async () => (await db.query<{ status: string }>('select status from ingestion_runs where id = $1', [runId])).rows[0];
    expect(await run()).toMatchObject({ status: 'running' });
    expect(await versionsOf(name)).toEqual([]);
    expect((await tempFiles()).length).toBeGreaterThan(0);

    const second = await spawnWorker(stack, { taskQueue });
    workers.push(second);
    const result = await handle.result();

    // Exactly one version, the same content as the clean run, whole and readable.
    expect(result).toMatchObject({ rowCount: UNIQUE_ROWS, sha256: clean.sha256, created: true });
    expect(await versionsOf(name)).toEqual([{ id: result.id, sha256: clean.sha256, row_count: String(UNIQUE_ROWS), ingestion_run_id: runId }]);
    await stack.runtime.artifacts.verify(result.uri);
    expect(await run()).toMatchObject({ status: 'succeeded' });
    expect(result.report).toMatchObject({ rowsRead: ROWS, rowsWritten: UNIQUE_ROWS, duplicates: { exact: ROWS - UNIQUE_ROWS, byKey: 0 } });

    // The retried attempt removed what the dead one left; the dead session's key index went with its connection.
    expect(await tempFiles()).toEqual([]);
    const keyTables = async () => (await db.query<{ n: number }>(`select count(*)::int as n from pg_class where relname like 'ingest\\_keys\\_%' or relname like 'ingest\\_flags\\_%'`)).rows[0].n;
    expect(await waitFor(keyTables, (n) => n === 0, 15_000)).toBe(0);

    // Temporal retried the activity once, on the new worker, because the killed one stopped heartbeating
    // (the history records only an activity's last started attempt).
    const attempts = await activityAttempts(handle, 'ingestSource');
    expect(attempts.map((a) => [a.attempt, a.identity])).toEqual([[2, second.identity]]);
    expect(attempts[0].lastFailure).toMatch(/heartbeat/i);
  }, 180_000);
});
