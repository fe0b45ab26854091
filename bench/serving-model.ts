// The serving benchmarks' one model, as the serving issue names it: a 100-tree GBDT on 20 float features, fitted
// by mlcycle's own booster on a deterministic synthetic task and exported to ONNX by mlcycle's own exporter.
import { fitGbdt } from '../lib/training/gbdt/index.js';
import { exportTreeEnsemble, treeEnsembleSignature } from '../lib/onnx/tree-ensemble.js';
import type { ModelSignature } from '../lib/training/types.js';
import { gaussian, seededRandom } from '../lib/util/random.js';

export const FEATURES = 20;
export const TREES = 100;
export const featureNames = Array.from({ length: FEATURES }, (_, i) => `f${i}`);

/** Row-major n x FEATURES standard-normal features from `seed`. */
export function syntheticRows(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const X = new Float32Array(n * FEATURES);
  for (let i = 0; i < X.length; i++) X[i] = gaussian(rand);
  return X;
}

export interface ServingModel {
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** Fits the model on 20 000 rows (labels from a logistic model with interactions) and exports it. */
export function servingModel(): ServingModel {
  const n = 20_000;
  const X = syntheticRows(n, 20261123);
  const rand = seededRandom(7);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = (j: number) => X[i * FEATURES + j];
    const z = 0.8 * x(0) - 0.6 * x(1) + 0.5 * x(2) * x(3) + 0.4 * Math.sin(2 * x(4)) + 0.3 * x(5) ** 2 - 0.3;
    y[i] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  const model = fitGbdt({ X, y, n, f: FEATURES }, { objective: 'binary', numIterations: TREES, maxLeaves: 31, learningRate: 0.1 });
  const opts = { features: featureNames, classes: ['no', 'yes'] };
  return { bytes: exportTreeEnsemble(model, opts), signature: treeEnsembleSignature(model, opts) };
}

/** One JSON row of features for the predict route. */
export function jsonRow(X: Float32Array, i: number): Record<string, number> {
  return Object.fromEntries(featureNames.map((f, j) => [f, X[i * FEATURES + j]]));
}
