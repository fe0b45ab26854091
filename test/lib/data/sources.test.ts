import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSource, detectFormat, redactUri } from '../../../lib/data/sources.js';
import { DatasetSourceError } from '../../../lib/errors.js';
import { FIXTURE_ROWS, writeFixtures } from '../../fixtures/data/make-fixtures.js';

let dir: string;
let files: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sources-'));
  files = await writeFixtures(dir);
});

async function readAll(uri: string, batchSize?: number) {
  const src = await openSource(uri, { batchSize });
  const rows: unknown[][] = [];
  let batches = 0;
  for await (const b of src.batches) {
    batches++;
    for (let i = 0; i < b.numRows; i++) rows.push(b.columns.map((c) => c.get(i)));
  }
  return { src, rows, batches };
}

describe('openSource', () => {
  it.each(['snappy', 'gzip', 'zstd'])('reads %s Parquet in record batches with canonical types', async (codec) => {
    const { src, rows, batches } = await readAll(files[codec], 700);
    expect(src.format).toBe('parquet');
    expect(src.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['id:float64', 'amount:float64', 'state:utf8', 'active:bool', 'at:timestamp']);
    expect(rows).toHaveLength(FIXTURE_ROWS);
    expect(batches).toBeGreaterThan(3);
    expect(rows[11]).toEqual([11, 16.5, 'TX', false, Date.UTC(2024, 0, 1) + 11 * 60_000]);
    expect(rows[10][1]).toBeNull();
  });

  it.each(['arrowFile', 'arrowStream'])('reads an Arrow IPC %s', async (kind) => {
    const { src, rows } = await readAll(files[kind]);
    expect(src.format).toBe('arrow');
    expect(rows).toHaveLength(FIXTURE_ROWS);
    expect(rows[2]).toEqual([2, 3, 'TX', true, Date.UTC(2024, 0, 1) + 2 * 60_000]);
  });

  it('streams CSV in batches and infers types from the first batch', async () => {
    const p = path.join(dir, 'a.csv');
    await writeFile(p, 'x,s\n' + Array.from({ length: 25 }, (_, i) => `${i},v${i}`).join('\n') + '\n');
    const { src, rows, batches } = await readAll(p, 10);
    expect(src.columns).toEqual([
      { name: 'x', type: 'float64', valueType: 'utf8' },
      { name: 's', type: 'utf8', valueType: 'utf8' },
    ]);
    expect(batches).toBe(3);
    expect(rows[24]).toEqual(['24', 'v24']);
  });

  it('names file and line for invalid UTF-8 in a CSV', async () => {
    const p = path.join(dir, 'latin1.csv');
    await writeFile(p, Buffer.concat([Buffer.from('a,b\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const err = await readAll(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetSourceError);
    expect((err as Error).message).toMatch(/latin1\.csv is not valid UTF-8.*line 3/);
  });

  it('fails clearly on a corrupt Parquet file, a missing file and an unsupported column type', async () => {
    const bad = path.join(dir, 'bad.parquet');
    await writeFile(bad, 'not parquet at all');
    await expect(openSource(bad)).rejects.toThrow(/bad\.parquet is not a readable Parquet file/);
    await expect(openSource(path.join(dir, 'missing.parquet'))).rejects.toThrow(/Parquet file not found/);
    const badArrow = path.join(dir, 'bad.arrow');
    await writeFile(badArrow, 'nope');
    await expect(openSource(badArrow)).rejects.toBeInstanceOf(DatasetSourceError);
  });

  it('detects formats and redacts passwords', () => {
    expect(detectFormat('/x/y.PARQUET')).toBe('parquet');
    expect(detectFormat('file:///x/y.arrows')).toBe('arrow');
    expect(detectFormat('postgres:default')).toBe('postgres');
    expect(detectFormat('/x/y.csv.gz')).toBe('csv');
    expect(redactUri('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });
});
