// The fitted booster: base scores plus trees, and what can be read off it without data.
import type { GbdtObjective, GbdtParams } from './params.js';
import type { Tree } from './tree.js';

export interface GbdtModel {
  objective: GbdtObjective;
  numFeatures: number;
  /** Trees per round and raw score columns: 1 for binary and regression, the class count for multiclass. */
  numOutputs: number;
  /** float32 initial raw score per output (ONNX base_values). */
  baseScores: number[];
  /** Round-major: the tree of round r for output k is trees[r * numOutputs + k]. */
  trees: Tree[];
  /** Rounds kept in `trees`: the best validation round under early stopping, else every round run. */
  rounds: number;
  /** Rounds actually run (>= rounds when early stopping cut the model back). */
  roundsRun: number;
  lossName: string;
  /** Mean loss after each round run. */
  trainLoss: number[];
  /** Same, on the validation set; empty without one. */
  validLoss: number[];
  params: GbdtParams;
}

/** Probability columns a classifier returns (2 for binary), 0 for regression. */
export function classCount(model: Pick<GbdtModel, 'objective' | 'numOutputs'>): number {
  if (model.objective === 'regression') return 0;
  return model.objective === 'binary' ? 2 : model.numOutputs;
}

/** Total split gain per feature, normalised to sum to 1 (all zeros when no tree split). */
export function featureImportance(model: GbdtModel): Float64Array {
  const gain = new Float64Array(model.numFeatures);
  for (const tree of model.trees) tree.feature.forEach((j, node) => (gain[j] += tree.gain[node]));
  const total = gain.reduce((a, b) => a + b, 0);
  if (total > 0) for (let j = 0; j < gain.length; j++) gain[j] /= total;
  return gain;
}
