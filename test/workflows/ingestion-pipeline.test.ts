// The ingestion pipeline's dedup and unique keys, which run through a temporary Postgres table
// (KeyIndex), on the real database: the same answers by COPY and by unnest insert, append mode,
// and canonical bytes for a version bigger than one canonical batch.
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Float64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readVersionBatches } from '../../lib/data/datasets.js';
import { CANONICAL_BATCH_ROWS, type PipelineInput } from '../../lib/data/ingest.js';
import { fingerprint, KeyIndex } from '../../lib/data/key-index.js';
import { ArtifactStore, sha256Hex } from '../../lib/storage/artifacts.js';
import { connectDb, type Db } from '../../lib/storage/db.js';
import { rowsOf, runCsvPipeline } from '../lib/data/pipeline-helpers.js';

let dir: string;
let artifacts: ArtifactStore;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ingest-pipeline-'));
  artifacts = new ArtifactStore(path.join(dir, 'artifacts'));
  db = await connectDb(inject('databaseUrl'), 3);
});
afterAll(async () => db?.end());

const run = (csv: string, contract?: unknown, extra: Partial<PipelineInput> = {}, batchSize = 4) => runCsvPipeline({ dir, artifacts, db }, csv, contract, extra, batchSize);

describe('ingestion pipeline with a key index', () => {
  it('drops exact duplicates and keeps the latest row per key by event time, counting both', async () => {
    const csv = 'id,v,at\n1,a,2024-01-01T00:00:00Z\n1,a,2024-01-01T00:00:00Z\n2,b,2024-01-01T05:00:00Z\n2,c,2024-01-01T03:00:00Z\n1,d,2024-01-01T09:00:00Z\n3,e,2024-01-01T01:00:00Z\n3,f,2024-01-01T01:00:00Z\n';
    const r = await run(csv, {
      columns: [{ name: 'id', type: 'float64' }, { name: 'v', type: 'utf8' }, { name: 'at', type: 'timestamp' }],
      eventTime: 'at',
      dedup: { exact: true, key: ['id'] },
      unique: [{ columns: ['id'] }],
    });
    expect(r.report.status).toBe('succeeded');
    expect(r.report.duplicates).toEqual({ exact: 1, byKey: 3 });
    // Ties on event time keep the later row (f over e).
    expect(rowsOf(r.table!, 'v')).toEqual(['b', 'd', 'f']);
    expect(r.report.rowsWritten).toBe(3);
    // Scratch files of the run are gone.
    expect((await readdir(path.join(artifacts.root, 'tmp'))).length).toBe(0);
  });

  it('flags repeated unique keys with their row numbers, freshness and row counts', async () => {
    const r = await run('id,at\n1,2023-12-01\n2,2023-12-01\n1,2023-12-02\n', {
      columns: [{ name: 'id', type: 'float64' }, { name: 'at', type: 'timestamp' }],
      unique: [{ columns: ['id'], severity: 'warn' }],
      eventTime: 'at',
      freshness: { maxAgeSeconds: 3600 },
      rowCount: { min: 5, severity: 'warn' },
    });
    expect(r.report.status).toBe('failed');
    expect(r.artifact).toBeUndefined();
    expect(r.report.errors.join()).toMatch(/freshness: newest at is 2023-12-02T00:00:00.000Z/);
    expect(r.report.warnings.join()).toMatch(/3 rows written; expected 5/);
    expect(r.quarantine).toMatchObject([{ rowNumber: 3, check: 'unique', severity: 'warn', value: '[1]' }]);
  });

  it('quarantines rows repeating an error-severity unique key', async () => {
    const r = await run('id,v\n1,a\n2,b\n1,c\n3,d\n2,e\n', {
      columns: [{ name: 'id', type: 'float64' }, { name: 'v', type: 'utf8' }],
      unique: [{ columns: ['id'], maxFraction: 0.5 }],
    });
    expect(r.report.status).toBe('succeeded');
    expect(rowsOf(r.table!, 'v')).toEqual(['a', 'b', 'd']);
    expect(r.report.rowsQuarantined).toBe(2);
    expect(r.quarantine.map((q) => q.rowNumber)).toEqual([3, 5]);
  });

  it('appends onto a parent: parent rows first, identical rows deduped, the parent back when nothing is new', async () => {
    const contract = { columns: [{ name: 'id', type: 'float64' }, { name: 'v', type: 'utf8' }], dedup: { exact: true } };
    const first = await run('id,v\n1,a\n2,b\n', contract);
    const parent = () => readVersionBatches(artifacts, first.artifact!.uri, { verify: true });
    const again = await run('id,v\n2,b\n3,c\n', contract, { parent: parent(), previousColumns: first.columns });
    expect(rowsOf(again.table!, 'id')).toEqual([1, 2, 3]);
    expect(again.rowsFromParent).toBe(2);
    const same = await run('id,v\n1,a\n', contract, { parent: parent(), previousColumns: first.columns });
    expect(same.artifact!.sha256).toBe(first.artifact!.sha256);
    const mismatch = await run('id,w\n1,a\n', undefined, { parent: parent(), previousColumns: first.columns });
    expect(mismatch.report.errors.join()).toMatch(/append needs the parent's columns/);
  });

  it('gives the same version bytes as tableToIPC of the same rows, over several canonical batches', async () => {
    const n = CANONICAL_BATCH_ROWS * 2 + 123;
    const lines = ['id,name'];
    for (let i = 0; i < n; i++) lines.push(`${i},n${i % 97}`);
    // Every row twice: exact dedup halves them.
    const csv = `${lines.join('\n')}\n${lines.slice(1).join('\n')}\n`;
    const r = await run(csv, { columns: [{ name: 'id', type: 'float64' }, { name: 'name', type: 'utf8' }], dedup: { exact: true } }, {}, 10_000);
    expect(r.report.duplicates.exact).toBe(n);
    const expected = new Table({
      id: vectorFromArray(Array.from({ length: n }, (_, i) => i), new Float64()),
      name: vectorFromArray(Array.from({ length: n }, (_, i) => `n${i % 97}`), new Utf8()),
    });
    const rechunked = new Table([0, 1, 2].flatMap((k) => expected.slice(k * CANONICAL_BATCH_ROWS, (k + 1) * CANONICAL_BATCH_ROWS).batches));
    expect(r.table!.batches.map((b) => b.numRows)).toEqual([CANONICAL_BATCH_ROWS, CANONICAL_BATCH_ROWS, 123]);
    // Content addressing is unchanged: the streamed file is byte for byte the one tableToIPC writes.
    const plain = await run(lines.join('\n') + '\n', { columns: [{ name: 'id', type: 'float64' }, { name: 'name', type: 'utf8' }] }, {}, 10_000);
    expect(plain.artifact!.sha256).toBe(r.artifact!.sha256);
    expect(r.table!.getChild('name')!.get(n - 1)).toBe(rechunked.getChild('name')!.get(n - 1));
    expect(sha256Hex(tableToIPC(new Table(r.table!.batches), 'file'))).toBe(r.artifact!.sha256);
  }, 60_000);

  it('tells NaN, infinities and nulls apart when dropping exact duplicates', async () => {
    const r = await run('id,x\n1,NaN\n1,\n1,Infinity\n1,-Infinity\n1,NaN\n1,\n', {
      columns: [{ name: 'id', type: 'float64' }, { name: 'x', type: 'float64' }],
      dedup: { exact: true },
    });
    expect(r.report.duplicates).toEqual({ exact: 2, byKey: 0 });
    expect(rowsOf(r.table!, 'x')).toEqual([Number.NaN, null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  // The default is COPY where the server takes it (not the embedded PGlite); `insert` works everywhere.
  it.each([undefined, 'insert'] as const)('KeyIndex (method %s): exact, key and unique flags in position order', async (method) => {
    const index = await KeyIndex.open(db, { exact: true, key: true, uniques: 1 }, method);
    try {
      const rows: Array<[string, string, number, string]> = [
        ['r1', 'k1', 5, 'u1'],
        ['r1', 'k1', 5, 'u1'], // exact duplicate of pos 0
        ['r2', 'k2', 1, 'u2'],
        ['r3', 'k1', 7, 'u3'], // replaces pos 0 (later time)
        ['r4', 'k3', -Infinity, 'u2'], // repeats unique u2
      ];
      rows.forEach(([r, k, at, u], pos) => index.add(pos, pos + 1, fingerprint(r), fingerprint(k), at, [fingerprint(u)]));
      expect(await index.resolve()).toEqual({ exact: 1, byKey: 1 });
      const flags = [];
      for await (const f of index.flagged()) flags.push(f);
      expect(flags).toEqual([
        { pos: 0, rowNumber: 1, dropped: 'key', repeats: [] },
        { pos: 1, rowNumber: 2, dropped: 'exact', repeats: [] },
        { pos: 4, rowNumber: 5, dropped: null, repeats: [true] },
      ]);
    } finally {
      await index.close();
    }
  });
});
