// Rollouts: the shapes a rollout workflow takes and reports, and its pure decisions (step plan, what to do
// after a canary analysis). No Temporal, no I/O: workflows/rollout.ts wires these to timers and activities.
import { ValidationError } from '../errors.js';
import { DEADLINE_APPROVER, validateDecision } from '../release/approval.js';
import { DEFAULT_CANARY_THRESHOLDS, type ArmWindow, type CanaryAnalysis, type CanaryThresholds, type CanaryVerdict } from './canary-analysis.js';

export type RolloutStrategy = 'blue-green' | 'canary' | 'shadow';
export const ROLLOUT_STRATEGIES: readonly RolloutStrategy[] = ['blue-green', 'canary', 'shadow'];

/** What to do when the analysis stays inconclusive (too little traffic) after every allowed extra wait. */
export type InconclusivePolicy = 'rollback' | 'proceed';

/** How to roll out; every field has a default. */
export interface RolloutOptions {
  strategy: RolloutStrategy;
  /** Canary percentages, increasing, in (0, 100]; 100 (promotion) is appended when missing. Default 5, 25, 50, 100. */
  steps?: number[];
  /** Canary: seconds each step runs before its analysis. Shadow: seconds the shadow runs. Default 300. */
  stepSeconds?: number;
  /** Extra waits of `stepSeconds` while the analysis is inconclusive, before `onInconclusive` applies. Default 2. */
  maxInconclusiveWaits?: number;
  /** Default `rollback`. */
  onInconclusive?: InconclusivePolicy;
  thresholds?: Partial<CanaryThresholds>;
  /** Shadow: fraction of requests also scored on the new version. Default 0.1. */
  shadowFraction?: number;
  /** Shadow: make the version stable after the report when the comparison succeeded. Default false. */
  promoteAfterShadow?: boolean;
  /** Canary: wait for a person's decision before the last step (promotion to 100 %). Default: no approval. */
  approval?: PromotionApprovalOptions;
}

export interface PromotionApprovalOptions {
  /** Who may decide; absent or empty: anyone with the approver role but the rollout's starter. */
  approvers?: string[];
  /** Without a decision by then the canary is rolled back. Default: wait as long as it takes. */
  deadlineSeconds?: number;
}

/** A promotion decision as sent (Update or Signal); the approver is the API key's identity. */
export interface PromotionDecision {
  approver: string;
  reason: string;
}

export interface SignalledPromotionDecision extends PromotionDecision {
  decision: 'approve' | 'reject';
}

export interface PromotionDecisionRecord extends PromotionDecision {
  approved: boolean;
  at: string;
  /** `deadline`: nobody decided in time; recorded as a rejection. */
  via: 'update' | 'signal' | 'deadline';
}

/** The approver identity recorded when the deadline passes without a decision. */
export const PROMOTION_DEADLINE_APPROVER = DEADLINE_APPROVER;

/**
 * Throws when a promotion decision may not be taken: nothing awaits one (ConflictError), it lacks an approver or
 * reason (ValidationError), or the approver started the rollout or is not on its list (ForbiddenError).
 */
export function validatePromotionDecision(d: PromotionDecision | undefined, ctx: { awaiting: boolean; startedBy: string; approvers?: string[] }): void {
  validateDecision(d, { awaiting: ctx.awaiting, startedBy: ctx.startedBy, policy: { approvers: ctx.approvers }, starterRefusal: 'started this rollout and may not approve its promotion' });
}

export interface RolloutInput {
  modelName: string;
  version: number;
  rollout?: RolloutOptions;
  /** Recorded as who changed the deployment and moved @production. */
  actor: string;
  reason: string;
  /** Recorded as where the @production move came from (default: the rollout's workflow id); a release passes its own id. */
  aliasSource?: string;
}

export type RolloutStage =
  | 'starting'
  | 'switching'
  | 'canary'
  | 'analyzing'
  | 'awaiting_approval'
  | 'shadowing'
  | 'promoting'
  | 'rolling_back'
  | 'completed'
  | 'rolled_back'
  | 'shadow_reported';

