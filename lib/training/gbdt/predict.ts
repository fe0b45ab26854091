// Scores raw rows with a fitted booster, summing in float32 in onnxruntime's order so the exported graph agrees to the bit.
import { ValidationError } from '../../errors.js';
import { classCount, type GbdtModel } from './model.js';
import { sigmoid, softmaxRow } from './objectives.js';
import { leafOfRaw } from './tree.js';

function checkMatrix(model: GbdtModel, X: ArrayLike<number>, n: number): void {
  if (X.length !== n * model.numFeatures) {
    throw new ValidationError(`Expected ${n} rows x ${model.numFeatures} features = ${n * model.numFeatures} values; got ${X.length}.`);
  }
}

/**
 * Raw scores, row-major n x numOutputs (log-odds for binary, per-class scores
 * for multiclass, the prediction for regression). onnxruntime's tree
 * ensembles add leaf values tree by tree in float32 and the base value last;
 * doing the same here removes rounding as a source of parity gaps, which
 * matters for regression targets of large magnitude.
 */
export function predictRaw(model: GbdtModel, X: ArrayLike<number>, n: number): Float64Array {
  checkMatrix(model, X, n);
  const K = model.numOutputs;
  const f = model.numFeatures;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let t = k; t < model.trees.length; t += K) {
        const tree = model.trees[t];
        s = Math.fround(s + tree.leafValue[leafOfRaw(tree, X, f, i)]);
      }
      out[i * K + k] = Math.fround(s + model.baseScores[k]);
    }
  }
  return out;
}

/** Class probabilities, row-major n x classes; binary gives [P(0), P(1)] per row like the ONNX export. */
export function predictProbabilities(model: GbdtModel, X: ArrayLike<number>, n: number): Float64Array {
  const c = classCount(model);
  if (c === 0) throw new ValidationError('A regression model has no class probabilities; use predictRaw for its predictions.');
  const raw = predictRaw(model, X, n);
  const out = new Float64Array(n * c);
  if (model.objective === 'binary') {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]);
      out[i * 2] = 1 - p;
      out[i * 2 + 1] = p;
    }
    return out;
  }
  const row = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    softmaxRow(raw, i, c, row);
    out.set(row, i * c);
  }
  return out;
}

/** Predicted class index per row: the first class with the highest probability, as onnxruntime picks it. */
export function predictClasses(model: GbdtModel, X: ArrayLike<number>, n: number): Int32Array {
  const c = classCount(model);
  if (c === 0) throw new ValidationError('A regression model has no classes; use predictRaw for its predictions.');
  const raw = predictRaw(model, X, n);
  const out = new Int32Array(n);
  if (model.objective === 'binary') {
    for (let i = 0; i < n; i++) out[i] = raw[i] > 0 ? 1 : 0;
    return out;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (raw[i * c + k] > raw[i * c + best]) best = k;
    out[i] = best;
  }
  return out;
}
