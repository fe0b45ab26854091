// A fit job: one frame, one or more (train rows, scored rows) tasks, one parameter set. The unit of work a thread runs.
import { fitPipeline, type FittedPipeline, type IterationPoint } from './fit.js';
import type { TrainingFrame } from './frame.js';
import type { TrainingParams } from './types.js';

export interface FitJob {
  frame: TrainingFrame;
  params: TrainingParams;
  /** Fitted independently in order (e.g. the folds of a cross-validation). */
  tasks: Array<{ trainRows: Uint32Array; scoreRows: Uint32Array }>;
}

export interface FitProgress {
  task: number;
  tasks: number;
  point: IterationPoint;
}

export type FitMessage =
  | { type: 'progress'; progress: FitProgress }
  | { type: 'result'; results: FittedPipeline[] }
  | { type: 'error'; name: string; message: string; stack?: string };

export function runFitJob(job: FitJob, onProgress: (p: FitProgress) => void = () => {}): FittedPipeline[] {
  return job.tasks.map((t, i) =>
    fitPipeline(job.frame, t.trainRows, t.scoreRows, job.params, (point) => onProgress({ task: i, tasks: job.tasks.length, point })),
  );
}

/** Runs a job somewhere (a worker thread in activities, inline in tests); cancellable through `signal`. */
export type FitRunner = (job: FitJob, opts: { onProgress?: (p: FitProgress) => void; signal?: AbortSignal }) => Promise<FittedPipeline[]>;

/** Runs on the calling thread (tests, benchmarks). */
export const inlineRunner: FitRunner = async (job, opts) => {
  opts.signal?.throwIfAborted();
  return runFitJob(job, opts.onProgress);
};