/** One recorded step or decision (also a `rollout_steps` row). */
export interface RolloutStep {
  seq: number;
  kind: 'switch' | 'canary_step' | 'analysis' | 'approval' | 'promote' | 'rollback' | 'shadow_start' | 'shadow_report';
  percent: number | null;
  verdict: CanaryVerdict | null;
  /** What the workflow did: `applied`, `next`, `wait`, `rollback`, `proceed`, `approved`, `rejected`, `promoted`, `reported`. */
  decision: string;
  analysis: WindowAnalysis | null;
  /** The promotion decision (kind `approval`). */
  approval?: PromotionDecisionRecord;
  at: string;
}

/** An analysis of one window of the prediction log, with the row counts it saw. */
export interface WindowAnalysis extends CanaryAnalysis {
  since: string;
  until: string;
  stableVersion: number;
  candidateVersion: number;
  arm: 'canary' | 'shadow';
}

export interface RolloutStatus {
  modelName: string;
  version: number;
  strategy: RolloutStrategy;
  stage: RolloutStage;
  percent: number;
  /** The stable version the rollout started from (null: nothing was served before). */
  previousStable: number | null;
  steps: RolloutStep[];
  outcome?: RolloutOutcome;
  error?: string;
  /** Set when the rollout asks for approval before its last step. */
  approval?: {
    approvers?: string[];
    /** When the canary is rolled back if nobody has decided. */
    deadlineAt?: string;
    decision?: PromotionDecisionRecord;
    /** Decisions sent by Signal that failed the checks (an Update gets its refusal as its answer). */
    refusedDecisions: Array<{ approver: string; decision: string; error: string; at: string }>;
  };
}

export type RolloutOutcome = 'promoted' | 'rolled_back' | 'shadow_reported';

export interface RolloutResult {
  modelName: string;
  version: number;
  strategy: RolloutStrategy;
  outcome: RolloutOutcome;
  /** Why it ended the way it did. */
  reason: string;
  steps: RolloutStep[];
  /** Shadow: the comparison report. */
  report?: WindowAnalysis;
}

export const DEFAULT_CANARY_STEPS = [5, 25, 50, 100];

export interface ResolvedRollout {
  strategy: RolloutStrategy;
  steps: number[];
  stepSeconds: number;
  maxInconclusiveWaits: number;
  onInconclusive: InconclusivePolicy;
  thresholds: CanaryThresholds;
  shadowFraction: number;
  promoteAfterShadow: boolean;
  approval: PromotionApprovalOptions | null;
}

