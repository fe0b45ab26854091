import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../../lib/data/csv.js';
import { DatasetSourceError } from '../../../lib/errors.js';

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'csv-'));
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('readCsv', () => {
  it('infers numbers and text, keeps quoted commas, and turns empty cells into nulls', async () => {
    const p = await file('a.csv', 'x,name,y\n1.5,"Smith, J",1\n,plain,0\n-2e3,"say ""hi""",1\n');
    const { table, columns } = await readCsv(p);
    expect(columns).toEqual([
      { name: 'x', type: 'float64', nullCount: 1 },
      { name: 'name', type: 'utf8', nullCount: 0 },
      { name: 'y', type: 'float64', nullCount: 0 },
    ]);
    expect(table.getChild('x')!.get(0)).toBe(1.5);
    expect(table.getChild('x')!.get(1)).toBeNull();
    expect(table.getChild('x')!.get(2)).toBe(-2000);
    expect(table.getChild('name')!.get(0)).toBe('Smith, J');
    expect(table.getChild('name')!.get(2)).toBe('say "hi"');
  });

  it('reads gzip files and accepts file:// URLs', async () => {
    const p = await file('a.csv.gz', gzipSync('a,b\n1,x\n2,y\n'));
    const { table } = await readCsv(`file://${p}`);
    expect(table.numRows).toBe(2);
  });

  it.each([
    ['missing file', null, /not found/],
    ['empty file', '', /empty/],
    ['header only', 'a,b\n', /no data rows/],
    ['ragged row', 'a,b\n1,2\n3\n', /line 3/],
    ['duplicate header', 'a,a\n1,2\n', /repeats the column name "a"/],
    ['unterminated quote', 'a,b\n"1,2\n', /Cannot parse CSV/],
  ])('fails clearly on a %s', async (_label, content, message) => {
    const p = content === null ? path.join(os.tmpdir(), 'definitely-missing.csv') : await file('bad.csv', content);
    const err = await readCsv(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetSourceError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects relative paths, which would depend on the worker directory', async () => {
    await expect(readCsv('data.csv')).rejects.toThrow(/absolute path/);
  });
});
