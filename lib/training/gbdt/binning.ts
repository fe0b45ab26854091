// Quantile binning of numeric features into at most 255 value bins plus one missing bin, computed once per fit.

/**
 * Bin edges per feature. Edges are float32 values: a value x falls in the
 * first bin b with fround(x) <= edges[b], or in the last value bin
 * (edges.length) when it is above every edge. NaN gets the missing bin,
 * whose code is numBins[j]. Because a split "bin <= b" is exactly
 * "fround(x) <= edges[b]", the ONNX BRANCH_LEQ node (which compares in
 * float32) routes every value as the binned trainer did.
 */
export interface BinMapper {
  edges: Float64Array[];
  /** Value bins per feature (edges.length + 1); also the code of the missing bin. */
  numBins: Int32Array;
}

/**
 * A float32 edge separating two consecutive distinct float32 values lo < hi:
 * the midpoint when it rounds into [lo, hi), otherwise lo itself (adjacent
 * floats, or infinite neighbours).
 */
function edgeBetween(lo: number, hi: number): number {
  const mid = Math.fround(lo + (hi - lo) / 2);
  return mid >= lo && mid < hi ? mid : lo;
}

/** Edges for one feature's sorted non-missing values: one bin per distinct value when they fit, else quantile cuts. */
function featureEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) edges.push(edgeBetween(distinct[i], distinct[i + 1]));
    return Float64Array.from(edges);
  }
  // Each cut re-aims at an equal share of what remains, so a heavy value that
  // swallows several quantiles does not leave the later bins too coarse.
  const total = sorted.length;
  let cumulative = 0;
  let target = total / maxBins;
  for (let i = 0; i + 1 < distinct.length && edges.length < maxBins - 1; i++) {
    cumulative += counts[i];
    if (cumulative >= target) {
      edges.push(edgeBetween(distinct[i], distinct[i + 1]));
      target = cumulative + (total - cumulative) / (maxBins - edges.length);
    }
  }
  return Float64Array.from(edges);
}

/**
 * Computes bin edges from the given rows of X (row-major n x f, NaN = missing).
 * Values are rounded to float32 first: that is what onnxruntime will see.
 */
export function fitBinMapper(X: ArrayLike<number>, f: number, rows: ArrayLike<number>, maxBins: number): BinMapper {
  const edges: Float64Array[] = [];
  const numBins = new Int32Array(f);
  const values = new Float64Array(rows.length);
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let r = 0; r < rows.length; r++) {
      const v = Math.fround(X[rows[r] * f + j]);
      if (!Number.isNaN(v)) values[m++] = v;
    }
    const sorted = values.slice(0, m).sort();
    edges.push(featureEdges(sorted, maxBins));
    numBins[j] = edges[j].length + 1;
  }
  return { edges, numBins };
}

/** Bin code of one raw value for feature j. */
export function binOf(mapper: BinMapper, j: number, x: number): number {
  const v = Math.fround(x);
  if (Number.isNaN(v)) return mapper.numBins[j];
  const e = mapper.edges[j];
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= e[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins a whole row-major matrix; the codes stay row-major so one pass over a node's rows fills every feature's histogram. */
export function binMatrix(mapper: BinMapper, X: ArrayLike<number>, n: number, f: number): Uint8Array {
  const bins = new Uint8Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) bins[i * f + j] = binOf(mapper, j, X[i * f + j]);
  return bins;
}
