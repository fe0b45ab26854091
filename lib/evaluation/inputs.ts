// Validation and reshaping of metric inputs: labels, probability layouts, class columns.

import { EvaluationInputError } from './errors.js';
import type { NumericArray } from './types.js';

/**
 * How a flat probability array is laid out against n rows:
 * - `positive`: length n, the positive-class probability (or score) of a binary task;
 * - `matrix`: length n*K (K >= 2), row-major class probabilities.
 */
export type ProbabilityLayout =
  | { readonly kind: 'positive'; readonly numClasses: 2 }
  | { readonly kind: 'matrix'; readonly numClasses: number };

/** Infers the layout from the lengths; a length that is not n or a multiple of n >= 2n is an input error. */
export function probabilityLayout(rows: number, length: number): ProbabilityLayout {
  if (rows === 0) throw new EvaluationInputError('no rows to evaluate (y_true is empty)');
  if (length === rows) return { kind: 'positive', numClasses: 2 };
  if (length % rows === 0 && length >= 2 * rows) return { kind: 'matrix', numClasses: length / rows };
  throw new EvaluationInputError(
    `probabilities have ${length} values for ${rows} rows: expected ${rows} (binary positive-class ` +
      `probabilities) or ${rows}*K (row-major, K classes)`,
  );
}

export function assertSameLength(a: NumericArray, b: NumericArray, aName: string, bName: string): void {
  if (a.length !== b.length) {
    throw new EvaluationInputError(`${aName} has ${a.length} values but ${bName} has ${b.length}`);
  }
  if (a.length === 0) throw new EvaluationInputError(`${aName} is empty`);
}

/** Checks class indices are integers in [0, numClasses) and returns them as an Int32Array. */
export function classLabels(yTrue: NumericArray, numClasses: number, name = 'y_true'): Int32Array {
  const labels = new Int32Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new EvaluationInputError(
        `${name}[${i}] = ${y} is not a class index in 0..${numClasses - 1}`,
      );
    }
    labels[i] = y;
  }
  return labels;
}

export function assertFinite(values: NumericArray, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new EvaluationInputError(`${name}[${i}] = ${values[i]} is not a finite number`);
    }
  }
}

export function assertProbabilities(values: NumericArray, name: string): void {
  for (let i = 0; i < values.length; i++) {
    const p = values[i];
    if (!(p >= 0 && p <= 1)) {
      throw new EvaluationInputError(`${name}[${i}] = ${p} is not a probability in [0, 1]`);
    }
  }
}

/** Column k of a row-major n*K matrix, or the positive/negative side of a binary positive-class array. */
export function classColumn(probabilities: NumericArray, rows: number, k: number): Float64Array {
  const layout = probabilityLayout(rows, probabilities.length);
  if (k < 0 || k >= layout.numClasses || !Number.isInteger(k)) {
    throw new EvaluationInputError(`class ${k} is out of range 0..${layout.numClasses - 1}`);
  }
  const column = new Float64Array(rows);
  if (layout.kind === 'positive') {
    for (let i = 0; i < rows; i++) column[i] = k === 1 ? probabilities[i] : 1 - probabilities[i];
  } else {
    const K = layout.numClasses;
    for (let i = 0; i < rows; i++) column[i] = probabilities[i * K + k];
  }
  return column;
}

/** Positive-class scores of a binary task, from either layout; a K > 2 matrix is an input error. */
export function positiveScores(probabilities: NumericArray, rows: number): NumericArray {
  const layout = probabilityLayout(rows, probabilities.length);
  if (layout.numClasses !== 2) {
    throw new EvaluationInputError(
      `expected binary probabilities but got ${layout.numClasses} classes per row`,
    );
  }
  return layout.kind === 'positive' ? probabilities : classColumn(probabilities, rows, 1);
}

/**
 * Hard labels from probabilities: binary predicts 1 when p >= threshold (the same
 * convention as the ROC curve's thresholds); multiclass takes the argmax, first on ties
 * (as numpy does), and ignores the threshold.
 */
export function predictLabels(
  probabilities: NumericArray,
  rows: number,
  threshold = 0.5,
): Int32Array {
  const layout = probabilityLayout(rows, probabilities.length);
  const labels = new Int32Array(rows);
  if (layout.numClasses === 2) {
    const scores = positiveScores(probabilities, rows);
    for (let i = 0; i < rows; i++) labels[i] = scores[i] >= threshold ? 1 : 0;
    return labels;
  }
  const K = layout.numClasses;
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) {
      if (probabilities[i * K + k] > probabilities[i * K + best]) best = k;
    }
    labels[i] = best;
  }
  return labels;
}
