// The reference a version is monitored against: its training profile built from Arrow tables (the
// version's evaluation set, with the trainer's outputs, and its training dataset when there is one).
import type { Table, Vector } from 'apache-arrow';
import type { ModelSignature } from '../training/types.js';
import type { RawValue } from './column-values.js';
import { buildTrainingProfile, type FeatureColumn, type OutputColumns, type ProfileOptions, type TrainingProfile } from './profile.js';

/** Column names in the evaluation artifact written by lib/training (see TrainedModel.validationUri). */
export const EVALUATION_LABEL_COLUMN = '__label';
export const trainerProbabilityColumn = (k: number): string => `__trainer_p${k}`;
export const TRAINER_PREDICTION_COLUMN = '__trainer_prediction';

/** A column's values with nulls kept as null (Arrow's toArray() would turn them into 0). */
export function vectorValues(vector: Vector | null | undefined): RawValue[] {
  if (!vector) return [];
  const out = new Array<RawValue>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i) as unknown;
    out[i] = v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as RawValue);
  }
  return out;
}

function featureColumns(table: Table, signature: Pick<ModelSignature, 'features'>): Record<string, FeatureColumn> | null {
  const columns: Record<string, FeatureColumn> = {};
  for (const f of signature.features) {
    const vector = table.getChild(f.name);
    if (!vector) return null;
    columns[f.name] = { kind: f.type === 'string' ? 'categorical' : 'numeric', values: vectorValues(vector) };
  }
  return columns;
}

/** The trainer's outputs on the evaluation rows, as profile output columns; null when the artifact lacks them. */
export function evaluationOutputs(table: Table, signature: Pick<ModelSignature, 'classes' | 'task'>): OutputColumns | null {
  if (signature.task === 'regression') {
    const prediction = table.getChild(TRAINER_PREDICTION_COLUMN);
    return prediction ? { task: 'regression', prediction: vectorValues(prediction) } : null;
  }
  const K = signature.classes.length;
  const columns = Array.from({ length: K }, (_, k) => table.getChild(trainerProbabilityColumn(k)));
  if (columns.some((c) => !c)) return null;
  const probs = columns.map((c) => vectorValues(c));
  const predictedClass: RawValue[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (Number(probs[k][i]) > Number(probs[best][i])) best = k;
    predictedClass[i] = String(signature.classes[best]);
  }
  const probabilities = Object.fromEntries(signature.classes.map((c, k) => [String(c), probs[k]]));
  return { task: 'classification', predictedClass, probabilities };
}

export interface ReferenceSource {
  /** The version's held-out rows with the trainer's outputs. */
  evaluation: Table | null;
  /** The version's training dataset (all its rows), when it has one with the signature's columns. */
  dataset: Table | null;
}

/**
 * The training profile of a version: features from the training dataset when it has every feature
 * (more rows, and float64 values like the live inputs), else from the evaluation set; outputs from
 * the evaluation set. Returns null when neither source has the features.
 */
export function referenceProfile(
  source: ReferenceSource,
  signature: Pick<ModelSignature, 'features' | 'classes' | 'task'>,
  options?: Partial<ProfileOptions>,
): { profile: TrainingProfile; source: 'dataset' | 'evaluation'; referenceRows: number } | null {
  const fromDataset = source.dataset ? featureColumns(source.dataset, signature) : null;
  const fromEvaluation = source.evaluation ? featureColumns(source.evaluation, signature) : null;
  const features = fromDataset ?? fromEvaluation;
  if (!features) return null;
  const output = source.evaluation ? (evaluationOutputs(source.evaluation, signature) ?? undefined) : undefined;
  return {
    profile: buildTrainingProfile({ features, output }, options),
    source: fromDataset ? 'dataset' : 'evaluation',
    referenceRows: (fromDataset ? source.dataset! : source.evaluation!).numRows,
  };
}
