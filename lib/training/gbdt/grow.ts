// Leaf-wise growth of one tree on binned data: split the best leaf next, histograms by the subtraction trick.
import type { BinMapper } from './binning.js';
import { buildHistogram, subtractHistogram, type HistogramLayout, type HistogramPool } from './histogram.js';
import type { GbdtParams } from './params.js';
import { findBestSplit, type SplitCandidate } from './split.js';
import type { Tree } from './tree.js';

export type GrowParams = Pick<
  GbdtParams,
  'maxLeaves' | 'maxDepth' | 'minDataInLeaf' | 'minSumHessianInLeaf' | 'lambdaL2' | 'minGainToSplit' | 'learningRate'
>;

export interface GrowInput {
  /** Row-major codes (histograms read every feature of a row). */
  bins: Uint8Array;
  /** The same codes column-major, from transposeBins (partitions read one feature of many rows). */
  columns: Uint8Array;
  f: number;
  mapper: BinMapper;
  layout: HistogramLayout;
  pool: HistogramPool;
  /** Rows this tree learns from (the round's sample); reordered in place so every leaf owns a contiguous segment. */
  rows: Uint32Array;
  /** Scratch of at least rows.length entries for the stable partition. */
  scratch: Uint32Array;
  /** Indexed by row id. */
  grad: Float64Array;
  hess: Float64Array;
  /** Features this tree may split on, ascending. */
  features: Int32Array;
  params: GrowParams;
}

interface OpenLeaf {
  start: number;
  end: number;
  depth: number;
  grad: number;
  hess: number;
  /** Internal node that points here, -1 for the root; `isLeft` says which of its children. */
  parent: number;
  isLeft: boolean;
  hist: Float64Array | null;
  split: SplitCandidate | null;
}

function sums(rows: Uint32Array, start: number, end: number, grad: Float64Array, hess: Float64Array): [number, number] {
  let g = 0;
  let h = 0;
  for (let p = start; p < end; p++) {
    g += grad[rows[p]];
    h += hess[rows[p]];
  }
  return [g, h];
}

interface Partitioned {
  mid: number;
  /** Gradient and hessian sums of each side, added in the side's row order. */
  gl: number;
  hl: number;
  gr: number;
  hr: number;
}

/**
 * Stable partition of rows[start..end) by the split, summing each side on the way; `mid` is the first index
 * of the right part. Branch-free: which side a row takes is as good as random, so a branch would mispredict
 * half the time; every row is written to both sides and only the chosen side's cursor advances.
 */
function partition(input: GrowInput, leaf: OpenLeaf, split: SplitCandidate, goesLeft: Uint8Array): Partitioned {
  const { rows, scratch, grad, hess } = input;
  const j = split.feature;
  const n = input.columns.length / input.f;
  const column = input.columns.subarray(j * n, (j + 1) * n);
  const missing = input.mapper.numBins[j];
  for (let code = 0; code < missing; code++) goesLeft[code] = code <= split.bin ? 1 : 0;
  goesLeft[missing] = split.missingLeft ? 1 : 0;
  let l = leaf.start;
  let r = 0;
  let gl = 0;
  let hl = 0;
  let gr = 0;
  let hr = 0;
  for (let p = leaf.start; p < leaf.end; p++) {
    const i = rows[p];
    const left = goesLeft[column[i]];
    const right = 1 - left;
    rows[l] = i;
    scratch[r] = i;
    l += left;
    r += right;
    // Adding g * 0 leaves a sum unchanged, so each side's sum is exactly that of its own rows in order.
    const g = grad[i];
    const h = hess[i];
    gl += g * left;
    hl += h * left;
    gr += g * right;
    hr += h * right;
  }
  rows.set(scratch.subarray(0, r), l);
  return { mid: l, gl, hl, gr, hr };
}

export interface GrownTree {
  tree: Tree;
  /** Leaf k owns rows[leafRanges[2k] .. leafRanges[2k + 1]) of the input's (reordered) rows. */
  leafRanges: Int32Array;
}

