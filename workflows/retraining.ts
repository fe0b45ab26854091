// Retraining stage: prediction log + feedback -> a new dataset version -> the training workflow (which
// goes on to gates, approval and release). One per model at a time: the id is `retrain-<model>`.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, defineQuery, executeChild, proxyActivities, setCurrentDetails, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createMonitoringActivities } from '../activities/monitoring.js';
import type { RetrainPolicy } from '../lib/monitoring/policy.js';
import { LONG_IO, SHORT_IO } from './activity-options.js';
import { MODEL_NAME, STAGE } from './search-attributes.js';
import { trainingWorkflow } from './training.js';

export interface RetrainingInput {
  modelName: string;
  /** Why: drift, quality, new_labels, schedule. */
  reasons: string[];
  /** The monitoring report or schedule that fired it. */
  triggerId: string;
  startedBy: string;
  target?: string;
  features?: string[];
  /** The retrained version's rollout once approved (policy `retrain.rollout`). */
  rollout?: RetrainPolicy['rollout'];
}

/** What a retrain takes from the model's retrain policy. */
export function retrainSettings(policy: RetrainPolicy): Pick<RetrainingInput, 'startedBy' | 'target' | 'features' | 'rollout'> {
  return { startedBy: policy.startedBy, target: policy.target, features: policy.features, rollout: policy.rollout };
}

export interface RetrainingStatus {
  stage: 'preparing_data' | 'training' | 'completed' | 'failed';
  modelName: string;
  reasons: string[];
  datasetVersionId?: string;
  parentDatasetVersionId?: string;
  labelledRows?: number;
  trainingRunId?: string;
}

export interface RetrainingResult {
  modelName: string;
  datasetVersionId: string;
  labelledRows: number;
  trainingRunId: string;
  version: number;
  approved: boolean;
}

export const retrainingStatusQuery = defineQuery<RetrainingStatus>('status');

/** The fixed id: starting a second retrain of a model while one runs fails, so at most one runs. */
export function retrainingWorkflowId(modelName: string): string {
  return `retrain-${modelName}`;
}

/** The Temporal Schedule that retrains a model periodically (policy `retrain.everySeconds`). */
export function retrainingScheduleId(modelName: string): string {
  return `retrain-schedule-${modelName}`;
}

const monitoring = proxyActivities<ReturnType<typeof createMonitoringActivities>>(SHORT_IO);

export async function retrainingWorkflow(input: RetrainingInput): Promise<RetrainingResult> {
  const { prepareRetraining } = proxyActivities<ReturnType<typeof createMonitoringActivities>>(LONG_IO);
  const info = workflowInfo();
  const runKey = `${info.workflowId}-${info.runId.slice(0, 8)}`;
  const status: RetrainingStatus = { stage: 'preparing_data', modelName: input.modelName, reasons: input.reasons };
  setHandler(retrainingStatusQuery, () => status);
  upsertSearchAttributes([{ key: MODEL_NAME, value: input.modelName }, { key: STAGE, value: 'retraining' }]);
  setCurrentDetails(`Retraining **${input.modelName}** (${input.reasons.join(', ')}): joining the prediction log with feedback`);
  const plan = await prepareRetraining({ modelName: input.modelName, runId: runKey, untilIso: new Date().toISOString(), startedBy: input.startedBy, target: input.target, features: input.features });
  Object.assign(status, { stage: 'training', datasetVersionId: plan.datasetVersionId, parentDatasetVersionId: plan.parentDatasetVersionId, labelledRows: plan.labelledRows, trainingRunId: runKey });
  setCurrentDetails(`Training run \`${runKey}\` on \`${plan.datasetVersionId}\` (${plan.labelledRows} labelled predictions added)`);
  const result = await executeChild(trainingWorkflow, {
    workflowId: runKey,
    args: [{ ...plan.training, rollout: input.rollout }],
    staticSummary: `Retrain ${input.modelName} (${input.reasons.join(', ')})`,
  });
  status.stage = 'completed';
  return { modelName: input.modelName, datasetVersionId: plan.datasetVersionId, labelledRows: plan.labelledRows, trainingRunId: runKey, version: result.version, approved: result.release.approved };
}

/**
 * Starts `retrainingWorkflow` under the model's fixed id unless one is running; returns what happened.
 * Used by the monitoring workflow and by the schedule trigger.
 */
export async function startRetraining(input: RetrainingInput): Promise<{ outcome: 'started' | 'already_running'; workflowId: string }> {
  const workflowId = retrainingWorkflowId(input.modelName);
  try {
    await startChild(retrainingWorkflow, {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `Retrain ${input.modelName}`,
    });
    return { outcome: 'started', workflowId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { outcome: 'already_running', workflowId };
    throw err;
  }
}

/** What a Temporal Schedule starts: a retrain for the schedule reason, skipped if one is running. */
export async function scheduledRetrainingWorkflow(input: Omit<RetrainingInput, 'reasons' | 'triggerId'>): Promise<{ outcome: string; workflowId: string }> {
  const triggerId = `schedule:${workflowInfo().workflowId}`;
  const started = await startRetraining({ ...input, reasons: ['schedule'], triggerId });
  await monitoring.recordRetrainTrigger({ id: triggerId, modelName: input.modelName, reasons: ['schedule'], workflowId: started.workflowId, outcome: started.outcome });
  return started;
}
