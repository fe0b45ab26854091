// Threshold-free ranking metrics: ROC and precision-recall curves, ROC AUC, average precision.

import { EvaluationInputError, UndefinedMetricError } from './errors.js';
import { assertFinite, assertSameLength, classColumn, classLabels, probabilityLayout } from './inputs.js';
import type { NumericArray } from './types.js';

export interface RocCurve {
  readonly fpr: number[];
  readonly tpr: number[];
  /**
   * Decreasing; thresholds[0] is Infinity (the "predict nothing" point), as in sklearn.
   * JSON (and so a Temporal payload) turns it into null; plotting needs only fpr/tpr.
   */
  readonly thresholds: number[];
}

export interface PrecisionRecallCurve {
  /** Ends with 1 (the conventional point at recall 0), as in sklearn. */
  readonly precision: number[];
  /** Decreasing, ends with 0. */
  readonly recall: number[];
  /** Increasing; one fewer than precision/recall. */
  readonly thresholds: number[];
}

export type MulticlassAverage = 'macro' | 'weighted';

interface ThresholdCounts {
  /** Distinct scores, decreasing. */
  readonly thresholds: number[];
  /** Positives / negatives with score >= thresholds[i]. */
  readonly tps: number[];
  readonly fps: number[];
}

/**
 * Cumulative true/false positives at every distinct score (sklearn's
 * `confusion_matrix_at_thresholds`). Tied scores collapse into one threshold, which is
 * what makes the ROC AUC below the exact tie-aware trapezoid sklearn computes.
 */
function countsAtThresholds(yTrue: NumericArray, scores: NumericArray): ThresholdCounts {
  assertSameLength(yTrue, scores, 'y_true', 'scores');
  const labels = classLabels(yTrue, 2, 'y_true');
  assertFinite(scores, 'scores');
  // Sorting each class's scores with the native numeric sort and merging is several
  // times faster than sorting row indices with a comparator, which the bootstrap feels.
  let positives = 0;
  for (const y of labels) positives += y;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(labels.length - positives);
  for (let i = 0, a = 0, b = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  pos.sort();
  neg.sort();

  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0, fp = 0;
  while (i >= 0 || j >= 0) {
    const t = Math.max(i >= 0 ? pos[i] : -Infinity, j >= 0 ? neg[j] : -Infinity);
    while (i >= 0 && pos[i] === t) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === t) {
      fp++;
      j--;
    }
    thresholds.push(t);
    tps.push(tp);
    fps.push(fp);
  }
  return { thresholds, tps, fps };
}

function requireBothClasses(counts: ThresholdCounts, metric: string): void {
  const positives = counts.tps[counts.tps.length - 1];
  const negatives = counts.fps[counts.fps.length - 1];
  if (positives === 0 || negatives === 0) {
    throw new UndefinedMetricError(
      `${metric} is undefined: y_true holds only ${positives === 0 ? 'negatives' : 'positives'}; ` +
        'evaluate on a test set that contains both classes',
    );
  }
}

/**
 * ROC curve of a binary task (y_true in {0, 1}, higher score = more positive).
 * `dropIntermediate` (default true, as sklearn) removes collinear points, which
 * changes neither the plotted shape nor the area. Throws UndefinedMetricError when
 * y_true holds a single class (sklearn returns NaN rates with a warning).
 */
export function rocCurve(
  yTrue: NumericArray,
  scores: NumericArray,
  options: { readonly dropIntermediate?: boolean } = {},
): RocCurve {
  const counts = countsAtThresholds(yTrue, scores);
  requireBothClasses(counts, 'ROC curve');
  let { thresholds, tps, fps } = counts;
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      const fpBend = fps[i + 1] - 2 * fps[i] + fps[i - 1];
      const tpBend = tps[i + 1] - 2 * tps[i] + tps[i - 1];
      if (fpBend !== 0 || tpBend !== 0) keep.push(i);
    }
    keep.push(fps.length - 1);
    thresholds = keep.map((i) => thresholds[i]);
    tps = keep.map((i) => tps[i]);
    fps = keep.map((i) => fps[i]);
  }
  const positives = tps[tps.length - 1];
  const negatives = fps[fps.length - 1];
  return {
    fpr: [0, ...fps.map((f) => f / negatives)],
    tpr: [0, ...tps.map((t) => t / positives)],
    thresholds: [Infinity, ...thresholds],
  };
}

/**
 * Precision-recall curve of a binary task, every distinct threshold kept (sklearn's
 * default). Throws UndefinedMetricError when y_true has no positives (recall is
 * undefined; sklearn sets it to 1 with a warning).
 */
export function precisionRecallCurve(yTrue: NumericArray, scores: NumericArray): PrecisionRecallCurve {
  const { thresholds, tps, fps } = countsAtThresholds(yTrue, scores);
  const positives = tps[tps.length - 1];
  if (positives === 0) {
    throw new UndefinedMetricError(
      'precision-recall curve is undefined: y_true has no positives; evaluate on a test set with positives',
    );
  }
  const precision: number[] = [];
  const recall: number[] = [];
  for (let i = thresholds.length - 1; i >= 0; i--) {
    precision.push(tps[i] / (tps[i] + fps[i]));
    recall.push(tps[i] / positives);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: thresholds.slice().reverse() };
}