/** Grows one tree; leaf values are -G/(H + lambdaL2) times the learning rate, rounded to float32. */
export function growTree(input: GrowInput): GrownTree {
  const { params: p, layout, pool, rows } = input;
  // The side each bin code takes at the split being applied, refilled by every partition.
  const goesLeft = new Uint8Array(256);
  const tree: Tree = { feature: [], bin: [], threshold: [], missingLeft: [], left: [], right: [], gain: [], leafValue: [] };

  const splittable = (leaf: OpenLeaf) =>
    leaf.end - leaf.start >= 2 * p.minDataInLeaf && leaf.hess >= 2 * p.minSumHessianInLeaf && (p.maxDepth <= 0 || leaf.depth < p.maxDepth);
  const evaluate = (leaf: OpenLeaf) => {
    leaf.split = findBestSplit(leaf.hist!, layout, input.features, { grad: leaf.grad, hess: leaf.hess, count: leaf.end - leaf.start }, p);
  };

  const [g0, h0] = sums(rows, 0, rows.length, input.grad, input.hess);
  const root: OpenLeaf = { start: 0, end: rows.length, depth: 0, grad: g0, hess: h0, parent: -1, isLeft: true, hist: null, split: null };
  if (splittable(root)) {
    root.hist = pool.acquire();
    buildHistogram(root.hist, layout, input.bins, input.f, rows, 0, rows.length, input.grad, input.hess, input.features);
    evaluate(root);
  }
  const leaves: OpenLeaf[] = [root];

  while (leaves.length < p.maxLeaves) {
    let pick = -1;
    for (let k = 0; k < leaves.length; k++) {
      const s = leaves[k].split;
      if (s && (pick < 0 || s.gain > leaves[pick].split!.gain)) pick = k;
    }
    if (pick < 0) break;
    const leaf = leaves[pick];
    const split = leaf.split!;

    const node = tree.feature.length;
    const nb = layout.numBins[split.feature];
    tree.feature.push(split.feature);
    tree.bin.push(split.bin);
    tree.threshold.push(split.bin + 1 < nb ? input.mapper.edges[split.feature][split.bin] : Infinity);
    tree.missingLeft.push(split.missingLeft);
    tree.gain.push(split.gain);
    tree.left.push(0);
    tree.right.push(0);
    if (leaf.parent >= 0) (leaf.isLeft ? tree.left : tree.right)[leaf.parent] = node;

    const { mid, gl, hl, gr, hr } = partition(input, leaf, split, goesLeft);
    const left: OpenLeaf = { start: leaf.start, end: mid, depth: leaf.depth + 1, grad: gl, hess: hl, parent: node, isLeft: true, hist: null, split: null };
    const right: OpenLeaf = { start: mid, end: leaf.end, depth: leaf.depth + 1, grad: gr, hess: hr, parent: node, isLeft: false, hist: null, split: null };
    leaves[pick] = left;
    leaves.push(right);

    // Histograms only for children that may still split: build the one with
    // fewer rows, and get its sibling as parent minus it, in the parent's buffer.
    const more = leaves.length < p.maxLeaves;
    const needLeft = more && splittable(left);
    const needRight = more && splittable(right);
    const parentHist = leaf.hist!;
    leaf.hist = null;
    if (needLeft || needRight) {
      const [small, large, needSmall, needLarge] =
        mid - left.start <= right.end - mid ? [left, right, needLeft, needRight] : [right, left, needRight, needLeft];
      const smallHist = pool.acquire();
      buildHistogram(smallHist, layout, input.bins, input.f, rows, small.start, small.end, input.grad, input.hess, input.features);
      if (needLarge) {
        subtractHistogram(parentHist, smallHist);
        large.hist = parentHist;
        evaluate(large);
      } else pool.release(parentHist);
      if (needSmall) {
        small.hist = smallHist;
        evaluate(small);
      } else pool.release(smallHist);
    } else pool.release(parentHist);
  }

  const leafRanges = new Int32Array(2 * leaves.length);
  for (const leaf of leaves) {
    if (leaf.hist) pool.release(leaf.hist);
    const index = tree.leafValue.length;
    leafRanges[2 * index] = leaf.start;
    leafRanges[2 * index + 1] = leaf.end;
    const denom = leaf.hess + p.lambdaL2;
    tree.leafValue.push(denom > 0 ? Math.fround((-leaf.grad / denom) * p.learningRate) : 0);
    if (leaf.parent >= 0) (leaf.isLeft ? tree.left : tree.right)[leaf.parent] = ~index;
  }
  return { tree, leafRanges };
}
