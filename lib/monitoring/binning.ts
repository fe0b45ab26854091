// Quantiles and bins shared by the profile (Node) and the window (SQL), so both sides cut data the same way.

/**
 * Linear-interpolation quantile of already sorted values: numpy's default and exactly what
 * Postgres `percentile_cont` computes, so a profile built here and a window aggregated in SQL agree.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, level: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantileOfSorted: no values');
  const h = (n - 1) * level;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Levels of the quantile sketch: the midpoints (i + 0.5) / count. Midpoints rather than 0..1 keep
 * min and max (single extreme rows) out of the sketch, so one outlier cannot dominate Wasserstein,
 * and each sketch point stands for an equal 1/count of the mass.
 */
export function quantileLevels(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + 0.5) / count);
}

/** The sketch of sorted values: one quantile per level of `quantileLevels(count)`. */
export function quantileSketch(sorted: ArrayLike<number>, count: number): number[] {
  return quantileLevels(count).map((level) => quantileOfSorted(sorted, level));
}

/** The smallest double greater than x. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const float = new Float64Array([x]);
  const bits = new BigInt64Array(float.buffer);
  // IEEE-754 is sign-magnitude: one more ulp of magnitude goes up for positives, down for negatives.
  bits[0] += x > 0 ? 1n : -1n;
  return float[0];
}

/**
 * Bin edges for reference data: the training min, the `bins - 1` inner quantiles, and the double just
 * above the training max, deduplicated. Bins are [lower, upper) and the outer two are open-ended, so
 * bin 0 holds values below the training range and the last bin values above it; both are empty in
 * the reference and light up when live data leaves the range. Inner edges are observed values (not
 * interpolated quantiles), so for discrete data tied quantiles collapse onto the values themselves,
 * leaving one bin per frequent value and no empty in-between bins.
 */
export function quantileBinEdges(sorted: ArrayLike<number>, bins: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const candidates = [sorted[0]];
  // Edge i is the value at 0-based rank ⌈i·n/bins⌉, the first row of bin i, so each bin starts at a
  // row. Integer arithmetic for the rank: 0.3 * 100 is 30.000000000000004 in floating point.
  for (let i = 1; i < bins; i++) candidates.push(sorted[Math.min(n - 1, Math.ceil((i * n) / bins))]);
  candidates.push(nextUp(sorted[sorted.length - 1]));
  const edges: number[] = [];
  for (const edge of candidates) {
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/**
 * Which bin x falls in, given ascending edges: the number of edges <= x. Identical to Postgres
 * `width_bucket(x, edges::float8[])`, so bin i of the profile is bucket i in SQL (0 .. edges.length).
 */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per bin (edges.length + 1 bins) of values that are all present (no missing). */
export function countIntoBins(edges: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i])]++;
  return counts;
}
