// Best split of one node from its histogram, trying missing values on either side of every threshold.
import { SLOT, type HistogramLayout } from './histogram.js';

export interface SplitConstraints {
  lambdaL2: number;
  minDataInLeaf: number;
  minSumHessianInLeaf: number;
  minGainToSplit: number;
}

export interface NodeTotals {
  grad: number;
  hess: number;
  count: number;
}

export interface SplitCandidate {
  feature: number;
  /**
   * Largest value bin that goes left. The value numBins - 1 (every value bin)
   * marks the split that separates missing values from all others.
   */
  bin: number;
  missingLeft: boolean;
  gain: number;
}

function score(g: number, h: number, lambda: number): number {
  return (g * g) / (h + lambda);
}

/**
 * Scans every threshold of every feature in `features` (ascending). Ties keep
 * the first candidate found, so the choice is deterministic. Returns null
 * when no split satisfies the constraints with gain above minGainToSplit.
 *
 * A bin holding no rows of the node is skipped: its thresholds have the same
 * left side as the previous bin's, which was scanned first and wins any tie
 * (and the rounding residue histogram subtraction can leave in an empty bin
 * no longer tips such ties). Deep nodes leave most bins empty.
 */
export function findBestSplit(
  hist: Float64Array,
  layout: HistogramLayout,
  features: Int32Array,
  totals: NodeTotals,
  c: SplitConstraints,
): SplitCandidate | null {
  const { grad: G, hess: H, count: C } = totals;
  const width = SLOT; // a local for the hot loop (see buildHistogram)
  const { lambdaL2: lambda, minDataInLeaf, minSumHessianInLeaf } = c;
  const parentScore = score(G, H, lambda);
  let bestGain = c.minGainToSplit;
  let bestFeature = -1;
  let bestBin = 0;
  let bestMissingLeft = false;

  // The best is kept in scalars, not an object per improvement: this runs for every bin of every node.
  const consider = (feature: number, bin: number, missingLeft: boolean, gl: number, hl: number, cl: number) => {
    const cr = C - cl;
    const hr = H - hl;
    if (cl < minDataInLeaf || cr < minDataInLeaf || hl < minSumHessianInLeaf || hr < minSumHessianInLeaf) return;
    const gain = score(gl, hl, lambda) + score(G - gl, hr, lambda) - parentScore;
    if (!(gain > bestGain)) return;
    bestGain = gain;
    bestFeature = feature;
    bestBin = bin;
    bestMissingLeft = missingLeft;
  };

  for (let q = 0; q < features.length; q++) {
    const j = features[q];
    const nb = layout.numBins[j];
    const off = width * layout.offsets[j];
    const ms = off + width * nb;
    const gm = hist[ms];
    const hm = hist[ms + 1];
    const cm = hist[ms + 2];
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b + 1 < nb; b++) {
      const s = off + width * b;
      if (hist[s + 2] === 0) continue;
      gl += hist[s];
      hl += hist[s + 1];
      cl += hist[s + 2];
      // The right side only shrinks from here: no later threshold can leave it minDataInLeaf rows.
      if (C - cl < minDataInLeaf) break;
      if (cm > 0) {
        consider(j, b, false, gl, hl, cl);
        consider(j, b, true, gl + gm, hl + hm, cl + cm);
      } else {
        // The node saw no missing value here: send future ones with the majority, as the best guess.
        consider(j, b, cl >= C - cl, gl, hl, cl);
      }
    }
    // Missing versus everything else: a split LightGBM-style binning finds only through the missing bin.
    // The left side is every value bin: the node's totals less its missing bin.
    if (cm > 0) consider(j, nb - 1, false, G - gm, H - hm, C - cm);
  }
  return bestFeature < 0 ? null : { feature: bestFeature, bin: bestBin, missingLeft: bestMissingLeft, gain: bestGain };
}
