// Quantiles of samples: interpolated (for bootstrap intervals) and nearest-rank (for latency budgets).

import { EvaluationInputError } from './errors.js';
import type { NumericArray } from './types.js';

function sortedCopy(values: NumericArray, what: string): Float64Array {
  if (values.length === 0) throw new EvaluationInputError(`${what}: no samples`);
  const sorted = Float64Array.from(values);
  for (const v of sorted) {
    if (Number.isNaN(v)) throw new EvaluationInputError(`${what}: samples contain NaN`);
  }
  return sorted.sort();
}

/** Quantile with linear interpolation between order statistics (numpy's default `linear` method). */
export function interpolatedQuantile(values: NumericArray, q: number): number {
  const sorted = sortedCopy(values, 'interpolatedQuantile');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Nearest-rank quantile: the smallest observed sample with at least q of the samples at or below it.
 * Latency budgets use it because it is always a latency that really happened, and never
 * understates the tail the way interpolation can on few samples.
 */
export function nearestRankQuantile(values: NumericArray, q: number): number {
  const sorted = sortedCopy(values, 'nearestRankQuantile');
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}
