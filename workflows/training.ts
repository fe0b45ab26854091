// Training stage: train -> ONNX parity -> register -> wait for a human decision -> set the production alias.
import { condition, defineQuery, defineSignal, defineUpdate, log, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createTrainingActivities } from '../activities/training.js';
import { DEADLINE_APPROVER, validateDecision } from '../lib/release/approval.js';
import { PRODUCTION_ALIAS } from '../lib/registry/types.js';
import type { ApprovalDecision, ApprovalRecord, DecisionChannel, SignalledDecision, TrainingInput, TrainingResult, TrainingStage, TrainingStatus } from '../lib/training/types.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('reject');
/** The same decision as a Signal, for Temporal CLI and Web UI users; invalid ones are recorded in the status and ignored. */
export const decideSignal = defineSignal<[SignalledDecision]>('decide');
export const statusQuery = defineQuery<TrainingStatus>('status');

const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { trainModel, checkOnnxParity } = proxyActivities<ReturnType<typeof createTrainingActivities>>(longCpu());
  const runId = workflowInfo().workflowId;
  const status: TrainingStatus = { stage: 'training', modelName: input.modelName, refusedDecisions: [] };
  let decision: ApprovalRecord | undefined;

  const enter = (stage: TrainingStage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  };
  const decide = (approved: boolean, d: ApprovalDecision, via: DecisionChannel): ApprovalRecord => {
    decision = { approver: d.approver.trim(), reason: d.reason.trim(), approved, at: new Date().toISOString(), via };
    status.decision = decision;
    return decision;
  };
  const check = (d: ApprovalDecision | undefined) =>
    validateDecision(d, { awaiting: status.stage === 'awaiting_approval' && decision === undefined, startedBy: input.startedBy, policy: input.approval });
  // Update validators must not change state; a refused Update is logged here and returned to its caller.
  const validator = (d: ApprovalDecision) => {
    try {
      check(d);
    } catch (err) {
      log.warn('Refused approval Update', { approver: d?.approver, error: (err as Error).message });
      throw err;
    }
  };
  setHandler(statusQuery, () => status);
  setHandler(approveUpdate, (d) => decide(true, d, 'update'), { validator });
  setHandler(rejectUpdate, (d) => decide(false, d, 'update'), { validator });
  setHandler(decideSignal, (d) => {
    try {
      if (d?.decision !== 'approve' && d?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
      check(d);
      decide(d.decision === 'approve', d, 'signal');
    } catch (err) {
      const error = (err as Error).message;
      log.warn('Refused approval Signal', { approver: d?.approver, error });
      status.refusedDecisions.push({ approver: String(d?.approver ?? ''), decision: String(d?.decision ?? ''), error, at: new Date().toISOString(), via: 'signal' });
    }
  });

  upsertSearchAttributes([{ key: MODEL_NAME, value: input.modelName }]);
  enter('training', `Training **${input.modelName}** on dataset \`${input.datasetVersionId}\``);
  const trained = await trainModel(runId, input);
  status.metrics = trained.metrics;

  enter('checking_parity', 'Checking onnxruntime against the trainer');
  const parity = await checkOnnxParity(trained);
  status.maxAbsDiff = parity.maxAbsDiff;

  enter('registering', 'Registering the model version');
  const mv = await registry.registerModelVersion({
    modelName: input.modelName,
    trainingRunId: runId,
    sha256: trained.modelSha256,
    uri: trained.modelUri,
    signature: trained.signature,
    metrics: { ...trained.metrics, onnx_max_abs_diff: parity.maxAbsDiff },
    params: { ...trained.params, target: input.target },
    datasetVersionId: input.datasetVersionId,
    createdBy: input.startedBy,
  });
  status.version = mv.version;
  upsertSearchAttributes([{ key: MODEL_VERSION, value: mv.version }]);

  enter('awaiting_approval', `Version ${mv.version} awaits approval: send the \`approve\` or \`reject\` Update`);
  await awaitDecision(input, () => decision !== undefined, async () => {
    await registry.sendApprovalReminder(input.approval!.reminderWebhook!, {
      workflowId: runId,
      modelName: input.modelName,
      version: mv.version,
      metrics: trained.metrics,
    });
    status.reminderSentAt = new Date().toISOString();
  });
  if (decision === undefined) {
    decide(false, { approver: DEADLINE_APPROVER, reason: `No decision within ${input.approval!.deadlineSeconds} s; rejected automatically.` }, 'deadline');
  }
  const final = decision!;
  await registry.recordReleaseDecision({
    trainingRunId: runId,
    modelName: input.modelName,
    version: mv.version,
    approved: final.approved,
    approver: final.approver,
    reason: final.reason,
    via: final.via,
    at: final.at,
  });

  if (final.approved) {
    enter('promoting', `Approved by ${final.approver}; setting @${PRODUCTION_ALIAS}`);
    await registry.setModelAlias({
      modelName: input.modelName,
      alias: PRODUCTION_ALIAS,
      version: mv.version,
      actor: final.approver,
      reason: final.reason,
      source: runId,
    });
    await registry.setTrainingRunStatus(runId, 'promoted');
    enter('completed', `Version ${mv.version} is @${PRODUCTION_ALIAS}`);
  } else {
    await registry.setTrainingRunStatus(runId, 'rejected');
    enter('rejected', `Rejected by ${final.approver}: ${final.reason}`);
  }
  return { modelName: input.modelName, version: mv.version, approved: final.approved, decision: final, metrics: status.metrics };
}

/**
 * Waits on durable timers: a reminder after `reminderAfterSeconds`, then until
 * `deadlineSeconds` (counted from the start of the wait). Returns when decided or at the deadline.
 */
async function awaitDecision(input: TrainingInput, decided: () => boolean, remind: () => Promise<void>): Promise<void> {
  const policy = input.approval ?? {};
  let waitedMs = 0;
  if (policy.reminderAfterSeconds !== undefined && policy.reminderWebhook) {
    waitedMs = policy.reminderAfterSeconds * 1000;
    if (await condition(decided, waitedMs)) return;
    await remind();
  }
  if (policy.deadlineSeconds === undefined) return condition(decided);
  await condition(decided, Math.max(1, policy.deadlineSeconds * 1000 - waitedMs));
}
