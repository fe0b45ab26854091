// Batch scoring stage: a dataset version or a Postgres query scored by one model version in Arrow batches, on the
// train queue, resumable after a crash from the last committed batch; predictions go to a Postgres table and/or
// one Arrow IPC or Parquet artifact. Started through the API, now or by a Temporal Schedule.
import { ActivityFailure, CancellationScope, defineQuery, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createBatchScoringActivities, createBatchScoringComputeActivities } from '../activities/batch-scoring.js';
import type { BatchScoringInput, BatchScoringResult } from '../lib/serving/batch-scoring.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { DATASET, MODEL_NAME, STAGE } from './search-attributes.js';

export interface BatchScoringWorkflowStatus {
  stage: 'planning' | 'scoring' | 'assembling' | 'completed' | 'failed';
  version?: number;
  batches?: number;
  error?: string;
}

export const batchScoringStatusQuery = defineQuery<BatchScoringWorkflowStatus>('status');

const light = proxyActivities<ReturnType<typeof createBatchScoringActivities>>(SHORT_IO);

function reason(err: unknown): string {
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The run id (batch_scoring_runs.id, and where parts are recorded) is the workflow id. */
export async function batchScoringWorkflow(input: BatchScoringInput): Promise<BatchScoringResult> {
  const runId = workflowInfo().workflowId;
  const compute = proxyActivities<ReturnType<typeof createBatchScoringComputeActivities>>(longCpu({ heartbeatTimeout: input.heartbeatTimeout }));
  const status: BatchScoringWorkflowStatus = { stage: 'planning' };
  setHandler(batchScoringStatusQuery, () => status);
  upsertSearchAttributes([
    { key: MODEL_NAME, value: input.modelName },
    ...(input.datasetVersionId !== undefined ? [{ key: DATASET, value: input.datasetVersionId }] : []),
    { key: STAGE, value: 'batch_scoring' },
  ]);
  try {
    const plan = await light.prepareBatchScoring(runId, input);
    Object.assign(status, { stage: 'scoring', version: plan.version, batches: plan.batches });
    await compute.scoreBatches(plan);
    status.stage = 'assembling';
    const result = await compute.assembleBatchScoring(plan);
    status.stage = 'completed';
    return result;
  } catch (err) {
    status.stage = 'failed';
    status.error = reason(err);
    await CancellationScope.nonCancellable(() => light.failBatchScoring(runId, status.error!));
    throw err;
  }
}
