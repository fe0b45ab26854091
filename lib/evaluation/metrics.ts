// Metrics by name: the registry gates, bootstrap and reports use to compute a declared metric.

import { classificationScores } from './classification.js';
import { EvaluationInputError } from './errors.js';
import { predictLabels, probabilityLayout } from './inputs.js';
import { brierScore, logLoss } from './probabilistic.js';
import { averagePrecision, rocAuc } from './ranking.js';
import { mae, mape, r2, rmse } from './regression.js';
import type { MapeZeroTargets } from './regression.js';
import type { NumericArray, TaskKind } from './types.js';

export * from './classification.js';
export * from './probabilistic.js';
export * from './ranking.js';
export * from './regression.js';
export { classColumn, positiveScores, predictLabels, probabilityLayout } from './inputs.js';

export interface MetricOptions {
  /** Binary decision threshold for label metrics (accuracy, F1, ...): predict 1 when p >= threshold. Default 0.5. */
  readonly threshold?: number;
  /** MAPE's handling of zero targets; see MapeZeroTargets. */
  readonly zeroTargets?: MapeZeroTargets;
}

interface MetricDefinition {
  readonly description: string;
  readonly higherIsBetter: boolean;
  readonly tasks: readonly TaskKind[];
  /** `output`: probabilities (classification, either layout) or predictions (regression). */
  readonly compute: (yTrue: NumericArray, output: NumericArray, options: MetricOptions) => number;
}

const CLASSIFICATION: readonly TaskKind[] = ['binary', 'multiclass'];
const BINARY: readonly TaskKind[] = ['binary'];
const REGRESSION: readonly TaskKind[] = ['regression'];

function scoresOf(yTrue: NumericArray, probabilities: NumericArray, options: MetricOptions) {
  const { numClasses } = probabilityLayout(yTrue.length, probabilities.length);
  const predicted = predictLabels(probabilities, yTrue.length, options.threshold);
  return classificationScores(yTrue, predicted, numClasses);
}

/** Binary metrics report the positive class (1), like sklearn's `average="binary"`. */
function positiveClass(yTrue: NumericArray, probabilities: NumericArray, options: MetricOptions) {
  return scoresOf(yTrue, probabilities, options).perClass[1];
}

/**
 * Every metric a gate can name. The names follow sklearn's scorer names (without
 * the `neg_` prefix: direction is `higherIsBetter`), so a config reads familiar.
 */
export const METRICS = {
  accuracy: {
    description: 'fraction of rows predicted correctly',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).accuracy,
  },
  precision: {
    description: 'precision of the positive class',
    higherIsBetter: true,
    tasks: BINARY,
    compute: (y, p, o) => positiveClass(y, p, o).precision,
  },
  recall: {
    description: 'recall of the positive class',
    higherIsBetter: true,
    tasks: BINARY,
    compute: (y, p, o) => positiveClass(y, p, o).recall,
  },
  f1: {
    description: 'F1 of the positive class',
    higherIsBetter: true,
    tasks: BINARY,
    compute: (y, p, o) => positiveClass(y, p, o).f1,
  },
  precision_macro: {
    description: 'precision averaged over classes',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).macro.precision,
  },
  recall_macro: {
    description: 'recall averaged over classes (balanced accuracy)',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).macro.recall,
  },
  f1_macro: {
    description: 'F1 averaged over classes',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).macro.f1,
  },
  f1_micro: {
    description: 'F1 from counts pooled over classes',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).micro.f1,
  },
  f1_weighted: {
    description: 'F1 averaged over classes, weighted by support',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p, o) => scoresOf(y, p, o).weighted.f1,
  },
  roc_auc: {
    description: 'area under the ROC curve (multiclass: one-vs-rest, macro)',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p) => rocAuc(y, p),
  },
  average_precision: {
    description: 'area under the precision-recall curve, step-wise (multiclass: one-vs-rest, macro)',
    higherIsBetter: true,
    tasks: CLASSIFICATION,
    compute: (y, p) => averagePrecision(y, p),
  },
  log_loss: {
    description: 'mean cross-entropy of the probabilities',
    higherIsBetter: false,
    tasks: CLASSIFICATION,
    compute: (y, p) => logLoss(y, p),
  },
  brier: {
    description: 'mean squared error of the probabilities',
    higherIsBetter: false,
    tasks: CLASSIFICATION,
    compute: (y, p) => brierScore(y, p),
  },
  rmse: {
    description: 'root mean squared error',
    higherIsBetter: false,
    tasks: REGRESSION,
    compute: (y, p) => rmse(y, p),
  },
  mae: {
    description: 'mean absolute error',
    higherIsBetter: false,
    tasks: REGRESSION,
    compute: (y, p) => mae(y, p),
  },
  r2: {
    description: 'coefficient of determination',
    higherIsBetter: true,
    tasks: REGRESSION,
    compute: (y, p) => r2(y, p),
  },
  mape: {
    description: 'mean absolute percentage error, as a fraction',
    higherIsBetter: false,
    tasks: REGRESSION,
    compute: (y, p, o) => mape(y, p, { zeroTargets: o.zeroTargets }),
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

export function higherIsBetter(metric: MetricName): boolean {
  return METRICS[metric].higherIsBetter;
}

/** Checks that `metric` applies to `task` and that `output` has the task's shape. */
export function assertMetricFits(metric: MetricName, task: TaskKind, rows: number, outputLength: number): void {
  if (!isMetricName(metric)) {
    throw new EvaluationInputError(`unknown metric "${String(metric)}"; known metrics: ${METRIC_NAMES.join(', ')}`);
  }
  const tasks: readonly TaskKind[] = METRICS[metric].tasks;
  if (!tasks.includes(task)) {
    throw new EvaluationInputError(
      `metric "${metric}" does not apply to a ${task} task (it applies to: ${tasks.join(', ')})`,
    );
  }
  if (task === 'regression') {
    if (outputLength !== rows) {
      throw new EvaluationInputError(`regression predictions have ${outputLength} values for ${rows} rows`);
    }
    return;
  }
  const { numClasses } = probabilityLayout(rows, outputLength);
  if (task === 'binary' && numClasses !== 2) {
    throw new EvaluationInputError(`a binary task needs 2 classes but the probabilities have ${numClasses} per row`);
  }
}

/**
 * Computes a metric by name. `output` is class probabilities for classification
 * (length n for binary positive-class, or n*K row-major) or predictions for regression.
 */
export function computeMetric(
  metric: MetricName,
  task: TaskKind,
  yTrue: NumericArray,
  output: NumericArray,
  options: MetricOptions = {},
): number {
  assertMetricFits(metric, task, yTrue.length, output.length);
  return METRICS[metric].compute(yTrue, output, options);
}
