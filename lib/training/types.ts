// Shared shapes for training: the workflow's input/result and the model signature stored with a version.
import type { ApprovalPolicy, ReleaseResult } from '../release/types.js';

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

export type TrainingStage = 'training' | 'checking_parity' | 'registering' | 'releasing' | 'completed' | 'rejected';

export interface TrainingStatus {
  stage: TrainingStage;
  modelName: string;
  version?: number;
  metrics?: Record<string, number>;
  maxAbsDiff?: number;
  /** The release workflow that takes the approval decision for this run's version. */
  releaseWorkflowId?: string;
}

export interface TrainingResult {
  modelName: string;
  version: number;
  metrics: Record<string, number>;
  release: ReleaseResult;
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
