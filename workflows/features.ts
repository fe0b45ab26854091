// Feature store stage: materialize a feature view's latest values per entity into the online store.
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createFeatureActivities } from '../activities/features.js';
import type { MaterializeInput, MaterializeResult, TrainingFrameRequest, TrainingFrameSummary } from '../lib/features/types.js';
import { LONG_IO } from './activity-options.js';
import { STAGE } from './search-attributes.js';

const { materializeFeatures, buildFeatureFrame } = proxyActivities<ReturnType<typeof createFeatureActivities>>(LONG_IO);

/** The run id is the workflow id unless given, so a retried activity finds its own run record. */
export async function materializeWorkflow(input: { view: string; runId?: string }): Promise<MaterializeResult> {
  upsertSearchAttributes([{ key: STAGE, value: 'features' }]);
  const run: MaterializeInput = { view: input.view, runId: input.runId ?? workflowInfo().workflowId };
  return materializeFeatures(run);
}

/** Builds a point-in-time training frame from registered views and stores it as a dataset version. */
export async function trainingFrameWorkflow(input: TrainingFrameRequest): Promise<TrainingFrameSummary> {
  upsertSearchAttributes([{ key: STAGE, value: 'features' }]);
  return buildFeatureFrame({ ...input, runId: input.runId ?? workflowInfo().workflowId });
}
