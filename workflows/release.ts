// Release stage: a registered version is evaluated against its model's gates; when they pass it waits for a
// human decision (Update or Signal, on durable timers), then becomes @production or is rejected.
// One release workflow per model version.
import { ActivityFailure, ApplicationFailure, condition, executeChild, defineQuery, defineSignal, defineUpdate, log, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createReleaseActivities } from '../activities/release.js';
import { DEADLINE_APPROVER, effectivePolicy, GATES_APPROVER, gatesRejectionReason, validateDecision } from '../lib/release/approval.js';
import type { ApprovalDecision, ApprovalPolicy, ApprovalRecord, DecisionChannel, ReleaseGates, ReleaseInput, ReleaseResult, ReleaseStage, ReleaseStatus, SignalledDecision } from '../lib/release/types.js';
import { PRODUCTION_ALIAS, reportPath } from '../lib/registry/types.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { rolloutWorkflow, rolloutWorkflowId } from './rollout.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('reject');
/** The same decision as a Signal, for Temporal CLI and Web UI users; invalid ones are recorded in the status and ignored. */
export const decideSignal = defineSignal<[SignalledDecision]>('decide');
export const releaseStatusQuery = defineQuery<ReleaseStatus>('status');

/** One release per model version: the id is derived, so a retried start finds the running one. */
export function releaseWorkflowId(modelName: string, version: number): string {
  return `release-${modelName}-v${version}`;
}

