// Two-sample drift statistics: PSI, Kolmogorov-Smirnov, chi-square homogeneity, Jensen-Shannon, Wasserstein-1.

import { quantileLevels } from './binning.js';
import { chiSquareSurvival, kolmogorovSurvival } from './special-functions.js';

/**
 * Floor for an empty bin's share in PSI. An empty bin on one side makes ln(q/0) infinite; flooring
 * at 1e-4 (one row in ten thousand) caps one empty bin's contribution at q·ln(q/1e-4), e.g. 0.46 for
 * a bin holding 10% on the other side, enough to flag it without letting one bin swamp the sum.
 */
export const PSI_EPSILON = 1e-4;

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/** Counts (or weights) scaled to sum to 1; all zeros when the total is zero. */
export function toProportions(counts: ArrayLike<number>): number[] {
  const total = sum(counts);
  return Array.from(counts, (c) => (total > 0 ? c / total : 0));
}

/**
 * Population stability index Σ (c − r)·ln(c / r) over matching bins. Takes counts or proportions
 * (each side is normalised); shares are floored at `epsilon` (see PSI_EPSILON).
 */
export function populationStabilityIndex(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  epsilon: number = PSI_EPSILON,
): number {
  assertSameLength(reference, current, 'populationStabilityIndex');
  const r = toProportions(reference);
  const c = toProportions(current);
  let psi = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = Math.max(r[i], epsilon);
    const ci = Math.max(c[i], epsilon);
    psi += (ci - ri) * Math.log(ci / ri);
  }
  return psi;
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

// sup |F_a − F_b| over two sorted samples; ties advance both sides together.
function ksStatisticOfSorted(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i], b[j]);
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/** Exact two-sample Kolmogorov-Smirnov statistic sup |F_a(x) − F_b(x)| from raw samples. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) throw new RangeError('ksStatistic: both samples need values');
  return ksStatisticOfSorted(sortedCopy(a), sortedCopy(b));
}

// A sketch read back as a CDF: linear between its points (level (i + 0.5)/m at point i), 0 below
// the first and 1 above the last. `right` is F(x), `left` the limit from below, which differ where
// tied sketch points (discrete data) make the CDF jump.
function sketchCdf(sketch: ArrayLike<number>): { right(x: number): number; left(x: number): number } {
  const m = sketch.length;
  const levels = quantileLevels(m);
  const between = (j: number, x: number) => levels[j] + (levels[j + 1] - levels[j]) * ((x - sketch[j]) / (sketch[j + 1] - sketch[j]));
  return {
    right(x) {
      if (x < sketch[0]) return 0;
      if (x >= sketch[m - 1]) return 1;
      let lo = 0; // last index with sketch[lo] <= x
      let hi = m - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (sketch[mid] <= x) lo = mid;
        else hi = mid;
      }
      return between(lo, x);
    },
    left(x) {
      if (x <= sketch[0]) return 0;
      if (x > sketch[m - 1]) return 1;
      let lo = 0; // sketch[lo] < x <= sketch[hi]
      let hi = m - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (sketch[mid] < x) lo = mid;
        else hi = mid;
      }
      return between(lo, x);
    },
  };
}

/**
 * KS statistic from two quantile sketches at the same midpoint levels (see `quantileLevels`). Each
 * sketch is read back as a piecewise-linear CDF and the largest gap is found at the sketch points,
 * where it must lie. Identical distributions give about 0 rather than one sketch step, so at large
 * n the p-value does not call sketch granularity a difference; the tails beyond the outermost
 * points (half a step each) are where the remaining error of at most 1/(2·length) sits.
 */
export function ksStatisticFromSketches(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current, 'ksStatisticFromSketches');
  if (reference.length === 0) throw new RangeError('ksStatisticFromSketches: empty sketches');
  const a = sketchCdf(reference);
  const b = sketchCdf(current);
  let d = 0;
  for (const sketch of [reference, current]) {
    for (let i = 0; i < sketch.length; i++) {
      const x = sketch[i];
      d = Math.max(d, Math.abs(a.right(x) - b.right(x)), Math.abs(a.left(x) - b.left(x)));
    }
  }
  return d;
}

/**
 * KS statistic from counts in the same bins: exact at the bin edges, so a lower bound on the KS of
 * the underlying data. Used when no quantile sketch of the window is available.
 */
export function ksStatisticFromBinCounts(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current, 'ksStatisticFromBinCounts');
  const r = toProportions(reference);
  const c = toProportions(current);
  let cumR = 0;
  let cumC = 0;
  let d = 0;
  for (let i = 0; i < r.length; i++) {
    cumR += r[i];
    cumC += c[i];
    d = Math.max(d, Math.abs(cumR - cumC));
  }
  return d;
}

