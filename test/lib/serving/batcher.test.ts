import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../../lib/serving/batcher.js';
import { concatColumns } from '../../../lib/serving/predictor.js';
import type { ModelSignature } from '../../../lib/training/types.js';

/** A runner that echoes each input row tagged with the batch it ran in. */
function echo() {
  const calls: Array<{ key: string; requests: number; rows: number }> = [];
  const batcher = new MicroBatcher<number[], string>(
    async (key, parts, total) => {
      calls.push({ key, requests: parts.length, rows: total });
      await new Promise((r) => setTimeout(r, 1));
      return parts.flatMap((p) => p.input.map((v) => `${key}:${v}`));
    },
    { maxBatchRows: 8, maxWaitMs: 0 },
  );
  return { batcher, calls };
}

describe('MicroBatcher', () => {
  it('scores concurrent requests for one key in one call and gives each exactly its own rows', async () => {
    const { batcher, calls } = echo();
    const inputs = [[1, 2], [3], [4, 5, 6]];
    const out = await Promise.all(inputs.map((rows) => batcher.submit('m@1', rows, rows.length)));
    expect(out).toEqual([['m@1:1', 'm@1:2'], ['m@1:3'], ['m@1:4', 'm@1:5', 'm@1:6']]);
    expect(calls).toEqual([{ key: 'm@1', requests: 3, rows: 6 }]);
  });

  it('never mixes keys and caps a batch at maxBatchRows', async () => {
    const { batcher, calls } = echo();
    const jobs = [
      batcher.submit('a', [1, 2, 3, 4, 5], 5),
      batcher.submit('b', [9], 1),
      batcher.submit('a', [6, 7, 8, 9], 4), // would make 9 > 8: starts a new batch
      batcher.submit('a', Array.from({ length: 20 }, (_, i) => 100 + i), 20), // larger than a batch: alone
    ];
    const out = await Promise.all(jobs);
    expect(out[0]).toEqual([1, 2, 3, 4, 5].map((v) => `a:${v}`));
    expect(out[1]).toEqual(['b:9']);
    expect(out[2]).toEqual([6, 7, 8, 9].map((v) => `a:${v}`));
    expect(out[3]).toHaveLength(20);
    expect(calls.every((c) => c.rows <= 8 || c.requests === 1)).toBe(true);
    expect(calls.filter((c) => c.key === 'b')).toEqual([{ key: 'b', requests: 1, rows: 1 }]);
  });

  it('fails every request of a failed batch, and only those', async () => {
    const batcher = new MicroBatcher<number, number>(async (key, parts) => {
      if (key === 'bad') throw new Error('model exploded');
      return parts.map((p) => p.input);
    }, { maxBatchRows: 64, maxWaitMs: 2 });
    const results = await Promise.allSettled([batcher.submit('bad', 1, 1), batcher.submit('bad', 2, 1), batcher.submit('good', 3, 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('rejects when the runner returns the wrong number of rows', async () => {
    const batcher = new MicroBatcher<number, number>(async () => [1], { maxBatchRows: 64, maxWaitMs: 0 });
    await expect(Promise.all([batcher.submit('k', 1, 1), batcher.submit('k', 2, 1)])).rejects.toThrow(/1 results for 2 rows/);
  });
});

describe('concatColumns', () => {
  it('joins float and string columns in request order', () => {
    const signature = { features: [{ name: 'x', type: 'float' }, { name: 'c', type: 'string' }] } as unknown as ModelSignature;
    const joined = concatColumns(
      signature,
      [
        { input: { x: Float32Array.of(1, 2), c: ['a', null] }, n: 2 },
        { input: { x: Float32Array.of(3), c: ['b'] }, n: 1 },
      ],
      3,
    );
    expect(Array.from(joined.x as Float32Array)).toEqual([1, 2, 3]);
    expect(joined.c).toEqual(['a', null, 'b']);
  });
});
