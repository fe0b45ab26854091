// The canonical batch builder must give byte for byte the IPC that apache-arrow's own builders give for the
// same rows: version content hashes depend on it.
import { makeBuilder, makeData, RecordBatch, Struct, Table, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../../../lib/data/batch-builder.js';
import { canonicalSchema } from '../../../lib/data/ingest.js';
import { sha256Hex } from '../../../lib/storage/artifacts.js';

const schema = canonicalSchema([
  { name: 'x', type: 'float64' },
  { name: 'at', type: 'timestamp' },
  { name: 'ok', type: 'bool' },
  { name: 's', type: 'utf8' },
]);

/** The batch the generic Arrow builders make of the same rows (what ingestion used before). */
function arrowBuilderBatch(rows: unknown[][]): RecordBatch {
  const builders = schema.fields.map((f) => makeBuilder({ type: f.type, nullValues: [null, undefined] }));
  for (const row of rows) builders.forEach((b, c) => b.append(row[c]));
  const children = builders.map((b) => b.flush());
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
}

/** A deterministic pseudo-random generator (LCG), so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

const TEXTS = ['', 'a', 'héllo', '日本語', '🙂 emoji', 'lone \ud800 surrogate', 'x'.repeat(300)];

function randomRows(n: number, seed: number, nullRate: number): unknown[][] {
  const r = lcg(seed);
  const maybe = (v: unknown) => (r() < nullRate ? (r() < 0.5 ? null : undefined) : v);
  return Array.from({ length: n }, () => [
    maybe([0, -0, 1.5, -1e300, Number.NaN, Number.POSITIVE_INFINITY, r() * 1e6][Math.floor(r() * 7)]),
    maybe([0, -1, 1_700_000_000_123, -86_400_000 * 365 * 300, Date.UTC(2262, 0, 1), Math.floor(r() * 2 ** 52) * (r() < 0.5 ? -1 : 1)][Math.floor(r() * 6)]),
    maybe(r() < 0.5),
    maybe(TEXTS[Math.floor(r() * TEXTS.length)]),
  ]);
}

/** What Arrow gives back for a value appended to column c. */
function toStored(v: unknown, c: number): unknown {
  if (v === null || v === undefined) return null;
  // UTF-8 cannot hold a lone surrogate: both builders write U+FFFD instead.
  if (c === 3) return (v as string).replace('\ud800', '\ufffd');
  return v;
}

const ipc = (batches: RecordBatch[]) => sha256Hex(tableToIPC(new Table(batches), 'file'));

describe('BatchBuilder', () => {
  it.each([0, 1, 7, 8, 9, 63, 64, 65, 511, 512, 513, 1025, 5000, 65_536])('matches the Arrow builders byte for byte for %i rows', (n) => {
    for (const nullRate of [0, 0.1, 1]) {
      const rows = randomRows(n, n * 31 + Math.round(nullRate * 10), nullRate);
      const builder = new BatchBuilder(schema);
      rows.forEach((row) => builder.append(row));
      expect(builder.length).toBe(n);
      const ours = builder.flush();
      expect(ipc([ours])).toBe(ipc([arrowBuilderBatch(rows)]));
      // Decoded values too (the bytes already say it; this says where when they differ), on the smaller sizes.
      if (n <= 5000) expect(ours.toArray().map((r) => Object.values(r.toJSON()))).toEqual(rows.map((row) => row.map((v, c) => toStored(v, c))));
    }
  });

  it('starts over after a flush, so consecutive batches equal batches built apart', () => {
    const builder = new BatchBuilder(schema);
    const parts = [randomRows(3000, 1, 0.2), randomRows(10, 2, 0.5), randomRows(0, 3, 0), randomRows(700, 4, 0)];
    const ours = parts.map((rows) => {
      rows.forEach((row) => builder.append(row));
      return builder.flush();
    });
    expect(ipc(ours)).toBe(ipc(parts.map(arrowBuilderBatch)));
  });

  it('refuses a non-canonical column type', async () => {
    const { Schema, Field, Int32 } = await import('apache-arrow');
    expect(() => new BatchBuilder(new Schema([new Field('i', new Int32())]))).toThrow(/not a canonical column type/);
  });
});
