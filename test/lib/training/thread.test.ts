// The worker-thread runner: same results as inline, progress messages, domain errors revived, abort terminates.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { buildFrame } from '../../../lib/training/frame.js';
import { inlineRunner, type FitJob } from '../../../lib/training/jobs.js';
import { resolveParams } from '../../../lib/training/params.js';
import { randomSplit } from '../../../lib/training/splits.js';
import { liveFitThreads, threadRunner } from '../../../lib/training/thread.js';
import { mixedTable } from './helpers.js';

function job(n: number, params = {}): FitJob {
  const frame = buildFrame(mixedTable({ n, seed: 4, classes: 3 }), { target: 'y', task: 'classification', features: ['x1', 'x2', 'color'] });
  const split = randomSplit(frame.n, 0.2, 0, 1);
  return { frame, params: resolveParams({ learner: 'logistic', ...params }), tasks: [{ trainRows: split.train, scoreRows: split.validation }] };
}

describe('threadRunner', () => {
  it('fits in a worker thread exactly as inline, reporting progress', async () => {
    const j = job(400);
    const seen: number[] = [];
    const [threaded] = await threadRunner(j, { onProgress: (p) => seen.push(p.point.step) });
    const [inline] = await inlineRunner(j, {});
    expect(Array.from(threaded.predictions)).toEqual(Array.from(inline.predictions));
    expect(threaded.head).toEqual(inline.head);
    expect(seen.length).toBe(threaded.iterations);
  });

  it('rethrows domain errors as their own class', async () => {
    const err = await threadRunner(job(100, { impute: 'none' }), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toContain('params.impute');
  });

  it('terminates the thread when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = threadRunner(job(20_000, { maxIterations: 10_000, C: 1e6 }), { signal: controller.signal, onProgress: () => controller.abort(new Error('cancelled by test')) });
    await expect(pending).rejects.toThrow('cancelled by test');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Terminated, not merely abandoned: the thread exits and stops using the CPU.
    const deadline = Date.now() + 5_000;
    while (liveFitThreads() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(liveFitThreads()).toBe(0);
  });
});
