// Scoring deadlines: one timer for every call in flight, with the semantics of a timer per call.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScoringTimeoutError } from '../../../lib/errors.js';
import { Deadlines } from '../../../lib/serving/deadlines.js';

const never = () => new Promise<never>(() => {});

describe('Deadlines', () => {
  afterEach(() => vi.useRealTimers());

  it('passes answers and errors through, and times out a call that has not answered', async () => {
    const deadlines = new Deadlines({ timeoutMs: 30 });
    await expect(deadlines.race(Promise.resolve(1), 'm v1')).resolves.toBe(1);
    await expect(deadlines.race(Promise.reject(new Error('boom')), 'm v1')).rejects.toThrow('boom');
    const started = Date.now();
    const late = deadlines.race(never(), 'm v2');
    await expect(late).rejects.toThrow(new ScoringTimeoutError('m v2 did not answer within 30 ms.'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('times out each call after its own timeout, also when a later call has a shorter one', async () => {
    vi.useFakeTimers();
    const options = { timeoutMs: 1000 };
    const deadlines = new Deadlines(options);
    const settled: string[] = [];
    const track = (p: Promise<unknown>, name: string) => p.catch((err: Error) => settled.push(`${name}: ${err.message}`));
    const first = track(deadlines.race(never(), 'slow'), 'first');
    let answer!: (v: number) => void;
    const answered = deadlines.race(new Promise<number>((r) => (answer = r)), 'answers');
    options.timeoutMs = 50;
    const second = track(deadlines.race(never(), 'fast'), 'second');
    await vi.advanceTimersByTimeAsync(60);
    expect(settled).toEqual(['second: fast did not answer within 50 ms.']);
    answer(7);
    await expect(answered).resolves.toBe(7);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all([first, second]);
    expect(settled).toEqual(['second: fast did not answer within 50 ms.', 'first: slow did not answer within 1000 ms.']);
    // Nothing left in flight: no timer keeps the process up.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps working through many answered calls while an old one is still in flight', async () => {
    vi.useFakeTimers();
    const deadlines = new Deadlines({ timeoutMs: 100 });
    const stuck = deadlines.race(never(), 'stuck').catch((err: Error) => err.message);
    for (let i = 0; i < 5000; i++) await deadlines.race(Promise.resolve(i), 'ok');
    await vi.advanceTimersByTimeAsync(100);
    expect(await stuck).toBe('stuck did not answer within 100 ms.');
    expect(vi.getTimerCount()).toBe(0);
  });
});
