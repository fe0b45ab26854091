// CPU-heavy training activities; registered on the `<queue>-train` task queue. Fitting runs in a worker thread
// (lib/training/thread.ts), so this event loop keeps heartbeating; cancelling the activity terminates the thread.
import { Context, heartbeat } from '@temporalio/activity';
import type { ParityReport } from '../lib/onnx/parity.js';
import { threadRunner } from '../lib/training/thread.js';
import { runTrial, trainModel, verifyModelParity, type TrainedModel, type TrainProgress, type TrialOutcome, type TrialRequest } from '../lib/training/train.js';
import type { TrainingInput } from '../lib/training/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

function context() {
  const ctx = Context.current();
  return { runner: threadRunner, signal: ctx.cancellationSignal, onProgress: (p: TrainProgress) => heartbeat(p) };
}

export function createTrainingActivities(deps: ActivityDeps) {
  return {
    /** Deterministic for a seed, so a retry writes the same content-addressed model. */
    async trainModel(runId: string, input: TrainingInput): Promise<TrainedModel> {
      return withFailureMapping(() => trainModel(deps, runId, input, context()));
    },
    /** One hyperparameter-search trial; idempotent (its tracked run is an upsert keyed by the trial id). */
    async runTrial(req: TrialRequest): Promise<TrialOutcome> {
      return withFailureMapping(() => runTrial(deps, req, context()));
    },
    async checkOnnxParity(trained: Pick<TrainedModel, 'modelUri' | 'validationUri' | 'signature'>): Promise<ParityReport> {
      heartbeat();
      return withFailureMapping(() => verifyModelParity(deps.artifacts, trained));
    },
  };
}