const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseResult> {
  const { evaluateCandidate } = proxyActivities<ReturnType<typeof createReleaseActivities>>(longCpu());
  const status: ReleaseStatus = {
    stage: 'evaluating',
    modelName: input.modelName,
    version: input.version,
    trainingRunId: input.trainingRunId,
    refusedDecisions: [],
  };
  let decision: ApprovalRecord | undefined;
  // The run's own policy until the model's is loaded (nothing can be decided before that anyway).
  let policy: ApprovalPolicy = input.approval ?? {};

  const enter = (stage: ReleaseStage, details: string) => {
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
    validateDecision(d, { awaiting: status.stage === 'awaiting_approval' && decision === undefined, startedBy: input.startedBy, policy });
  // Update validators must not change state; a refused Update is logged here and returned to its caller.
  const validator = (d: ApprovalDecision) => {
    try {
      check(d);
    } catch (err) {
      log.warn('Refused approval Update', { approver: d?.approver, error: (err as Error).message });
      throw err;
    }
  };
  setHandler(releaseStatusQuery, () => status);
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

  upsertSearchAttributes([
    { key: MODEL_NAME, value: input.modelName },
    { key: MODEL_VERSION, value: input.version },
  ]);
  const releaseId = releaseWorkflowId(input.modelName, input.version);

  // Gates first: a candidate that fails them (or cannot be evaluated) is never put to an approver.
  enter('evaluating', `Evaluating ${input.modelName} v${input.version} against its gates`);
  let gates: ReleaseGates | undefined;
  try {
    const evaluation = await evaluateCandidate({ modelName: input.modelName, version: input.version, generatedAt: new Date().toISOString() });
    gates = { ...evaluation.gates, reportUri: evaluation.reportUri, reportPath: reportPath(input.modelName, input.version), championVersion: evaluation.championVersion };
    status.gates = gates;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    status.evaluationError = err.cause instanceof ApplicationFailure ? err.cause.message : (err.cause?.message ?? err.message);
  }
  if (!gates?.passed) {
    const reason = gatesRejectionReason(gates, status.evaluationError);
    const final = decide(false, { approver: GATES_APPROVER, reason }, 'gates');
    await registry.recordReleaseDecision({ releaseId, trainingRunId: input.trainingRunId ?? null, modelName: input.modelName, version: input.version, approved: false, approver: final.approver, reason: final.reason, via: final.via, at: final.at });
    if (input.trainingRunId) await registry.setTrainingRunStatus(input.trainingRunId, 'gates_failed');
    enter('gates_failed', gates ? `${gates.failed} of ${gates.total} gates failed; report at ${gates.reportPath}` : reason);
    return { modelName: input.modelName, version: input.version, approved: false, decision: final, gates };
  }

  policy = effectivePolicy(await registry.loadApprovalPolicy(input.modelName), input.approval);
  status.approvers = policy.approvers;
  enter('awaiting_approval', `${input.modelName} v${input.version} passed ${gates.total} gates (report: ${gates.reportPath}) and awaits approval: send the \`approve\` or \`reject\` Update`);
  await awaitDecision(policy, () => decision !== undefined, async () => {
    await registry.sendApprovalReminder(policy.reminderWebhook!, { workflowId: releaseId, modelName: input.modelName, version: input.version, report: reportPath(input.modelName, input.version) });
    status.reminderSentAt = new Date().toISOString();
  });
  if (decision === undefined) {
    decide(false, { approver: DEADLINE_APPROVER, reason: `No decision within ${policy.deadlineSeconds} s; rejected automatically.` }, 'deadline');
  }
  const final = decision!;
  await registry.recordReleaseDecision({
    releaseId: releaseWorkflowId(input.modelName, input.version),
    trainingRunId: input.trainingRunId ?? null,
    modelName: input.modelName,
    version: input.version,
    approved: final.approved,
    approver: final.approver,
    reason: final.reason,
    via: final.via,
    at: final.at,
  });

  if (final.approved) {
    enter('promoting', `Approved by ${final.approver}; rolling out (${input.rollout?.strategy ?? 'blue-green'}) and setting @${PRODUCTION_ALIAS}`);
    const rollout = await executeChild(rolloutWorkflow, {
      workflowId: rolloutWorkflowId(input.modelName, input.version),
      args: [{ modelName: input.modelName, version: input.version, rollout: input.rollout, actor: final.approver, reason: final.reason, aliasSource: releaseId }],
      staticSummary: `Roll out ${input.modelName} v${input.version}`,
    });
    status.rollout = { workflowId: rolloutWorkflowId(input.modelName, input.version), outcome: rollout.outcome, reason: rollout.reason };
    if (rollout.outcome !== 'promoted') {
      if (input.trainingRunId) await registry.setTrainingRunStatus(input.trainingRunId, 'rolled_back');
      enter('rolled_back', `Approved, but the rollout ended ${rollout.outcome}: ${rollout.reason}`);
      return { modelName: input.modelName, version: input.version, approved: final.approved, decision: final, gates, rollout: status.rollout };
    }
    if (input.trainingRunId) await registry.setTrainingRunStatus(input.trainingRunId, 'promoted');
    enter('completed', `v${input.version} is @${PRODUCTION_ALIAS}`);
    return { modelName: input.modelName, version: input.version, approved: final.approved, decision: final, gates, rollout: status.rollout };
  } else {
    if (input.trainingRunId) await registry.setTrainingRunStatus(input.trainingRunId, 'rejected');
    enter('rejected', `Rejected by ${final.approver}: ${final.reason}`);
  }
  return { modelName: input.modelName, version: input.version, approved: final.approved, decision: final, gates };
}

/**
 * Waits on durable timers: a reminder after `reminderAfterSeconds`, then until
 * `deadlineSeconds` (counted from the start of the wait). Returns when decided or at the deadline.
 */
async function awaitDecision(policy: ApprovalPolicy, decided: () => boolean, remind: () => Promise<void>): Promise<void> {
  let waitedMs = 0;
  if (policy.reminderAfterSeconds !== undefined && policy.reminderWebhook) {
    waitedMs = policy.reminderAfterSeconds * 1000;
    if (await condition(decided, waitedMs)) return;
    await remind();
  }
  if (policy.deadlineSeconds === undefined) return condition(decided);
  await condition(decided, Math.max(1, policy.deadlineSeconds * 1000 - waitedMs));
}
