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
 */
export function findBestSplit(
  hist: Float64Array,
  layout: HistogramLayout,
  features: Int32Array,
  totals: NodeTotals,
  c: SplitConstraints,
): SplitCandidate | null {
  const { grad: G, hess: H, count: C } = totals;
  const parentScore = score(G, H, c.lambdaL2);
  let best: SplitCandidate | null = null;
  let bestGain = c.minGainToSplit;

  const consider = (feature: number, bin: number, missingLeft: boolean, gl: number, hl: number, cl: number) => {
    const cr = C - cl;
    const hr = H - hl;
    if (cl < c.minDataInLeaf || cr < c.minDataInLeaf || hl < c.minSumHessianInLeaf || hr < c.minSumHessianInLeaf) return;
    const gain = score(gl, hl, c.lambdaL2) + score(G - gl, hr, c.lambdaL2) - parentScore;
    if (gain > bestGain) {
      bestGain = gain;
      best = { feature, bin, missingLeft, gain };
    }
  };

  for (let q = 0; q < features.length; q++) {
    const j = features[q];
    const nb = layout.numBins[j];
    const off = SLOT * layout.offsets[j];
    const ms = off + SLOT * nb;
    const gm = hist[ms];
    const hm = hist[ms + 1];
    const cm = hist[ms + 2];
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b + 1 < nb; b++) {
      const s = off + SLOT * b;
      gl += hist[s];
      hl += hist[s + 1];
      cl += hist[s + 2];
      if (cm > 0) {
        consider(j, b, false, gl, hl, cl);
        consider(j, b, true, gl + gm, hl + hm, cl + cm);
      } else {
        // The node saw no missing value here: send future ones with the majority, as the best guess.
        consider(j, b, cl >= C - cl, gl, hl, cl);
      }
    }
    // Missing versus everything else: a split LightGBM-style binning finds only through the missing bin.
    if (cm > 0) {
      gl += hist[off + SLOT * (nb - 1)];
      hl += hist[off + SLOT * (nb - 1) + 1];
      cl += hist[off + SLOT * (nb - 1) + 2];
      consider(j, nb - 1, false, gl, hl, cl);
    }
  }
  return best;
}