/**
 * Asymptotic two-sample KS p-value: Kolmogorov's limiting distribution at √(n·m/(n+m))·D, as R's
 * `ks.test(exact = FALSE)` and scipy's `kstwobign.sf` compute it. (scipy's `ks_2samp(method='asymp')`
 * now uses the finite-n `kstwo` at n = round(n·m/(n+m)), a little smaller for small samples; the two
 * agree within a few percent from about a thousand rows, the sizes drift windows have.)
 * n and m are the real sample sizes, not sketch lengths.
 */
export function ksPValue(statistic: number, referenceSize: number, currentSize: number): number {
  if (referenceSize <= 0 || currentSize <= 0) return 1;
  const effectiveSize = (referenceSize * currentSize) / (referenceSize + currentSize);
  return kolmogorovSurvival(Math.sqrt(effectiveSize) * statistic);
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Exact KS statistic and asymptotic p-value from two raw samples. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const statistic = ksStatistic(a, b);
  return { statistic, pValue: ksPValue(statistic, a.length, b.length) };
}

export interface ChiSquareResult extends TestResult {
  degreesOfFreedom: number;
}

/**
 * Pearson chi-square test of homogeneity: do the rows (samples) share one distribution over the
 * columns (categories or bins)? Columns empty in every row are dropped; with fewer than two columns
 * left there is nothing to test (statistic 0, p-value 1). No continuity correction, matching
 * scipy's `chi2_contingency(table, correction=False)`.
 */
export function chiSquareHomogeneity(rows: ReadonlyArray<ArrayLike<number>>): ChiSquareResult {
  if (rows.length < 2) throw new RangeError('chiSquareHomogeneity: needs at least two rows');
  const width = rows[0].length;
  for (const row of rows) assertSameLength(rows[0], row, 'chiSquareHomogeneity');
  const rowTotals = rows.map(sum);
  const columnTotals = Array.from({ length: width }, (_, j) => sum(rows.map((row) => row[j])));
  const grandTotal = sum(rowTotals);
  const liveColumns = columnTotals.filter((t) => t > 0).length;
  const liveRows = rowTotals.filter((t) => t > 0).length;
  const degreesOfFreedom = (liveColumns - 1) * (liveRows - 1);
  if (degreesOfFreedom <= 0) return { statistic: 0, degreesOfFreedom: 0, pValue: 1 };
  let statistic = 0;
  for (let i = 0; i < rows.length; i++) {
    if (rowTotals[i] === 0) continue;
    for (let j = 0; j < width; j++) {
      if (columnTotals[j] === 0) continue;
      const expected = (rowTotals[i] * columnTotals[j]) / grandTotal;
      const diff = rows[i][j] - expected;
      statistic += (diff * diff) / expected;
    }
  }
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}

/**
 * Jensen-Shannon distance, base 2: the square root of the JS divergence, so it is a metric in
 * [0, 1] (0 identical, 1 disjoint support) and, unlike KL or PSI, finite with empty bins.
 * Takes counts or proportions; each side is normalised. Matches scipy's `jensenshannon(p, q, base=2)`.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assertSameLength(p, q, 'jensenShannonDistance');
  const pp = toProportions(p);
  const qq = toProportions(q);
  let divergence = 0;
  for (let i = 0; i < pp.length; i++) {
    const m = (pp[i] + qq[i]) / 2;
    if (pp[i] > 0) divergence += 0.5 * pp[i] * Math.log2(pp[i] / m);
    if (qq[i] > 0) divergence += 0.5 * qq[i] * Math.log2(qq[i] / m);
  }
  return Math.min(1, Math.sqrt(Math.max(0, divergence)));
}

/**
 * Wasserstein-1 (earth mover's) distance ∫|Q_a(u) − Q_b(u)| du from two quantile sketches at the
 * same midpoint levels: the mean absolute difference of matching quantiles. In the data's units;
 * the drift report divides it by a reference scale so thresholds are unitless.
 */
export function wassersteinFromSketches(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current, 'wassersteinFromSketches');
  if (reference.length === 0) throw new RangeError('wassersteinFromSketches: empty sketches');
  let total = 0;
  for (let i = 0; i < reference.length; i++) total += Math.abs(reference[i] - current[i]);
  return total / reference.length;
}

/** Exact Wasserstein-1 distance ∫|F_a(x) − F_b(x)| dx between two raw samples (scipy's `wasserstein_distance`). */
export function wassersteinFromSamples(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) throw new RangeError('wassersteinFromSamples: both samples need values');
  const sa = sortedCopy(a);
  const sb = sortedCopy(b);
  let i = 0;
  let j = 0;
  let total = 0;
  let previous = Math.min(sa[0], sb[0]);
  while (i < sa.length || j < sb.length) {
    const x = Math.min(i < sa.length ? sa[i] : Infinity, j < sb.length ? sb[j] : Infinity);
    total += Math.abs(i / sa.length - j / sb.length) * (x - previous);
    while (i < sa.length && sa[i] <= x) i++;
    while (j < sb.length && sb[j] <= x) j++;
    previous = x;
  }
  return total;
}
