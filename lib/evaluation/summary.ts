// One call that computes everything the report shows about a classifier or a regressor.

import { classificationScores, confusionMatrix } from './classification.js';
import type { ClassificationScores } from './classification.js';
import { EvaluationInputError, UndefinedMetricError } from './errors.js';
import { classColumn, classLabels, predictLabels, probabilityLayout } from './inputs.js';
import { brierScore, calibrationBins, logLoss } from './probabilistic.js';
import type { Calibration } from './probabilistic.js';
import { averagePrecision, binaryAveragePrecision, binaryRocAuc, precisionRecallCurve, rocAuc, rocCurve } from './ranking.js';
import type { PrecisionRecallCurve, RocCurve } from './ranking.js';
import { mae, mape, r2, rmse } from './regression.js';
import type { NumericArray } from './types.js';

export interface ClassCurves {
  /** Class name (binary: the positive class; multiclass: one-vs-rest for this class). */
  readonly label: string;
  readonly classIndex: number;
  readonly roc: RocCurve;
  readonly rocAuc: number;
  readonly pr: PrecisionRecallCurve;
  readonly averagePrecision: number;
}

export interface ClassifierSummary {
  readonly task: 'binary' | 'multiclass';
  readonly rows: number;
  readonly classNames: readonly string[];
  /** The binary decision threshold behind the label metrics (multiclass uses argmax). */
  readonly threshold: number;
  readonly scores: ClassificationScores;
  readonly confusionMatrix: number[][];
  /** Null when undefined on this test set; `notes` says why. */
  readonly rocAuc: number | null;
  readonly averagePrecision: number | null;
  readonly logLoss: number;
  readonly brier: number;
  readonly curves: readonly ClassCurves[];
  /** Binary only (the positive class); null for multiclass. */
  readonly calibration: Calibration | null;
  /** Metrics that could not be computed and why. */
  readonly notes: readonly string[];
}

export interface ClassifierSummaryOptions {
  readonly threshold?: number;
  readonly calibrationBins?: number;
  /** Names of classes 0..K-1, for the report; default "0", "1", ... */
  readonly classNames?: readonly string[];
}

function orNote<T>(notes: string[], compute: () => T): T | null {
  try {
    return compute();
  } catch (error) {
    if (!(error instanceof UndefinedMetricError)) throw error;
    notes.push(error.message);
    return null;
  }
}

export function summarizeClassifier(
  yTrue: NumericArray,
  probabilities: NumericArray,
  options: ClassifierSummaryOptions = {},
): ClassifierSummary {
  const rows = yTrue.length;
  const { numClasses } = probabilityLayout(rows, probabilities.length);
  const classNames = options.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k));
  if (classNames.length !== numClasses) {
    throw new EvaluationInputError(`classNames has ${classNames.length} names for ${numClasses} classes`);
  }
  classLabels(yTrue, numClasses);
  const threshold = options.threshold ?? 0.5;
  const predicted = predictLabels(probabilities, rows, threshold);
  const notes: string[] = [];

  const curves: ClassCurves[] = [];
  const curveClasses = numClasses === 2 ? [1] : Array.from({ length: numClasses }, (_, k) => k);
  for (const k of curveClasses) {
    const isK = Uint8Array.from({ length: rows }, (_, i) => (yTrue[i] === k ? 1 : 0));
    const scores = classColumn(probabilities, rows, k);
    const curve = orNote(notes, () => ({
      roc: rocCurve(isK, scores),
      rocAuc: binaryRocAuc(isK, scores),
      pr: precisionRecallCurve(isK, scores),
      averagePrecision: binaryAveragePrecision(isK, scores),
    }));
    if (curve) curves.push({ label: classNames[k], classIndex: k, ...curve });
  }

  return {
    task: numClasses === 2 ? 'binary' : 'multiclass',
    rows,
    classNames,
    threshold,
    scores: classificationScores(yTrue, predicted, numClasses),
    confusionMatrix: confusionMatrix(yTrue, predicted, numClasses),
    rocAuc: orNote(notes, () => rocAuc(yTrue, probabilities)),
    averagePrecision: orNote(notes, () => averagePrecision(yTrue, probabilities)),
    logLoss: logLoss(yTrue, probabilities),
    brier: brierScore(yTrue, probabilities),
    curves,
    calibration:
      numClasses === 2 ? calibrationBins(yTrue, classColumn(probabilities, rows, 1), { bins: options.calibrationBins }) : null,
    notes: [...new Set(notes)],
  };
}

export interface RegressorSummary {
  readonly rows: number;
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number | null;
  /** sklearn's MAPE (zero targets divide by machine epsilon). */
  readonly mape: number;
  readonly notes: readonly string[];
}

export function summarizeRegressor(yTrue: NumericArray, yPred: NumericArray): RegressorSummary {
  const notes: string[] = [];
  return {
    rows: yTrue.length,
    rmse: rmse(yTrue, yPred),
    mae: mae(yTrue, yPred),
    r2: orNote(notes, () => r2(yTrue, yPred)),
    mape: mape(yTrue, yPred),
    notes,
  };
}