/** Fills defaults and checks the options; throws a ValidationError naming the field when one is wrong. */
export function resolveRollout(o: RolloutOptions | undefined): ResolvedRollout {
  const strategy = o?.strategy ?? 'blue-green';
  if (!ROLLOUT_STRATEGIES.includes(strategy)) throw new ValidationError(`rollout.strategy must be one of ${ROLLOUT_STRATEGIES.join(', ')} (got ${JSON.stringify(strategy)}).`);
  const steps = [...(o?.steps ?? DEFAULT_CANARY_STEPS)];
  if (steps.length === 0 || steps[steps.length - 1] !== 100) steps.push(100);
  steps.forEach((p, i) => {
    if (!(p > 0 && p <= 100)) throw new ValidationError(`rollout.steps[${i}] must be a percentage in (0, 100] (got ${p}).`);
    if (i > 0 && p <= steps[i - 1]) throw new ValidationError(`rollout.steps must increase (step ${i}: ${p} after ${steps[i - 1]}).`);
  });
  const positive = (v: number | undefined, d: number, what: string) => {
    const x = v ?? d;
    if (!(x > 0) || !Number.isFinite(x)) throw new ValidationError(`rollout.${what} must be a positive number (got ${x}).`);
    return x;
  };
  const maxInconclusiveWaits = o?.maxInconclusiveWaits ?? 2;
  if (!Number.isInteger(maxInconclusiveWaits) || maxInconclusiveWaits < 0) throw new ValidationError(`rollout.maxInconclusiveWaits must be a non-negative integer (got ${maxInconclusiveWaits}).`);
  const onInconclusive = o?.onInconclusive ?? 'rollback';
  if (onInconclusive !== 'rollback' && onInconclusive !== 'proceed') throw new ValidationError(`rollout.onInconclusive must be rollback or proceed (got ${JSON.stringify(onInconclusive)}).`);
  const shadowFraction = o?.shadowFraction ?? 0.1;
  if (!(shadowFraction > 0 && shadowFraction <= 1)) throw new ValidationError(`rollout.shadowFraction must be in (0, 1] (got ${shadowFraction}).`);
  const approval = o?.approval ?? null;
  if (approval) {
    if (strategy !== 'canary') throw new ValidationError(`rollout.approval applies to the canary strategy only (got ${JSON.stringify(strategy)}).`);
    if (approval.deadlineSeconds !== undefined && !(approval.deadlineSeconds > 0 && Number.isFinite(approval.deadlineSeconds))) {
      throw new ValidationError(`rollout.approval.deadlineSeconds must be a positive number (got ${approval.deadlineSeconds}).`);
    }
  }
  return {
    strategy,
    steps,
    stepSeconds: positive(o?.stepSeconds, 300, 'stepSeconds'),
    maxInconclusiveWaits,
    onInconclusive,
    thresholds: { ...DEFAULT_CANARY_THRESHOLDS, ...(o?.thresholds ?? {}) },
    shadowFraction,
    promoteAfterShadow: o?.promoteAfterShadow ?? false,
    approval,
  };
}

/** After an analysis: go to the next step, wait longer on the same step, or roll back. */
export type StepDecision = 'next' | 'wait' | 'rollback' | 'proceed';

/**
 * The canary state machine's one transition: `waitsSoFar` extra waits were already spent on this step.
 * Successful -> next; Failed -> rollback; Inconclusive -> wait while waits remain, then the declared policy.
 */
export function decideStep(verdict: CanaryVerdict, waitsSoFar: number, r: Pick<ResolvedRollout, 'maxInconclusiveWaits' | 'onInconclusive'>): StepDecision {
  if (verdict === 'successful') return 'next';
  if (verdict === 'failed') return 'rollback';
  if (waitsSoFar < r.maxInconclusiveWaits) return 'wait';
  return r.onInconclusive === 'proceed' ? 'proceed' : 'rollback';
}

/** One prediction-log row as the analysis reads it. */
export interface LoggedPrediction {
  status: string;
  latencyMs: number;
  outputs: unknown;
}

/**
 * The score a row contributes to the distribution check: the probability of the last class in sorted
 * order (the positive class of a binary model), else a numeric `prediction` clipped to [0, 1]; null otherwise.
 */
export function scoreOf(outputs: unknown): number | null {
  if (!outputs || typeof outputs !== 'object') return null;
  const o = outputs as Record<string, unknown>;
  if (o.probabilities && typeof o.probabilities === 'object') {
    const p = o.probabilities as Record<string, unknown>;
    const keys = Object.keys(p).sort();
    const v = p[keys[keys.length - 1]];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  if (typeof o.prediction === 'number' && Number.isFinite(o.prediction)) return Math.min(1, Math.max(0, o.prediction));
  return null;
}

/**
 * Folds an arm's logged rows into an ArmWindow: `ok` and `error` rows are requests the arm was asked to
 * answer (a `fallback` row is the fallback's answer to an error already counted), latency and scores from `ok` rows.
 */
export function armWindow(rows: LoggedPrediction[]): ArmWindow {
  const w: ArmWindow = { requests: 0, errors: 0, latenciesMs: [], scores: [] };
  for (const r of rows) {
    if (r.status === 'error') {
      w.requests++;
      w.errors++;
    } else if (r.status === 'ok') {
      w.requests++;
      w.latenciesMs.push(r.latencyMs);
      const s = scoreOf(r.outputs);
      if (s !== null) w.scores.push(s);
    }
  }
  return w;
}
