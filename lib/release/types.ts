// Shared shapes for the release stage: approval policy, decisions, and the release workflow's input/result/status.
import type { RolloutOptions, RolloutOutcome } from '../serving/rollout.js';
import type { GateSummary } from './gates.js';

/** Who may decide on a release and how long the run waits. */
export interface ApprovalPolicy {
  /** Identities allowed to decide; absent or empty means anyone except the run's starter. */
  approvers?: string[];
  /** Send a reminder (POST to `reminderWebhook`) when no decision arrived after this many seconds. */
  reminderAfterSeconds?: number;
  reminderWebhook?: string;
  /** Reject automatically when no decision arrived after this many seconds. */
  deadlineSeconds?: number;
}

export interface ApprovalDecision {
  approver: string;
  reason: string;
}

/** How a decision reached the workflow; `gates` is the automatic rejection of a candidate whose gates failed. */
export type DecisionChannel = 'update' | 'signal' | 'deadline' | 'gates';

export interface ApprovalRecord extends ApprovalDecision {
  approved: boolean;
  at: string;
  via: DecisionChannel;
}

/** A decision sent as a Signal (for Temporal CLI and Web UI users): the same fields plus the verdict. */
export interface SignalledDecision extends ApprovalDecision {
  decision: 'approve' | 'reject';
}

/** A decision that failed the checks; kept in the run's status so it is never silently dropped. */
export interface RefusedDecision {
  approver: string;
  decision: string;
  error: string;
  at: string;
  via: DecisionChannel;
}

export interface ReleaseInput {
  modelName: string;
  version: number;
  /** The run that produced the version, when it was trained here (its starter may not approve). */
  trainingRunId?: string;
  startedBy?: string;
  approval?: ApprovalPolicy;
  /** How an approved version is put into service (a child `rolloutWorkflow`); default blue-green. */
  rollout?: RolloutOptions;
}

/** The rollout an approved release ran. */
export interface ReleaseRollout {
  workflowId: string;
  outcome: RolloutOutcome;
  reason: string;
}

export type ReleaseStage = 'evaluating' | 'gates_failed' | 'awaiting_approval' | 'promoting' | 'completed' | 'rejected' | 'rolled_back';

/** The gate outcome a release carries: one line per gate, and where the full report is. */
export interface ReleaseGates extends GateSummary {
  /** Artifact URI of the HTML report. */
  reportUri: string;
  /** API path that serves the report. */
  reportPath: string;
  championVersion: number | null;
}

export interface ReleaseStatus {
  stage: ReleaseStage;
  modelName: string;
  version: number;
  trainingRunId?: string;
  decision?: ApprovalRecord;
  refusedDecisions: RefusedDecision[];
  /** Who may decide (the model's list, else the run's); absent means anyone but the run's starter. */
  approvers?: string[];
  reminderSentAt?: string;
  /** Set once the gates ran. */
  gates?: ReleaseGates;
  /** Why the gates could not be evaluated (no evaluation set, unreadable model...), when they could not. */
  evaluationError?: string;
  /** Set once the approved version's rollout ended. */
  rollout?: ReleaseRollout;
}

export interface ReleaseResult {
  modelName: string;
  version: number;
  approved: boolean;
  decision: ApprovalRecord;
  gates?: ReleaseGates;
  rollout?: ReleaseRollout;
}
