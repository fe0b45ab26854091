// Runs CPU-heavy fit jobs in a worker thread, so the activity worker's event loop keeps heartbeating and polling.
// Aborting the signal terminates the thread at once (cancellation reaches the middle of an iteration).
import * as errors from '../errors.js';
import { startTsThread } from '../runtime/ts-thread.js';
import type { FittedPipeline } from './fit.js';
import type { FitMessage, FitRunner } from './jobs.js';

const ENTRY = new URL('./thread-entry.ts', import.meta.url);

/** Rebuilds a domain error thrown in the thread, so failure mapping (non-retryable types) still applies. */
function revive(name: string, message: string): Error {
  const Ctor = (errors as unknown as Record<string, unknown>)[name];
  if (typeof Ctor === 'function' && (Ctor as { prototype: unknown }).prototype instanceof errors.MlcycleError) {
    return new (Ctor as new (m: string) => Error)(message);
  }
  const err = new Error(message);
  err.name = name;
  return err;
}

let live = 0;

/** Fitting threads of this process that have started and not yet exited (a terminated thread counts until it is gone). */
export function liveFitThreads(): number {
  return live;
}

export const threadRunner: FitRunner = (job, opts) =>
  new Promise<FittedPipeline[]>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error('aborted'));
    const worker = startTsThread(ENTRY);
    live++;
    worker.once('exit', () => live--);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(opts.signal!.reason ?? new Error('aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: FitMessage) => {
      if (msg.type === 'progress') opts.onProgress?.(msg.progress);
      else if (msg.type === 'result') finish(() => resolve(msg.results));
      else finish(() => reject(revive(msg.name, msg.message)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`The fitting thread exited (code ${code}) before answering.`))));
    worker.postMessage(job);
  });
