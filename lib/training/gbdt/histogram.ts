// Per-node gradient histograms over binned features, and the subtraction that derives a sibling from its parent.
import type { BinMapper } from './binning.js';

/** Where each feature's bins sit in a flat histogram; every slot holds (sum grad, sum hess, count). */
export interface HistogramLayout {
  /** First slot of feature j; its missing bin is the slot at offsets[j] + numBins[j]. */
  offsets: Int32Array;
  numBins: Int32Array;
  slots: number;
}

export const SLOT = 3;

export function histogramLayout(mapper: BinMapper): HistogramLayout {
  const f = mapper.numBins.length;
  const offsets = new Int32Array(f);
  let slots = 0;
  for (let j = 0; j < f; j++) {
    offsets[j] = slots;
    slots += mapper.numBins[j] + 1;
  }
  return { offsets, numBins: mapper.numBins, slots };
}

/** Reuses histogram buffers across nodes and trees; a histogram is the largest allocation in a fit. */
export class HistogramPool {
  private readonly free: Float64Array[] = [];
  constructor(private readonly size: number) {}

  acquire(): Float64Array {
    return this.free.pop() ?? new Float64Array(this.size);
  }

  release(hist: Float64Array): void {
    this.free.push(hist);
  }
}

/**
 * Fills `out` with the histogram of rows[start..end) over the given features.
 * Row-major bins make this one sequential pass over the node's rows.
 */
export function buildHistogram(
  out: Float64Array,
  layout: HistogramLayout,
  bins: Uint8Array,
  f: number,
  rows: Uint32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  features: Int32Array,
): void {
  out.fill(0);
  const offsets = layout.offsets;
  const nf = features.length;
  for (let p = start; p < end; p++) {
    const i = rows[p];
    const g = grad[i];
    const h = hess[i];
    const base = i * f;
    for (let q = 0; q < nf; q++) {
      const j = features[q];
      const s = SLOT * (offsets[j] + bins[base + j]);
      out[s] += g;
      out[s + 1] += h;
      out[s + 2] += 1;
    }
  }
}

/** parent -= child, in place: the parent's buffer becomes the sibling's histogram without touching its rows. */
export function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let s = 0; s < parent.length; s++) parent[s] -= child[s];
}
