// Runs fit jobs posted by lib/training/thread.ts inside a worker thread, posting progress as it goes.
import { parentPort } from 'node:worker_threads';
import { runFitJob, type FitJob, type FitMessage } from './jobs.js';

const port = parentPort!;
port.once('message', (job: FitJob) => {
  try {
    const results = runFitJob(job, (progress) => port.postMessage({ type: 'progress', progress } satisfies FitMessage));
    port.postMessage({ type: 'result', results } satisfies FitMessage);
  } catch (err) {
    const e = err as Error;
    port.postMessage({ type: 'error', name: e.name, message: e.message, stack: e.stack } satisfies FitMessage);
  }
});