/** Area under a curve by the trapezoid rule, x assumed monotonic (sklearn's `auc`). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return x.length > 1 && x[x.length - 1] < x[0] ? -area : area;
}

/** Binary ROC AUC from positive-class scores (any real scores, not only probabilities). */
export function binaryRocAuc(yTrue: NumericArray, scores: NumericArray): number {
  // The trapezoid straight from the counts: the same area as over rocCurve's points
  // (dropped points are collinear), without building the curve arrays.
  const counts = countsAtThresholds(yTrue, scores);
  requireBothClasses(counts, 'ROC AUC');
  const { tps, fps } = counts;
  const positives = tps[tps.length - 1];
  const negatives = fps[fps.length - 1];
  let area = 0, prevTpr = 0, prevFpr = 0;
  for (let i = 0; i < tps.length; i++) {
    const tpr = tps[i] / positives;
    const fpr = fps[i] / negatives;
    area += ((fpr - prevFpr) * (tpr + prevTpr)) / 2;
    prevTpr = tpr;
    prevFpr = fpr;
  }
  return area;
}

/**
 * Average precision, sklearn's definition: sum over thresholds of (R_n - R_{n-1}) * P_n,
 * a step function, not the trapezoid (which is optimistic on PR curves).
 */
export function binaryAveragePrecision(yTrue: NumericArray, scores: NumericArray): number {
  const { precision, recall } = precisionRecallCurve(yTrue, scores);
  let sum = 0;
  for (let i = 0; i < recall.length - 1; i++) sum += (recall[i] - recall[i + 1]) * precision[i];
  return Math.max(0, sum);
}

/**
 * One-vs-rest average of a binary metric over every class 0..K-1. Every class must
 * occur in y_true, as sklearn requires; otherwise that class's term is undefined.
 */
function oneVsRest(
  yTrue: NumericArray,
  probabilities: NumericArray,
  average: MulticlassAverage,
  binaryMetric: (yTrue: NumericArray, scores: NumericArray) => number,
): number {
  const rows = yTrue.length;
  const { numClasses } = probabilityLayout(rows, probabilities.length);
  const labels = classLabels(yTrue, numClasses, 'y_true');
  let total = 0, weightSum = 0;
  for (let k = 0; k < numClasses; k++) {
    const isK = new Uint8Array(rows);
    let support = 0;
    for (let i = 0; i < rows; i++) {
      if (labels[i] === k) {
        isK[i] = 1;
        support++;
      }
    }
    if (support === 0) {
      throw new UndefinedMetricError(
        `one-vs-rest metric is undefined: class ${k} does not occur in y_true; ` +
          'evaluate on a test set where every class occurs',
      );
    }
    const weight = average === 'macro' ? 1 : support;
    total += weight * binaryMetric(isK, classColumn(probabilities, rows, k));
    weightSum += weight;
  }
  return total / weightSum;
}

/** Guard for multiclass ROC AUC: sklearn rejects rows that do not sum to 1 (e.g. raw logits). */
function assertRowsSumToOne(probabilities: NumericArray, rows: number, numClasses: number): void {
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += probabilities[i * numClasses + k];
    if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5)) {
      throw new EvaluationInputError(
        `row ${i} of the probabilities sums to ${sum}, not 1: multiclass ROC AUC needs probabilities (apply softmax)`,
      );
    }
  }
}

/**
 * ROC AUC: binary from positive-class scores (length n) or an n*2 matrix; multiclass
 * (n*K, K > 2) one-vs-rest, macro-averaged by default. Ties are handled exactly as sklearn.
 */
export function rocAuc(
  yTrue: NumericArray,
  probabilities: NumericArray,
  options: { readonly average?: MulticlassAverage } = {},
): number {
  const layout = probabilityLayout(yTrue.length, probabilities.length);
  if (layout.numClasses === 2) return binaryRocAuc(yTrue, classColumn(probabilities, yTrue.length, 1));
  assertRowsSumToOne(probabilities, yTrue.length, layout.numClasses);
  return oneVsRest(yTrue, probabilities, options.average ?? 'macro', binaryRocAuc);
}

/** Average precision (PR AUC): binary, or multiclass one-vs-rest averaged (macro by default). */
export function averagePrecision(
  yTrue: NumericArray,
  probabilities: NumericArray,
  options: { readonly average?: MulticlassAverage } = {},
): number {
  const layout = probabilityLayout(yTrue.length, probabilities.length);
  if (layout.numClasses === 2) {
    return binaryAveragePrecision(yTrue, classColumn(probabilities, yTrue.length, 1));
  }
  return oneVsRest(yTrue, probabilities, options.average ?? 'macro', binaryAveragePrecision);
}
