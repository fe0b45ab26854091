// Data layer through the API on real Temporal and Postgres: Parquet/Arrow/Postgres sources, contracts,
// quarantine, failed runs that commit nothing, dedup, profiles, append lineage, and a schedule.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { FIXTURE_ROWS, writeFixtures } from '../fixtures/data/make-fixtures.js';

let stack: Stack;
let files: Record<string, string>;
const tag = Date.now().toString(36);

beforeAll(async () => {
  stack = await startStack();
  files = await writeFixtures(stack.tmpDir);
});
afterAll(async () => stack?.stop());

const contract = {
  columns: [
    { name: 'id', type: 'float64', notNull: true },
    { name: 'amount', type: 'float64', range: { min: 0, max: 3000, maxFraction: 0.2 } },
    { name: 'state', type: 'utf8', allowed: { values: ['CA', 'NY', 'TX'] } },
    { name: 'active', type: 'bool' },
    { name: 'at', type: 'timestamp' },
  ],
  unique: [{ columns: ['id'] }],
  eventTime: 'at',
};

describe('datasets API', () => {
  it('ingests zstd Parquet under a contract, quarantines rows within threshold, and serves profile and quarantine', async () => {
    const name = `pq-${tag}`;
    const res = await stack.api('POST', '/v1/datasets', { name, uri: files.zstd, contract });
    expect(res.status).toBe(201);
    // amounts above 3000 (i * 1.5 > 3000 for i > 2000): 499 rows minus the null ones, under 20%
    const outOfRange = Array.from({ length: FIXTURE_ROWS }, (_, i) => i).filter((i) => i % 10 !== 0 && i * 1.5 > 3000).length;
    expect(res.body.rowCount).toBe(FIXTURE_ROWS - outOfRange);
    expect(res.body.lineage).toMatchObject({ contractVersion: 1, parentIds: [], rowsRead: FIXTURE_ROWS, rowsQuarantined: outOfRange });
    expect(res.body.report.checks).toEqual([expect.objectContaining({ check: 'range', column: 'amount', violations: outOfRange, breached: false })]);
    expect(res.body.columns.map((c: { type: string }) => c.type)).toEqual(['float64', 'float64', 'utf8', 'bool', 'timestamp']);

    const profile = await stack.api('GET', `/v1/datasets/${name}/versions/${encodeURIComponent(res.body.id)}/profile`);
    expect(profile.status).toBe(200);
    const amount = profile.body.profile.columns.find((c: { name: string }) => c.name === 'amount');
    expect(amount).toMatchObject({ nullCount: FIXTURE_ROWS / 10, stats: { kind: 'numeric', min: 1.5 } });
    expect(amount.stats.max).toBeLessThanOrEqual(3000);
    const state = profile.body.profile.columns.find((c: { name: string }) => c.name === 'state');
    expect(state).toMatchObject({ distinctCount: 3, stats: { kind: 'categorical' } });

    const q = await stack.api('GET', `/v1/datasets/${name}/versions/${encodeURIComponent(res.body.id)}/quarantine?limit=2`);
    expect(q.body.total).toBe(outOfRange);
    expect(q.body.rows[0]).toMatchObject({ column: 'amount', check: 'range', severity: 'error', rowNumber: 2002, value: '3001.5' });

    const again = await stack.api('POST', '/v1/datasets', { name, uri: files.snappy });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
  });

  it('fails a run whose breach is above threshold with a readable 422 report, commits no version, keeps the quarantine', async () => {
    const name = `strict-${tag}`;
    const strict = { ...contract, columns: contract.columns.map((c) => (c.name === 'amount' ? { ...c, range: { min: 0, max: 100 } } : c)) };
    const res = await stack.api('POST', '/v1/datasets', { name, uri: files.arrowFile, contract: strict });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('DataContractError');
    expect(res.body.error).toMatch(/range on "amount": \d+ of 2500 rows .* not within \[0, 100\]; at most 0% allowed\. First: row 68, value "100\.5"/);
    expect(res.body.error).toContain('nothing was committed');
    const runId = /GET \/v1\/datasets\/runs\/(\S+)\/quarantine/.exec(res.body.error)![1];
    const versions = await stack.api('GET', `/v1/datasets/${name}/versions`);
    expect(versions.body.versions).toEqual([]);
    const run = await stack.api('GET', `/v1/datasets/runs/${runId}`);
    expect(run.body).toMatchObject({ status: 'failed', datasetVersionId: null, report: { status: 'failed' } });
    const q = await stack.api('GET', `/v1/datasets/runs/${runId}/quarantine?limit=1`);
    expect(q.body.rows[0]).toMatchObject({ rowNumber: 68, column: 'amount', reason: expect.stringContaining('outside') });
  });

  it('answers 400 for a contract that does not parse and for a missing source', async () => {
    const bad = await stack.api('POST', '/v1/datasets', { name: `bad-${tag}`, uri: files.zstd, contract: { columns: [{ name: 'x', type: 'decimal' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/does not parse: \/columns\/0\/type/);
    const missing = await stack.api('POST', '/v1/datasets', { name: `bad-${tag}`, uri: path.join(stack.tmpDir, 'nope.parquet') });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain('Parquet file not found');
  });

  it('appends onto the latest version with lineage, dedups, and reads an Arrow IPC stream', async () => {
    const name = `append-${tag}`;
    const c = { columns: [{ name: 'id', type: 'float64' }, { name: 'v', type: 'utf8' }], dedup: { exact: true } };
    const a = path.join(stack.tmpDir, 'a.csv');
    await writeFile(a, 'id,v\n1,x\n2,y\n2,y\n');
    const first = await stack.api('POST', '/v1/datasets', { name, uri: a, contract: c });
    expect(first.status).toBe(201);
    expect(first.body.report.duplicates).toEqual({ exact: 1, byKey: 0 });
    const b = path.join(stack.tmpDir, 'b.csv');
    await writeFile(b, 'id,v\n2,y\n3,z\n');
    const second = await stack.api('POST', '/v1/datasets', { name, uri: b, mode: 'append' });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, rowCount: 3, lineage: { parentIds: [first.body.id], rowsFromParent: 2, contractVersion: 1 } });
    const stream = await stack.api('POST', '/v1/datasets', { name: `stream-${tag}`, uri: `file://${files.arrowStream}` });
    expect(stream.status).toBe(201);
    expect(stream.body.rowCount).toBe(FIXTURE_ROWS);
  });

  it('ingests a Postgres query read through a cursor', async () => {
    const table = `src_${tag.replace(/\W/g, '')}`;
    await stack.runtime.db.query(`create table ${table} as select g as id, g * 0.5 as score, 'k' || (g % 4) as kind, timestamp '2024-01-01' + g * interval '1 hour' as at from generate_series(1, 25000) g`);
    const res = await stack.api('POST', '/v1/datasets', { name: `pg-${tag}`, uri: 'postgres:default', query: `select * from ${table} order by id` });
    expect(res.status).toBe(201);
    expect(res.body.rowCount).toBe(25000);
    expect(res.body.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual(['id:float64', 'score:float64', 'kind:utf8', 'at:timestamp']);
    const profile = await stack.api('GET', `/v1/datasets/pg-${tag}/versions/${encodeURIComponent(res.body.id)}/profile`);
    const at = profile.body.profile.columns.find((c: { name: string }) => c.name === 'at');
    expect(at.stats.min).toBe(Date.UTC(2024, 0, 1, 1));
    const write = await stack.api('POST', '/v1/datasets', { name: `pg-${tag}`, uri: 'postgres:default', query: `delete from ${table} returning *` });
    expect(write.status).toBe(400);
    expect(write.body.error).toMatch(/read-only/);
  });

  it('creates a Temporal Schedule that runs the ingestion', async () => {
    const name = `sched-${tag}`;
    const created = await stack.api('POST', '/v1/datasets/schedules', { name, uri: files.gzip, everySeconds: 3600, scheduleId: `sched-${tag}` });
    expect(created.status).toBe(201);
    const dup = await stack.api('POST', '/v1/datasets/schedules', { name, uri: files.gzip, everySeconds: 3600, scheduleId: `sched-${tag}` });
    expect(dup.status).toBe(400);
    await stack.runtime.client.schedule.getHandle(`sched-${tag}`).trigger();
    const versions = await waitFor(() => stack.api('GET', `/v1/datasets/${name}/versions`), (r) => r.body.versions.length > 0, 30_000);
    expect(versions.body.versions[0].rowCount).toBe(FIXTURE_ROWS);
    expect(versions.body.versions[0].lineage.ingestionRunId).toMatch(/^ingest-sched-/);
    expect((await stack.api('DELETE', `/v1/datasets/schedules/sched-${tag}`)).status).toBe(204);
    expect((await stack.api('DELETE', `/v1/datasets/schedules/sched-${tag}`)).status).toBe(404);
    const neither = await stack.api('POST', '/v1/datasets/schedules', { name, uri: files.gzip });
    expect(neither.status).toBe(400);
  });
});
