// RefreshingCache: answers within the TTL, refreshed ahead in the background past half of it, never given out
// past it, failed reads not kept, and a change dropped by `delete` never resurrected by a refresh in flight.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshingCache } from '../../../lib/util/refreshing-cache.js';

/** A read whose answers the test releases one by one. */
function controlledReads() {
  const pending: Array<{ resolve: (v: number) => void; reject: (e: Error) => void }> = [];
  const read = () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject }));
  return { read, pending };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A cache with TTL 1000 whose key 'k' was read (answer 1) at time 0. */
async function primed() {
  const cache = new RefreshingCache<string, number>(1000);
  const { read, pending } = controlledReads();
  const first = cache.get('k', read);
  pending[0].resolve(1);
  await first;
  return { cache, read, pending };
}

describe('RefreshingCache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('reads once for concurrent callers and answers from the cache within half the TTL', async () => {
    const cache = new RefreshingCache<string, number>(1000);
    const { read, pending } = controlledReads();
    const a = cache.get('k', read);
    const b = cache.get('k', read);
    expect(pending).toHaveLength(1);
    pending[0].resolve(1);
    expect([await a, await b]).toEqual([1, 1]);
    vi.setSystemTime(499);
    expect(await cache.get('k', read)).toBe(1);
    expect(pending).toHaveLength(1);
  });

  it('past half the TTL answers at once with the cached value while one background read replaces it', async () => {
    const { cache, read, pending } = await primed();
    vi.setSystemTime(600);
    expect(await cache.get('k', read)).toBe(1);
    expect(await cache.get('k', read)).toBe(1);
    expect(pending).toHaveLength(2);
    pending[1].resolve(2);
    await flush();
    expect(await cache.get('k', read)).toBe(2);
    // The refreshed answer counts from when its read started (600): no read before 1100, a background one from then.
    vi.setSystemTime(1099);
    expect(await cache.get('k', read)).toBe(2);
    expect(pending).toHaveLength(2);
    vi.setSystemTime(1100);
    expect(await cache.get('k', read)).toBe(2);
    expect(pending).toHaveLength(3);
  });

  it('never answers past the TTL: callers then wait for a fresh read', async () => {
    const { cache, read, pending } = await primed();
    vi.setSystemTime(1000);
    const late = cache.get('k', read);
    let answered = false;
    void late.then(() => (answered = true));
    await flush();
    expect(answered).toBe(false);
    pending[1].resolve(5);
    expect(await late).toBe(5);
  });

  it('keeps no failed read, and keeps the old answer when a background refresh fails', async () => {
    const cache = new RefreshingCache<string, number>(1000);
    const { read, pending } = controlledReads();
    const failed = cache.get('k', read);
    pending[0].reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    const second = cache.get('k', read);
    expect(pending).toHaveLength(2);
    pending[1].resolve(1);
    expect(await second).toBe(1);
    vi.setSystemTime(700);
    expect(await cache.get('k', read)).toBe(1);
    pending[2].reject(new Error('down'));
    await flush();
    expect(await cache.get('k', read)).toBe(1);
    // The failed refresh may be tried again by the next caller.
    expect(pending).toHaveLength(4);
  });

  it('drops a deleted key at once, and a refresh in flight for it does not bring the old answer back', async () => {
    const { cache, read, pending } = await primed();
    vi.setSystemTime(600);
    await cache.get('k', read);
    cache.delete('k');
    pending[1].resolve(1);
    await flush();
    const after = cache.get('k', read);
    expect(pending).toHaveLength(3);
    pending[2].resolve(9);
    expect(await after).toBe(9);
  });

  it('stays bounded: beyond maxEntries the oldest key goes', async () => {
    const cache = new RefreshingCache<number, number>(1000, 2);
    let reads = 0;
    const read = async () => ++reads;
    await cache.get(1, read);
    await cache.get(2, read);
    await cache.get(3, read);
    expect(reads).toBe(3);
    await cache.get(3, read);
    await cache.get(2, read);
    expect(reads).toBe(3);
    await cache.get(1, read);
    expect(reads).toBe(4);
  });
});
