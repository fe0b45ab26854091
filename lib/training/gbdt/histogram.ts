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

/** Rows per block of the histogram loop; the next block's data is read ahead while this one is summed. */
const BLOCK = 8;

/**
 * Reads the codes, gradient and hessian of rows[from..to), returning a sum nobody needs: JavaScript has no
 * prefetch instruction, and reading a block's scattered rows back to back lets their cache misses overlap,
 * where the histogram loop would otherwise stall on them one row at a time.
 */
function touchRows(rows: Uint32Array, from: number, to: number, bins: Uint8Array, f: number, grad: Float64Array, hess: Float64Array): number {
  let sum = 0;
  for (let p = from; p < to; p++) {
    const i = rows[p];
    sum += bins[i * f] + bins[i * f + f - 1] + grad[i] + hess[i];
  }
  return sum;
}

/** Keeps touchRows' reads observable, so the compiler cannot drop them. */
export let touchedSum = 0;

/**
 * Fills `out` with the histogram of rows[start..end) over the given features.
 * Row-major bins make this one pass over the node's rows. This is the hot
 * loop of a fit: the features are taken four at a time with their slot
 * offsets resolved up front, which lets V8 keep the unrolled body in
 * registers (about 1.7x faster than one feature per iteration). A node
 * holding under a tenth of the rows has them scattered over the whole set;
 * reading each block ahead (touchRows) makes it about 1.5-2x faster there.
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
  // A local, not the module binding: loaded as a module (tsx, the training thread) every use of an imported or
  // module-level const costs a context load and a hole check, which made whole fits about 1.4x slower.
  const width = SLOT;
  const block = BLOCK;
  const nf = features.length;
  const slot = new Int32Array(nf);
  for (let q = 0; q < nf; q++) slot[q] = width * layout.offsets[features[q]];
  const nf4 = nf - (nf % 4);
  const scattered = (end - start) * 10 < bins.length / f;
  let touched = 0;
  for (let b = start; b < end; b += block) {
    const blockEnd = Math.min(b + block, end);
    if (scattered) touched += touchRows(rows, blockEnd, Math.min(blockEnd + block, end), bins, f, grad, hess);
    for (let p = b; p < blockEnd; p++) {
      const i = rows[p];
      const g = grad[i];
      const h = hess[i];
      const base = i * f;
      let q = 0;
      for (; q < nf4; q += 4) {
        let s = slot[q] + width * bins[base + features[q]];
        out[s] += g;
        out[s + 1] += h;
        out[s + 2] += 1;
        s = slot[q + 1] + width * bins[base + features[q + 1]];
        out[s] += g;
        out[s + 1] += h;
        out[s + 2] += 1;
        s = slot[q + 2] + width * bins[base + features[q + 2]];
        out[s] += g;
        out[s + 1] += h;
        out[s + 2] += 1;
        s = slot[q + 3] + width * bins[base + features[q + 3]];
        out[s] += g;
        out[s + 1] += h;
        out[s + 2] += 1;
      }
      for (; q < nf; q++) {
        const s = slot[q] + width * bins[base + features[q]];
        out[s] += g;
        out[s + 1] += h;
        out[s + 2] += 1;
      }
    }
  }
  touchedSum = touched;
}

/** parent -= child, in place: the parent's buffer becomes the sibling's histogram without touching its rows. */
export function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let s = 0; s < parent.length; s++) parent[s] -= child[s];
}
