// Rollout stage: puts a registered version into service by a strategy (blue-green, canary steps with
// automated analysis and rollback, or shadow with a comparison report). Every change goes through the
// deployment state (history + NOTIFY) and every step and decision is recorded and visible in the status query.
import { ApplicationFailure, condition, defineQuery, defineSignal, defineUpdate, log, proxyActivities, setCurrentDetails, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createRolloutActivities } from '../activities/rollout.js';
import type { DeploymentPatch, DeploymentState } from '../lib/serving/deployments.js';
import {
  decideStep,
  PROMOTION_DEADLINE_APPROVER,
  resolveRollout,
  validatePromotionDecision,
  type PromotionDecision,
  type PromotionDecisionRecord,
  type ResolvedRollout,
  type RolloutInput,
  type RolloutResult,
  type RolloutStage,
  type RolloutStatus,
  type RolloutStep,
  type SignalledPromotionDecision,
  type WindowAnalysis,
} from '../lib/serving/rollout.js';
import { PRODUCTION_ALIAS } from '../lib/registry/types.js';
import { SHORT_IO } from './activity-options.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const rolloutStatusQuery = defineQuery<RolloutStatus>('rolloutStatus');
/** Promotion decisions for a rollout that asks for approval before its last canary step. */
export const approvePromotionUpdate = defineUpdate<PromotionDecisionRecord, [PromotionDecision]>('approvePromotion');
export const rejectPromotionUpdate = defineUpdate<PromotionDecisionRecord, [PromotionDecision]>('rejectPromotion');
/** The same decision as a Signal, for Temporal CLI and Web UI users; invalid ones are recorded in the status and ignored. */
export const decidePromotionSignal = defineSignal<[SignalledPromotionDecision]>('decidePromotion');

/** One rollout per model version: a retried start finds the running one. */
export function rolloutWorkflowId(modelName: string, version: number): string {
  return `rollout-${modelName}-v${version}`;
}

