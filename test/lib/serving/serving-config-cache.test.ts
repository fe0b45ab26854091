// The serving config cache on the request path: reused within its TTL, dropped on a local change, never
// keeping a failed read.
import { describe, expect, it } from 'vitest';
import { ServingConfigCache } from '../../../lib/serving/serving-config.js';
import type { Db } from '../../../lib/storage/db.js';

function fakeDb(answers: Array<Error | Record<string, unknown> | null>): { db: Db; reads: () => number } {
  let reads = 0;
  const db = {
    async query() {
      const a = answers[Math.min(reads++, answers.length - 1)];
      if (a instanceof Error) throw a;
      return { rows: [{ serving_config: a }] };
    },
  } as unknown as Db;
  return { db, reads: () => reads };
}

describe('ServingConfigCache', () => {
  it('reads once per TTL and again after forget', async () => {
    const { db, reads } = fakeDb([{ defaultAnswer: { label: 'no' } }, { defaultAnswer: { label: 'yes' } }]);
    const cache = new ServingConfigCache(db, 60_000);
    expect((await cache.get('m')).config).toEqual({ defaultAnswer: { label: 'no' } });
    await cache.get('m');
    expect(reads()).toBe(1);
    cache.forget('m');
    expect((await cache.get('m')).config).toEqual({ defaultAnswer: { label: 'yes' } });
    expect(reads()).toBe(2);
  });

  it('answers an empty config for a model without one, and does not keep a failed read', async () => {
    const { db, reads } = fakeDb([new Error('connection lost'), null]);
    const cache = new ServingConfigCache(db, 60_000);
    await expect(cache.get('m')).rejects.toThrow('connection lost');
    expect(await cache.get('m')).toEqual({ config: {}, views: [] });
    expect(reads()).toBe(2);
  });

  it('re-reads after the TTL', async () => {
    const { db, reads } = fakeDb([null]);
    const cache = new ServingConfigCache(db, 5);
    await cache.get('m');
    await new Promise((r) => setTimeout(r, 15));
    await cache.get('m');
    expect(reads()).toBe(2);
  });
});
