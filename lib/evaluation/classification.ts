// Label metrics: accuracy, precision/recall/F1 per class and averaged, confusion matrices.

import { assertSameLength, classLabels } from './inputs.js';
import type { NumericArray } from './types.js';

export interface PrecisionRecallF1 {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface ClassScores extends PrecisionRecallF1 {
  readonly classIndex: number;
  /** Rows whose true class is this one. */
  readonly support: number;
}

export interface ClassificationScores {
  readonly accuracy: number;
  readonly perClass: readonly ClassScores[];
  readonly macro: PrecisionRecallF1;
  readonly micro: PrecisionRecallF1;
  /** Averaged with each class weighted by its support. */
  readonly weighted: PrecisionRecallF1;
}

export interface ClassificationScoreOptions {
  /**
   * Value of a ratio whose denominator is 0 (a class never predicted, or absent and never predicted).
   * 0 by default, as sklearn's `zero_division="warn"` does.
   */
  readonly zeroDivision?: 0 | 1;
}

export function accuracy(yTrue: NumericArray, yPred: NumericArray): number {
  assertSameLength(yTrue, yPred, 'y_true', 'y_pred');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/** matrix[t][p] counts rows of true class t predicted as p (sklearn's orientation). */
export function confusionMatrix(yTrue: NumericArray, yPred: NumericArray, numClasses: number): number[][] {
  assertSameLength(yTrue, yPred, 'y_true', 'y_pred');
  const t = classLabels(yTrue, numClasses, 'y_true');
  const p = classLabels(yPred, numClasses, 'y_pred');
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < t.length; i++) matrix[t[i]][p[i]]++;
  return matrix;
}

export interface BinaryConfusion {
  readonly threshold: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly tp: number;
  /** [[tn, fp], [fn, tp]], as sklearn's confusion_matrix lays out a binary task. */
  readonly matrix: number[][];
}

/** Binary confusion counts when rows with score >= threshold are predicted positive. */
export function confusionAtThreshold(yTrue: NumericArray, scores: NumericArray, threshold: number): BinaryConfusion {
  assertSameLength(yTrue, scores, 'y_true', 'scores');
  const t = classLabels(yTrue, 2, 'y_true');
  let tn = 0, fp = 0, fn = 0, tp = 0;
  for (let i = 0; i < t.length; i++) {
    const positive = scores[i] >= threshold;
    if (t[i] === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
    else tn++;
  }
  return { threshold, tn, fp, fn, tp, matrix: [[tn, fp], [fn, tp]] };
}

/**
 * Per-class, macro, micro and weighted precision/recall/F1 over every class 0..K-1,
 * like sklearn with `labels=range(K)`: a class that neither occurs nor is predicted
 * still counts in the macro average (with `zeroDivision`), so K is the model's class
 * count, not what this test set happens to contain.
 * F1 comes from counts, 2tp / (2tp + fp + fn), as sklearn >= 1.3 computes it.
 */
export function classificationScores(
  yTrue: NumericArray,
  yPred: NumericArray,
  numClasses: number,
  options: ClassificationScoreOptions = {},
): ClassificationScores {
  const zeroDivision = options.zeroDivision ?? 0;
  const matrix = confusionMatrix(yTrue, yPred, numClasses);
  const ratio = (num: number, den: number): number => (den === 0 ? zeroDivision : num / den);
  const fromCounts = (tp: number, predicted: number, actual: number): PrecisionRecallF1 => ({
    precision: ratio(tp, predicted),
    recall: ratio(tp, actual),
    f1: ratio(2 * tp, predicted + actual),
  });

  const perClass: ClassScores[] = [];
  let tpSum = 0, predictedSum = 0, actualSum = 0;
  for (let k = 0; k < numClasses; k++) {
    const tp = matrix[k][k];
    let predicted = 0, actual = 0;
    for (let j = 0; j < numClasses; j++) {
      predicted += matrix[j][k];
      actual += matrix[k][j];
    }
    tpSum += tp;
    predictedSum += predicted;
    actualSum += actual;
    perClass.push({ classIndex: k, support: actual, ...fromCounts(tp, predicted, actual) });
  }

  const average = (weight: (c: ClassScores) => number): PrecisionRecallF1 => {
    let w = 0, precision = 0, recall = 0, f1 = 0;
    for (const c of perClass) {
      const cw = weight(c);
      w += cw;
      precision += cw * c.precision;
      recall += cw * c.recall;
      f1 += cw * c.f1;
    }
    return { precision: precision / w, recall: recall / w, f1: f1 / w };
  };

  return {
    accuracy: tpSum / yTrue.length,
    perClass,
    macro: average(() => 1),
    micro: fromCounts(tpSum, predictedSum, actualSum),
    weighted: average((c) => c.support),
  };
}
