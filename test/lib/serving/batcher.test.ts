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
  it('scores a request that finds its key idle at once, without waiting for company', () => {
    const { batcher, calls } = echo();
    void batcher.submit('m@1', [1], 1);
    // The runner was called inside submit: no timer, no turn of the event loop.
    expect(calls).toEqual([{ key: 'm@1', requests: 1, rows: 1 }]);
  });

  it('batches what arrives while a call runs into the next call, and gives each request exactly its own rows', async () => {
    const { batcher, calls } = echo();
    const inputs = [[1, 2], [3], [4, 5, 6], [7]];
    const out = await Promise.all(inputs.map((rows) => batcher.submit('m@1', rows, rows.length)));
    expect(out).toEqual([['m@1:1', 'm@1:2'], ['m@1:3'], ['m@1:4', 'm@1:5', 'm@1:6'], ['m@1:7']]);
    expect(calls).toEqual([
      { key: 'm@1', requests: 1, rows: 2 },
      { key: 'm@1', requests: 3, rows: 5 },
    ]);
  });

  it('never mixes keys, runs one call per key at a time and caps a batch at maxBatchRows', async () => {
    let running = 0;
    let most = 0;
    const calls: Array<{ key: string; requests: number; rows: number }> = [];
    const batcher = new MicroBatcher<number[], string>(
      async (key, parts, total) => {
        calls.push({ key, requests: parts.length, rows: total });
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return parts.flatMap((p) => p.input.map((v) => `${key}:${v}`));
      },
      { maxBatchRows: 8, maxWaitMs: 0 },
    );
    const jobs = [
      batcher.submit('a', [0], 1), // finds `a` idle: scored at once
      batcher.submit('a', [1, 2, 3, 4, 5], 5),
      batcher.submit('b', [9], 1),
      batcher.submit('a', [6, 7, 8, 9], 4), // would make 9 > 8: the call after
      batcher.submit('a', Array.from({ length: 20 }, (_, i) => 100 + i), 20), // larger than a batch: alone
    ];
    const out = await Promise.all(jobs);
    expect(out[0]).toEqual(['a:0']);
    expect(out[1]).toEqual([1, 2, 3, 4, 5].map((v) => `a:${v}`));
    expect(out[2]).toEqual(['b:9']);
    expect(out[3]).toEqual([6, 7, 8, 9].map((v) => `a:${v}`));
    expect(out[4]).toEqual(Array.from({ length: 20 }, (_, i) => `a:${100 + i}`));
    expect(calls.filter((c) => c.key === 'a')).toEqual([
      { key: 'a', requests: 1, rows: 1 },
      { key: 'a', requests: 1, rows: 5 },
      { key: 'a', requests: 1, rows: 4 },
      { key: 'a', requests: 1, rows: 20 },
    ]);
    expect(calls.filter((c) => c.key === 'b')).toEqual([{ key: 'b', requests: 1, rows: 1 }]);
    // `a` and `b` ran side by side, but never two calls of one key.
    expect(most).toBe(2);
  });

  it('with maxWaitMs, an idle key waits that long for company (or until a batch is full)', async () => {
    const { calls } = echo();
    const batcher = new MicroBatcher<number[], number>(
      async (key, parts, total) => {
        calls.push({ key, requests: parts.length, rows: total });
        return parts.flatMap((p) => p.input);
      },
      { maxBatchRows: 4, maxWaitMs: 5 },
    );
    const first = batcher.submit('k', [1], 1);
    const second = batcher.submit('k', [2], 1);
    expect(calls).toEqual([]);
    expect(await Promise.all([first, second])).toEqual([[1], [2]]);
    expect(calls).toEqual([{ key: 'k', requests: 2, rows: 2 }]);
    // A full batch does not wait.
    void batcher.submit('k', [1, 2, 3, 4], 4);
    expect(calls).toHaveLength(2);
  });

  it('keeps serving a key after a failed call', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>(async (_key, parts) => {
      if (fail) throw new Error('model exploded');
      return parts.map((p) => p.input);
    }, { maxBatchRows: 64, maxWaitMs: 0 });
    await expect(batcher.submit('k', 1, 1)).rejects.toThrow('model exploded');
    fail = false;
    expect(await batcher.submit('k', 2, 1)).toEqual([2]);
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
    const results = await Promise.allSettled([batcher.submit('k', 1, 1), batcher.submit('k', 2, 1), batcher.submit('k', 3, 1)]);
    // The first call (one row) is right; the second (two rows) got one result: both of its requests fail.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/1 results for 2 rows/);
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
