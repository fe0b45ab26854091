// columnReader must give exactly what Vector.get gives, for every canonical type, through nulls and slices.
import { Bool, Float32, Float64, Int32, makeData, Table, TimestampMillisecond, Utf8, Vector, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { columnReader } from '../../../lib/data/column-reader.js';

const table = new Table({
  x: vectorFromArray([1.5, null, Number.NaN, -0, 3, null, Number.POSITIVE_INFINITY, 7, 9, 10, 11], new Float64()),
  at: vectorFromArray([null, -86_400_000 * 365 * 100, -1, 0, 1_700_000_000_123, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, null, 1_000, 4_294_967_296, -4_294_967_297], new TimestampMillisecond()),
  ok: vectorFromArray([true, false, null, true, true, false, null, false, true, true, false], new Bool()),
  s: vectorFromArray(['a', null, '', 'héllo', '\ufeffbom', '日本', null, 'x', 'y', 'zz', '🙂'], new Utf8()),
  i: vectorFromArray([1, 2, null, 4, 5, 6, 7, null, 9, 10, 11], new Int32()),
  f: vectorFromArray([1, 2, null, 4, 5, 6, 7, null, 9, 10, 11], new Float32()),
});

function same(vector: Vector) {
  const get = columnReader(vector);
  expect(Array.from({ length: vector.length }, (_, i) => get(i))).toEqual(Array.from({ length: vector.length }, (_, i) => vector.get(i)));
}

describe('columnReader', () => {
  it('reads every canonical type (and others through get) as Vector.get does, whole and sliced', () => {
    for (const name of ['x', 'at', 'ok', 's', 'i', 'f'] as const) {
      for (const [from, to] of [[0, 11], [3, 11], [5, 9], [1, 2], [7, 7]]) {
        const batch = table.slice(from, to).batches[0];
        if (batch) same(batch.getChild(name)!);
      }
    }
  });

  it('gives undecoded bytes the replacement character, as Vector.get does', () => {
    const data = makeData({ type: new Utf8(), length: 2, nullCount: 0, valueOffsets: new Int32Array([0, 2, 5]), data: new Uint8Array([0xc3, 0x28, 0xef, 0xbb, 0xbf]) });
    same(new Vector([data]));
  });

  it('reads a timestamp beyond 2^53 through get, and a missing column as nulls', () => {
    const big = makeData({ type: new TimestampMillisecond(), length: 1, nullCount: 0, data: new BigInt64Array([2n ** 60n]) });
    const get = columnReader(new Vector([big]));
    expect(() => get(0)).toThrow(/not safe/);
    expect(columnReader(null)(3)).toBeNull();
  });
});
