// CPU-heavy training activities; registered on the `<queue>-train` task queue.
import { heartbeat } from '@temporalio/activity';
import type { ParityReport } from '../lib/onnx/parity.js';
import { trainLogisticModel, verifyModelParity, type TrainedModel } from '../lib/training/train.js';
import type { TrainingInput } from '../lib/training/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createTrainingActivities(deps: ActivityDeps) {
  return {
    /** Deterministic for a seed, so a retry writes the same content-addressed model. */
    async trainModel(runId: string, input: TrainingInput): Promise<TrainedModel> {
      return withFailureMapping(() => trainLogisticModel(deps, runId, input, (progress) => heartbeat(progress)));
    },
    async checkOnnxParity(trained: Pick<TrainedModel, 'modelUri' | 'validationUri' | 'signature'>): Promise<ParityReport> {
      heartbeat();
      return withFailureMapping(() => verifyModelParity(deps.artifacts, trained));
    },
  };
}
