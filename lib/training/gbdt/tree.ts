// A fitted regression tree (plain arrays, JSON-friendly) and how rows are routed through it.

/**
 * Internal nodes are indexed 0..feature.length-1, node 0 being the root; a
 * child reference c >= 0 is an internal node and c < 0 is the leaf ~c. A tree
 * without internal nodes is the single leaf 0.
 */
export interface Tree {
  feature: number[];
  /** Largest bin that goes left (training-time view of the threshold). */
  bin: number[];
  /** A float32 value: fround(x) <= threshold goes left. Infinity separates missing from all values. */
  threshold: number[];
  /** Where NaN goes, learned per split. */
  missingLeft: boolean[];
  left: number[];
  right: number[];
  /** Loss reduction of each split, for feature importance. */
  gain: number[];
  /** float32 values, learning rate applied: exactly what the ONNX graph carries. */
  leafValue: number[];
}

/** Leaf reached by row `row` of a row-major binned matrix; `missingCode[j]` is feature j's missing bin. */
export function leafOfBinned(tree: Tree, bins: Uint8Array, f: number, row: number, missingCode: Int32Array): number {
  if (tree.feature.length === 0) return 0;
  let node = 0;
  while (node >= 0) {
    const j = tree.feature[node];
    const code = bins[row * f + j];
    const goLeft = code === missingCode[j] ? tree.missingLeft[node] : code <= tree.bin[node];
    node = goLeft ? tree.left[node] : tree.right[node];
  }
  return ~node;
}

/** Leaf reached by row `row` of a raw row-major matrix, comparing in float32 as onnxruntime does. */
export function leafOfRaw(tree: Tree, X: ArrayLike<number>, f: number, row: number): number {
  if (tree.feature.length === 0) return 0;
  let node = 0;
  while (node >= 0) {
    const v = Math.fround(X[row * f + tree.feature[node]]);
    const goLeft = Number.isNaN(v) ? tree.missingLeft[node] : v <= tree.threshold[node];
    node = goLeft ? tree.left[node] : tree.right[node];
  }
  return ~node;
}

