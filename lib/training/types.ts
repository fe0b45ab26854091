// Shared shapes for training: the workflow's input/result, splits, search, and the model signature stored with a version.
import type { ApprovalPolicy, ReleaseResult } from '../release/types.js';
import type { RolloutOptions } from '../serving/rollout.js';

export const LEARNERS = ['logistic', 'ridge', 'gbdt'] as const;
/** logistic: binary or multinomial classification; ridge: regression; gbdt: histogram gradient-boosted trees (either task). */
export type LearnerName = (typeof LEARNERS)[number];

export const IMPUTE_STRATEGIES = ['mean', 'median', 'constant', 'none'] as const;
export type ImputeStrategy = (typeof IMPUTE_STRATEGIES)[number];
export const SCALINGS = ['standard', 'none'] as const;
export type Scaling = (typeof SCALINGS)[number];
export const CATEGORICAL_ENCODINGS = ['onehot', 'ordinal'] as const;
export type CategoricalEncoding = (typeof CATEGORICAL_ENCODINGS)[number];

export interface TrainingParams {
  learner: LearnerName;
  /** Logistic: inverse L2 strength, as in scikit-learn's LogisticRegression (C=1 by default). */
  C: number;
  /** Ridge: L2 strength, as scikit-learn's Ridge `alpha`. */
  alpha: number;
  /** Solver iterations (logistic) or the budget successive halving scales. */
  maxIterations: number;
  /** Fraction of rows held out for validation and the ONNX parity check (random and stratified splits). */
  validationFraction: number;
  seed: number;
  /** Numeric missing values: mean/median of the training rows, a constant, or left as NaN (gbdt routes them itself). */
  impute: ImputeStrategy;
  imputeConstant: number;
  scaling: Scaling;
  /** utf8 feature columns: one indicator column per category, or one float column with the category's index. */
  categorical: CategoricalEncoding;
  /** Categories kept per column (most frequent first); the rest score as unknown. */
  maxCategories: number;
  /** Hyperparameters passed to the gbdt learner (see lib/training/gbdt/params.ts); `objective` is set from the task. */
  gbdt?: Record<string, number>;
}

export const DEFAULT_TRAINING_PARAMS: TrainingParams = {
  learner: 'logistic',
  C: 1,
  alpha: 1,
  maxIterations: 100,
  validationFraction: 0.2,
  seed: 42,
  impute: 'mean',
  imputeConstant: 0,
  scaling: 'standard',
  categorical: 'onehot',
  maxCategories: 100,
};

/** How rows are divided. Time split: train < t1 <= validation < t2 <= test, on `timeColumn`. */
export type SplitSpec =
  | { method: 'random'; validationFraction?: number; testFraction?: number }
  | { method: 'stratified'; validationFraction?: number; testFraction?: number }
  | { method: 'time'; timeColumn: string; t1: string | number; t2?: string | number };

/** A numeric range searched uniformly (or log-uniformly); grid search takes `values` only. */
export type SearchDimension = { values: Array<number | string> } | { min: number; max: number; log?: boolean; integer?: boolean };

export interface SearchSpec {
  strategy: 'grid' | 'random' | 'halving';
  /** Hyperparameter name (a TrainingParams key, or `gbdt.<name>`) -> candidates. */
  space: Record<string, SearchDimension>;
  /** Random and halving: how many configurations to draw (grid: every combination). */
  trials?: number;
  /** Validation metric to optimise; default roc_auc (binary), log_loss (multiclass), rmse (regression). */
  metric?: string;
  /** Score each trial by k-fold cross-validation on the training rows instead of the validation split. */
  cvFolds?: number;
  /** Halving: keep the best 1/eta each rung (default 3). */
  eta?: number;
  /** Halving: the smallest budget (maxIterations, or gbdt.numIterations) a rung runs. */
  minBudget?: number;
}

export interface TrainingInput {
  modelName: string;
  datasetVersionId: string;
  target: string;
  /** Feature columns; default: every numeric column except the target. */
  features?: string[];
  /** gbdt only: what the target is (ridge always regresses, logistic always classifies). Default classification. */
  task?: 'classification' | 'regression';
  params?: Partial<TrainingParams>;
  split?: SplitSpec;
  search?: SearchSpec;
  /** Experiment the run is tracked under; default the model name. */
  experiment?: string;
  tags?: Record<string, string>;
  /** Who started the run (recorded as lineage; they may not decide on their own run). */
  startedBy?: string;
  approval?: ApprovalPolicy;
  /** How the version is put into service once approved (the release's rollout); default blue-green. */
  rollout?: RolloutOptions;
  /**
   * How long a training or trial activity may go without a heartbeat before Temporal retries it on another
   * worker (a Temporal duration, e.g. '5s'); default one minute. Not accepted by the HTTP API: set when starting
   * trainingWorkflow directly (test/workflows/training-killed-worker.test.ts uses it to notice a killed worker fast).
   */
  heartbeatTimeout?: string;
}

export type TrainingStage = 'searching' | 'training' | 'checking_parity' | 'registering' | 'releasing' | 'completed' | 'rejected' | 'gates_failed';

export interface TrialSummary {
  trialId: string;
  params: Record<string, number | string>;
  score: number;
  metric: string;
  rung: number;
}

export interface TrainingStatus {
  stage: TrainingStage;
  modelName: string;
  version?: number;
  metrics?: Record<string, number>;
  maxAbsDiff?: number;
  /** The release workflow that takes the approval decision for this run's version. */
  releaseWorkflowId?: string;
  /** Hyperparameter search: trials finished so far and the best one. */
  trialsDone?: number;
  trialsTotal?: number;
  bestTrial?: TrialSummary;
}

export interface TrainingResult {
  modelName: string;
  version: number;
  metrics: Record<string, number>;
  release: ReleaseResult;
  bestTrial?: TrialSummary;
}

/** One ONNX input tensor, shape [N, features.length]. */
export interface SignatureInput {
  name: string;
  type: 'float' | 'string';
  /** Feature columns packed in this tensor, in column order. */
  features: string[];
}

export interface SignatureFeature {
  name: string;
  type: 'float' | 'string';
  /** Categories seen in training (string features); others score as unknown. */
  categories?: string[];
}

/** What a model version expects as input and returns; stored in the registry and the ONNX metadata. */
export interface ModelSignature {
  /** The float tensor input; when `inputs` is absent it is the only input, shape [N, features.length]. */
  inputName: string;
  /** Every input tensor; absent means one float tensor `inputName` holding every feature in order. */
  inputs?: SignatureInput[];
  features: SignatureFeature[];
  /** Regressors name their [N, 1] prediction as both outputs, with the one pseudo-class `prediction`. */
  outputs: { label: string; probabilities: string };
  /** Class labels in probability-column order. */
  classes: Array<string | number>;
  /** Absent means classification. */
  task?: 'classification' | 'regression';
}

/** The input tensors of a signature, with the single-matrix form filled in when `inputs` is absent. */
export function signatureInputs(signature: ModelSignature): SignatureInput[] {
  return signature.inputs ?? [{ name: signature.inputName, type: 'float', features: signature.features.map((f) => f.name) }];
}
