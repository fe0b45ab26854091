// Metrics of the probabilities themselves: log loss, Brier score, calibration bins.

import { EvaluationInputError } from './errors.js';
import { assertProbabilities, assertSameLength, classLabels, positiveScores, probabilityLayout } from './inputs.js';
import type { NumericArray } from './types.js';

const FLOAT64_EPS = 2 ** -52;
const FLOAT32_EPS = 2 ** -23;

/**
 * Mean cross-entropy (natural log). Probabilities are clipped to [eps, 1 - eps] so a
 * confident miss costs a large finite loss instead of Infinity; eps is the machine
 * epsilon of the input's float type, as sklearn uses (2^-23 for a Float32Array, else 2^-52).
 * Rows are not renormalised after clipping (sklearn >= 1.5 does not either).
 */
export function logLoss(
  yTrue: NumericArray,
  probabilities: NumericArray,
  options: { readonly eps?: number } = {},
): number {
  const rows = yTrue.length;
  const layout = probabilityLayout(rows, probabilities.length);
  const labels = classLabels(yTrue, layout.numClasses);
  assertProbabilities(probabilities, 'probabilities');
  const eps = options.eps ?? (probabilities instanceof Float32Array ? FLOAT32_EPS : FLOAT64_EPS);
  const clip = (p: number): number => Math.min(Math.max(p, eps), 1 - eps);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const p =
      layout.kind === 'positive'
        ? labels[i] === 1 ? probabilities[i] : 1 - probabilities[i]
        : probabilities[i * layout.numClasses + labels[i]];
    total -= Math.log(clip(p));
  }
  return total / rows;
}

/**
 * Brier score: mean squared distance between the one-hot truth and the probabilities.
 * Binary tasks report the classic mean((y - p)^2); with K > 2 classes the squared
 * distance is summed over classes (range [0, 2]), as sklearn >= 1.7 does.
 */
export function brierScore(yTrue: NumericArray, probabilities: NumericArray): number {
  const rows = yTrue.length;
  const layout = probabilityLayout(rows, probabilities.length);
  const labels = classLabels(yTrue, layout.numClasses);
  assertProbabilities(probabilities, 'probabilities');
  let total = 0;
  if (layout.numClasses === 2) {
    const p = positiveScores(probabilities, rows);
    for (let i = 0; i < rows; i++) total += (labels[i] - p[i]) ** 2;
    return total / rows;
  }
  const K = layout.numClasses;
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) total += ((labels[i] === k ? 1 : 0) - probabilities[i * K + k]) ** 2;
  }
  return total / rows;
}

export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin; null when the bin is empty. */
  readonly meanPredicted: number | null;
  /** Observed fraction of positives in the bin; null when the bin is empty. */
  readonly fractionPositive: number | null;
}

export interface Calibration {
  readonly bins: CalibrationBin[];
  /** Count-weighted mean |meanPredicted - fractionPositive| over non-empty bins (ECE). */
  readonly expectedCalibrationError: number;
}

/**
 * Reliability diagram data for a binary task, `bins` equal-width bins over [0, 1].
 * Bin edges and edge handling follow sklearn's `calibration_curve(strategy="uniform")`
 * (a probability equal to an inner edge falls in the lower bin); unlike sklearn,
 * empty bins are kept (count 0) so the plot can show where there is no data.
 * For one class of a multiclass model, pass `classColumn(probabilities, rows, k)` and y === k.
 */
export function calibrationBins(
  yTrue: NumericArray,
  probabilities: NumericArray,
  options: { readonly bins?: number } = {},
): Calibration {
  const binCount = options.bins ?? 10;
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new EvaluationInputError(`calibration bins must be a positive integer, got ${binCount}`);
  }
  const rows = yTrue.length;
  const p = positiveScores(probabilities, rows);
  assertSameLength(yTrue, p, 'y_true', 'probabilities');
  const labels = classLabels(yTrue, 2);
  assertProbabilities(p, 'probabilities');

  // numpy's linspace computes edge i as i * (1 / n); matching it keeps edge cases identical.
  const step = 1 / binCount;
  const edges = Array.from({ length: binCount + 1 }, (_, i) => (i === binCount ? 1 : i * step));
  const sums = new Float64Array(binCount);
  const positives = new Float64Array(binCount);
  const counts = new Float64Array(binCount);
  for (let i = 0; i < rows; i++) {
    // Estimate the bin arithmetically, then settle it against the exact edges.
    let bin = Math.min(binCount - 1, Math.max(0, Math.ceil(p[i] * binCount) - 1));
    while (bin > 0 && p[i] <= edges[bin]) bin--;
    while (bin < binCount - 1 && p[i] > edges[bin + 1]) bin++;
    sums[bin] += p[i];
    positives[bin] += labels[i];
    counts[bin]++;
  }

  let ece = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const count = counts[b];
    const meanPredicted = count > 0 ? sums[b] / count : null;
    const fractionPositive = count > 0 ? positives[b] / count : null;
    if (meanPredicted !== null && fractionPositive !== null) {
      ece += (count / rows) * Math.abs(meanPredicted - fractionPositive);
    }
    bins.push({ lower: edges[b], upper: edges[b + 1], count, meanPredicted, fractionPositive });
  }
  return { bins, expectedCalibrationError: ece };
}
