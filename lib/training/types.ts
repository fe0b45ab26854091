// Shared shapes for training: the workflow's input/result and the model signature stored with a version.

export interface TrainingParams {
  /** Inverse L2 strength, as in scikit-learn's LogisticRegression (C=1 by default). */
  C: number;
  maxIterations: number;
  /** Fraction of rows held out for validation and the ONNX parity check. */
  validationFraction: number;
  seed: number;
}

export const DEFAULT_TRAINING_PARAMS: TrainingParams = { C: 1, maxIterations: 100, validationFraction: 0.2, seed: 42 };

export interface TrainingInput {
  modelName: string;
  datasetVersionId: string;
  target: string;
  /** Feature columns; default: every numeric column except the target. */
  features?: string[];
  params?: Partial<TrainingParams>;
  /** Who started the run (recorded as lineage; they may not decide on their own run). */
  startedBy?: string;
  approval?: ApprovalPolicy;
}

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

export type TrainingStage =
  | 'training'
  | 'checking_parity'
  | 'registering'
  | 'awaiting_approval'
  | 'promoting'
  | 'completed'
  | 'rejected';

export interface TrainingStatus {
  stage: TrainingStage;
  modelName: string;
  version?: number;
  metrics?: Record<string, number>;
  maxAbsDiff?: number;
  decision?: ApprovalRecord;
  refusedDecisions: RefusedDecision[];
  reminderSentAt?: string;
}

export interface ApprovalDecision {
  approver: string;
  reason: string;
}

/** How a decision reached the workflow. */
export type DecisionChannel = 'update' | 'signal' | 'deadline';

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

export interface TrainingResult {
  modelName: string;
  version: number;
  approved: boolean;
  decision: ApprovalRecord;
  metrics: Record<string, number>;
}

/** What a model version expects as input and returns; stored in the registry and the ONNX metadata. */
export interface ModelSignature {
  /** Name of the single float tensor input, shape [N, features.length]. */
  inputName: string;
  features: Array<{ name: string; type: 'float' }>;
  outputs: { label: string; probabilities: string };
  /** Class labels in probability-column order. */
  classes: Array<string | number>;
}
