// Approval rules shared by the release workflow's Update validator and Signal handler. Pure: no I/O.
import { ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import type { GateSummary } from './gates.js';
import type { ApprovalDecision, ApprovalPolicy } from './types.js';

export interface DecisionContext {
  awaiting: boolean;
  startedBy?: string;
  policy?: ApprovalPolicy;
  /** What the starter is refused with, after their name; default a training run's wording. */
  starterRefusal?: string;
}

/** The approver identity used to record automatic rejections at the deadline. */
export const DEADLINE_APPROVER = 'mlcycle:deadline';
/** The approver identity used to record automatic rejections of candidates whose gates failed. */
export const GATES_APPROVER = 'mlcycle:gates';

const normalise = (who: string) => who.trim().toLowerCase();

/**
 * Throws when a decision may not be taken: nothing awaits one (ConflictError),
 * it lacks an approver or reason (ValidationError), or the approver is the
 * run's starter or not on the approver list (ForbiddenError).
 */
export function validateDecision(decision: ApprovalDecision | undefined, ctx: DecisionContext): void {
  if (!ctx.awaiting) throw new ConflictError('This run is not waiting for approval.');
  if (!decision || typeof decision.approver !== 'string' || decision.approver.trim() === '') {
    throw new ValidationError('An approval decision needs a non-empty approver.');
  }
  if (typeof decision.reason !== 'string' || decision.reason.trim() === '') {
    throw new ValidationError('An approval decision needs a non-empty reason.');
  }
  const approver = normalise(decision.approver);
  if (ctx.startedBy && approver === normalise(ctx.startedBy)) {
    throw new ForbiddenError(`${decision.approver.trim()} ${ctx.starterRefusal ?? 'started this training run and may not decide on it'}; ask another approver.`);
  }
  const allowed = ctx.policy?.approvers ?? [];
  if (allowed.length > 0 && !allowed.some((a) => normalise(a) === approver)) {
    throw new ForbiddenError(`${decision.approver} is not an approver for this model; allowed: ${allowed.join(', ')}.`);
  }
}

/** Checks a policy when a run is started, so a bad one is a 400 rather than a stuck run. */
export function validatePolicy(policy: ApprovalPolicy | undefined): void {
  if (!policy) return;
  for (const [name, v] of [
    ['reminderAfterSeconds', policy.reminderAfterSeconds],
    ['deadlineSeconds', policy.deadlineSeconds],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ValidationError(`approval.${name} must be a positive number of seconds.`);
  }
  if (policy.reminderAfterSeconds !== undefined && policy.deadlineSeconds !== undefined && policy.reminderAfterSeconds >= policy.deadlineSeconds) {
    throw new ValidationError('approval.reminderAfterSeconds must be shorter than approval.deadlineSeconds.');
  }
  if (policy.reminderAfterSeconds !== undefined && !policy.reminderWebhook) {
    throw new ValidationError('approval.reminderAfterSeconds needs approval.reminderWebhook, the URL the reminder is POSTed to.');
  }
}

/** The recorded reason of the automatic rejection when gates failed or could not be evaluated. */
export function gatesRejectionReason(gates: GateSummary | undefined, evaluationError: string | undefined): string {
  if (!gates) return `The gates could not be evaluated: ${evaluationError ?? 'unknown error'}`;
  return `Gates failed: ${gates.gates.filter((g) => !g.passed).map((g) => `${g.name} (${g.summary})`).join('; ')}`;
}

/**
 * The policy a release runs under: the model's approver list wins over the run's (a run cannot widen
 * who may approve its model); reminder and deadline come from the run when it sets them, else the model.
 */
export function effectivePolicy(model: ApprovalPolicy | null | undefined, run: ApprovalPolicy | undefined): ApprovalPolicy {
  const approvers = model?.approvers?.length ? model.approvers : run?.approvers;
  const timers = run?.reminderAfterSeconds !== undefined || run?.deadlineSeconds !== undefined ? run : model;
  return {
    ...(approvers?.length ? { approvers } : {}),
    ...(timers?.reminderAfterSeconds !== undefined ? { reminderAfterSeconds: timers.reminderAfterSeconds, reminderWebhook: timers.reminderWebhook } : {}),
    ...(timers?.deadlineSeconds !== undefined ? { deadlineSeconds: timers.deadlineSeconds } : {}),
  };
}