const rollouts = proxyActivities<ReturnType<typeof createRolloutActivities>>(SHORT_IO);
const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  let r: ResolvedRollout;
  try {
    r = resolveRollout(input.rollout);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'ValidationError');
  }
  const { modelName, version } = input;
  const { workflowId: rolloutId, runId } = workflowInfo();
  const status: RolloutStatus = { modelName, version, strategy: r.strategy, stage: 'starting', percent: 0, previousStable: null, steps: [] };
  setHandler(rolloutStatusQuery, () => status);

  // Promotion approval: handlers exist from the start, but a decision is only taken while the rollout awaits one.
  let promotion: PromotionDecisionRecord | undefined;
  const approvalState: RolloutStatus['approval'] = r.approval ? { ...(r.approval.approvers?.length ? { approvers: r.approval.approvers } : {}), refusedDecisions: [] } : undefined;
  if (approvalState) status.approval = approvalState;
  const checkDecision = (d: PromotionDecision | undefined) =>
    validatePromotionDecision(d, { awaiting: status.stage === 'awaiting_approval' && promotion === undefined, startedBy: input.actor, approvers: r.approval?.approvers });
  const decidePromotion = (approved: boolean, d: PromotionDecision, via: PromotionDecisionRecord['via']): PromotionDecisionRecord => {
    promotion = { approver: d.approver.trim(), reason: d.reason.trim(), approved, at: new Date().toISOString(), via };
    if (approvalState) approvalState.decision = promotion;
    return promotion;
  };
  const validator = (d: PromotionDecision) => {
    try {
      checkDecision(d);
    } catch (err) {
      log.warn('Refused promotion Update', { approver: d?.approver, error: (err as Error).message });
      throw err;
    }
  };
  setHandler(approvePromotionUpdate, (d) => decidePromotion(true, d, 'update'), { validator });
  setHandler(rejectPromotionUpdate, (d) => decidePromotion(false, d, 'update'), { validator });
  setHandler(decidePromotionSignal, (d) => {
    try {
      if (d?.decision !== 'approve' && d?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
      checkDecision(d);
      decidePromotion(d.decision === 'approve', d, 'signal');
    } catch (err) {
      const error = (err as Error).message;
      log.warn('Refused promotion Signal', { approver: d?.approver, error });
      approvalState?.refusedDecisions.push({ approver: String(d?.approver ?? ''), decision: String(d?.decision ?? ''), error, at: new Date().toISOString() });
    }
  });

  upsertSearchAttributes([
    { key: MODEL_NAME, value: modelName },
    { key: MODEL_VERSION, value: version },
  ]);

  const enter = (stage: RolloutStage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: `rollout:${stage}` }]);
    setCurrentDetails(details);
  };
  const record = async (step: Omit<RolloutStep, 'seq' | 'at'>): Promise<RolloutStep> => {
    const full: RolloutStep = { ...step, seq: status.steps.length + 1, at: new Date().toISOString() };
    status.steps.push(full);
    await rollouts.recordRolloutStep({ rolloutId, runId, modelName, version, strategy: r.strategy, step: full });
    return full;
  };
  const change = (patch: DeploymentPatch, reason: string) => rollouts.changeDeployment({ modelName, ...patch, actor: input.actor, reason, source: rolloutId });
  /** Reads the serving state back and fails loudly when it is not what was set. */
  const verify = async (expected: Partial<Pick<DeploymentState, 'stableVersion' | 'canaryVersion' | 'canaryPercent' | 'shadowVersion' | 'shadowFraction'>>) => {
    const { deployment } = await rollouts.readServingState(modelName);
    // Percent and fraction are stored as float4: compared with a tolerance.
    const same = (a: unknown, b: unknown) => a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) < 1e-4);
    const wrong = Object.entries(expected).filter(([k, v]) => !same(deployment?.[k as keyof DeploymentState], v));
    if (!deployment || wrong.length > 0) {
      const msg = `Serving state of ${modelName} is not what rollout ${rolloutId} set: expected ${JSON.stringify(expected)}, found ${JSON.stringify(deployment)}`;
      status.error = msg;
      throw ApplicationFailure.nonRetryable(msg, 'RolloutVerificationError');
    }
  };
  const analyze = (stableVersion: number, arm: 'canary' | 'shadow', since: string): Promise<WindowAnalysis> =>
    rollouts.analyzeRolloutWindow({ modelName, stableVersion, candidateVersion: version, arm, since, until: new Date().toISOString(), thresholds: r.thresholds });
  const result = (outcome: RolloutResult['outcome'], reason: string, report?: WindowAnalysis): RolloutResult => {
    status.outcome = outcome;
    enter(outcome === 'promoted' ? 'completed' : outcome, reason);
    return { modelName, version, strategy: r.strategy, outcome, reason, steps: status.steps, report };
  };

  const before = await rollouts.readServingState(modelName);
  const stable = before.deployment?.stableVersion ?? before.productionVersion;
  status.previousStable = stable;

  /**
   * Blue-green switch (also the last canary step): stable at once, the old stable stays warm as fallback,
   * @production follows. A model with no deployment row is served at @production, so there moving the alias
   * is the switch (and no row is created: serving stays as it was before rollouts existed).
   */
  const promote = async (kind: 'switch' | 'promote', why: string) => {
    enter(kind === 'switch' ? 'switching' : 'promoting', `Switching ${modelName} stable to v${version}`);
    const hasDeployment = kind === 'promote' || before.deployment !== null;
    if (hasDeployment) {
      const fallback = stable !== null && stable !== version ? stable : undefined;
      await change({ stableVersion: version, canary: null, shadow: null, ...(fallback !== undefined ? { fallbackVersion: fallback } : {}) }, why);
      await verify({ stableVersion: version, canaryVersion: null, shadowVersion: null });
    }
    await registry.setModelAlias({ modelName, alias: PRODUCTION_ALIAS, version, actor: input.actor, reason: input.reason, source: input.aliasSource ?? rolloutId });
    if (!hasDeployment) {
      const after = await rollouts.readServingState(modelName);
      if (after.deployment !== null || after.productionVersion !== version) {
        const msg = `Serving state of ${modelName} is not what rollout ${rolloutId} set: expected @${PRODUCTION_ALIAS} = v${version} and no deployment, found @${PRODUCTION_ALIAS} = v${after.productionVersion}, deployment ${JSON.stringify(after.deployment)}`;
        status.error = msg;
        throw ApplicationFailure.nonRetryable(msg, 'RolloutVerificationError');
      }
    }
    status.percent = 100;
    await record({ kind, percent: 100, verdict: null, decision: 'promoted', analysis: null });
  };

  if (r.strategy === 'blue-green' || stable === null || stable === version) {
    // Nothing to compare against (or already stable): a canary or shadow has no baseline, so switch.
    await promote('switch', `${input.reason} (blue-green)`);
    return result('promoted', `v${version} is stable and @${PRODUCTION_ALIAS}${stable !== null && stable !== version ? `; v${stable} stays warm as fallback` : ''}`);
  }

  if (r.strategy === 'shadow') {
    enter('shadowing', `Shadowing ${Math.round(r.shadowFraction * 100)}% of ${modelName} traffic on v${version} for ${r.stepSeconds} s`);
    await change({ stableVersion: stable, shadow: { version, fraction: r.shadowFraction } }, `${input.reason} (shadow ${r.shadowFraction})`);
    await verify({ stableVersion: stable, shadowVersion: version, shadowFraction: r.shadowFraction });
    await record({ kind: 'shadow_start', percent: r.shadowFraction * 100, verdict: null, decision: 'applied', analysis: null });
    const since = new Date().toISOString();
    await sleep(r.stepSeconds * 1000);
    const report = await analyze(stable, 'shadow', since);
    await change({ shadow: null }, `${input.reason} (shadow ended: ${report.verdict})`);
    await verify({ stableVersion: stable, shadowVersion: null });
    const promoteIt = r.promoteAfterShadow && report.verdict === 'successful';
    await record({ kind: 'shadow_report', percent: null, verdict: report.verdict, decision: promoteIt ? 'promote' : 'reported', analysis: report });
    if (promoteIt) {
      await promote('promote', `${input.reason} (after a successful shadow)`);
      return result('promoted', `Shadow comparison successful; v${version} promoted`, report);
    }
    return result('shadow_reported', `Shadow comparison ${report.verdict}; v${stable} stays stable`, report);
  }

  // Canary: each step below 100 % runs for stepSeconds, then is analyzed against stable over its window.
  const rollback = async (why: string): Promise<RolloutResult> => {
    enter('rolling_back', why);
    await change({ stableVersion: stable, canary: null }, `${input.reason} (rollback: ${why})`);
    await verify({ stableVersion: stable, canaryVersion: null });
    status.percent = 0;
    await record({ kind: 'rollback', percent: 0, verdict: null, decision: 'rollback', analysis: null });
    return result('rolled_back', why);
  };
  for (const percent of r.steps) {
    if (percent === 100) break;
    enter('canary', `Canary v${version} at ${percent}% of ${modelName} traffic (stable v${stable})`);
    await change({ stableVersion: stable, canary: { version, percent } }, `${input.reason} (canary ${percent}%)`);
    await verify({ stableVersion: stable, canaryVersion: version, canaryPercent: percent });
    status.percent = percent;
    await record({ kind: 'canary_step', percent, verdict: null, decision: 'applied', analysis: null });
    const since = new Date().toISOString();
    for (let waits = 0; ; waits++) {
      await sleep(r.stepSeconds * 1000);
      enter('analyzing', `Analyzing canary v${version} at ${percent}% (window since ${since})`);
      const analysis = await analyze(stable, 'canary', since);
      const decision = decideStep(analysis.verdict, waits, r);
      await record({ kind: 'analysis', percent, verdict: analysis.verdict, decision, analysis });
      if (decision === 'wait') continue;
      if (decision === 'rollback') {
        const failed = analysis.checks.filter((c) => !c.passed).map((c) => c.summary);
        return rollback(analysis.verdict === 'failed' ? `canary failed at ${percent}%: ${failed.join('; ')}` : `canary inconclusive at ${percent}% after ${waits} extra waits: ${failed.join('; ')}`);
      }
      break; // next or proceed
    }
  }
  if (r.approval) {
    const deadline = r.approval.deadlineSeconds;
    if (deadline !== undefined && approvalState) approvalState.deadlineAt = new Date(Date.now() + deadline * 1000).toISOString();
    enter('awaiting_approval', `Canary v${version} at ${status.percent}% passed its analyses; awaiting approval to promote (send the approvePromotion or rejectPromotion Update)`);
    const decided = deadline === undefined ? (await condition(() => promotion !== undefined), true) : await condition(() => promotion !== undefined, deadline * 1000);
    const final = decided ? promotion! : decidePromotion(false, { approver: PROMOTION_DEADLINE_APPROVER, reason: `No decision within ${deadline} s; the canary is rolled back.` }, 'deadline');
    await record({ kind: 'approval', percent: status.percent, verdict: null, decision: final.approved ? 'approved' : 'rejected', analysis: null, approval: final });
    if (!final.approved) return rollback(`promotion ${final.via === 'deadline' ? 'not decided in time' : `rejected by ${final.approver}`}: ${final.reason}`);
  }
  await promote('promote', `${input.reason} (canary completed${promotion?.approved ? `, approved by ${promotion.approver}` : ''})`);
  return result('promoted', `Canary passed every step; v${version} is stable and @${PRODUCTION_ALIAS}, v${stable} stays warm as fallback`);
}
