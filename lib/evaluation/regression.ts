// Regression metrics: RMSE, MAE, R^2, MAPE.

import { UndefinedMetricError } from './errors.js';
import { assertFinite, assertSameLength } from './inputs.js';
import type { NumericArray } from './types.js';

function checked(yTrue: NumericArray, yPred: NumericArray): void {
  assertSameLength(yTrue, yPred, 'y_true', 'y_pred');
  assertFinite(yTrue, 'y_true');
  assertFinite(yPred, 'y_pred');
}

export function rmse(yTrue: NumericArray, yPred: NumericArray): number {
  checked(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += (yTrue[i] - yPred[i]) ** 2;
  return Math.sqrt(sum / yTrue.length);
}

export function mae(yTrue: NumericArray, yPred: NumericArray): number {
  checked(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs(yTrue[i] - yPred[i]);
  return sum / yTrue.length;
}

/**
 * Coefficient of determination, 1 - SS_res / SS_tot. With a constant y_true (SS_tot = 0)
 * it is 1 for a perfect prediction and 0 otherwise, as sklearn's `force_finite=True`.
 * Fewer than two rows: UndefinedMetricError (sklearn returns NaN).
 */
export function r2(yTrue: NumericArray, yPred: NumericArray): number {
  checked(yTrue, yPred);
  const n = yTrue.length;
  if (n < 2) throw new UndefinedMetricError('R^2 is undefined with fewer than two rows');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i];
  mean /= n;
  let residual = 0, total = 0;
  for (let i = 0; i < n; i++) {
    residual += (yTrue[i] - yPred[i]) ** 2;
    total += (yTrue[i] - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

/**
 * What MAPE does with rows whose target is 0, where the relative error divides by zero:
 * - `epsilon` (default, sklearn's behaviour): divide by max(|y|, 2^-52), so any miss on a
 *   zero target yields an enormous value that makes the problem visible;
 * - `skip`: leave those rows out of the mean (UndefinedMetricError if every target is 0).
 */
export type MapeZeroTargets = 'epsilon' | 'skip';

/** Mean absolute percentage error as a fraction (0.1 = 10%), not a percentage. */
export function mape(
  yTrue: NumericArray,
  yPred: NumericArray,
  options: { readonly zeroTargets?: MapeZeroTargets } = {},
): number {
  checked(yTrue, yPred);
  const skipZeros = (options.zeroTargets ?? 'epsilon') === 'skip';
  let sum = 0, used = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (skipZeros && yTrue[i] === 0) continue;
    sum += Math.abs(yPred[i] - yTrue[i]) / Math.max(Math.abs(yTrue[i]), 2 ** -52);
    used++;
  }
  if (used === 0) throw new UndefinedMetricError('MAPE is undefined: every target is 0 and zero targets are skipped');
  return sum / used;
}
