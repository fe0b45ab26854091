import { describe, expect, it } from 'vitest';
import { binMatrix, fitBinMapper, transposeBins } from '../../../../lib/training/gbdt/binning.js';
import { growTree, type GrowInput } from '../../../../lib/training/gbdt/grow.js';
import { buildHistogram, HistogramPool, histogramLayout, subtractHistogram } from '../../../../lib/training/gbdt/histogram.js';
import { DEFAULT_GBDT_PARAMS } from '../../../../lib/training/gbdt/params.js';
import { leafOfBinned, leafOfRaw, type Tree } from '../../../../lib/training/gbdt/tree.js';
import { wave, withMissing } from './synthetic.js';

function setup(n: number) {
  const data = withMissing(wave(n, 11), 0.1, 12);
  const { f } = data;
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const mapper = fitBinMapper(data.X, f, all, 32);
  const bins = binMatrix(mapper, data.X, n, f);
  const layout = histogramLayout(mapper);
  const mean = data.y.reduce((a, b) => a + b) / n;
  const grad = data.y.map((v) => mean - v);
  const hess = new Float64Array(n).fill(1);
  return { data, f, all, mapper, bins, layout, grad, hess };
}

function depthOf(tree: Tree, ref = 0): number {
  if (tree.feature.length === 0 || ref < 0) return 0;
  return 1 + Math.max(depthOf(tree, tree.left[ref]), depthOf(tree, tree.right[ref]));
}

describe('histograms', () => {
  it('derive a child as parent minus sibling, matching a direct build', () => {
    const { f, all, bins, layout, grad, hess } = setup(400);
    const features = Int32Array.from({ length: f }, (_, j) => j);
    const parent = new Float64Array(3 * layout.slots);
    const left = new Float64Array(3 * layout.slots);
    const right = new Float64Array(3 * layout.slots);
    buildHistogram(parent, layout, bins, f, all, 0, 400, grad, hess, features);
    buildHistogram(left, layout, bins, f, all, 0, 150, grad, hess, features);
    buildHistogram(right, layout, bins, f, all, 150, 400, grad, hess, features);
    subtractHistogram(parent, left);
    for (let s = 0; s < parent.length; s++) expect(parent[s]).toBeCloseTo(right[s], 9);
  });
});

describe('growTree', () => {
  const input = (over: Partial<GrowInput['params']>): GrowInput => {
    const s = setup(600);
    return {
      bins: s.bins,
      columns: transposeBins(s.bins, 600, s.f),
      f: s.f,
      mapper: s.mapper,
      layout: s.layout,
      pool: new HistogramPool(3 * s.layout.slots),
      rows: s.all.slice(),
      scratch: new Uint32Array(600),
      grad: s.grad,
      hess: s.hess,
      features: Int32Array.from({ length: s.f }, (_, j) => j),
      params: { ...DEFAULT_GBDT_PARAMS, learningRate: 1, ...over },
    };
  };

  it('grows leaf-wise up to maxLeaves, respecting minDataInLeaf', () => {
    const inp = input({ maxLeaves: 12, minDataInLeaf: 25 });
    const { tree } = growTree(inp);
    expect(tree.leafValue.length).toBe(12);
    expect(tree.feature.length).toBe(11);
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 600; i++) counts[leafOfBinned(tree, inp.bins, inp.f, i, inp.mapper.numBins)]++;
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(25);
  });

  it('leaves the rows of each leaf in the segment it reports, so scores update without routing', () => {
    const inp = input({ maxLeaves: 16, minDataInLeaf: 10 });
    const { tree, leafRanges } = growTree(inp);
    const seen = new Set<number>();
    for (let leaf = 0; leaf < tree.leafValue.length; leaf++) {
      for (let p = leafRanges[2 * leaf]; p < leafRanges[2 * leaf + 1]; p++) {
        const row = inp.rows[p];
        expect(leafOfBinned(tree, inp.bins, inp.f, row, inp.mapper.numBins)).toBe(leaf);
        seen.add(row);
      }
    }
    expect(seen.size).toBe(600);
  });

  it('respects maxDepth', () => {
    const { tree } = growTree(input({ maxLeaves: 64, maxDepth: 3, minDataInLeaf: 5 }));
    expect(depthOf(tree)).toBeLessThanOrEqual(3);
    expect(tree.leafValue.length).toBeLessThanOrEqual(8);
  });

  it('routes raw float values exactly as the binned training rows', () => {
    const inp = input({ maxLeaves: 20, minDataInLeaf: 5 });
    const { tree } = growTree(inp);
    const { data } = setup(600);
    for (let i = 0; i < 600; i++) expect(leafOfRaw(tree, data.X, data.f, i)).toBe(leafOfBinned(tree, inp.bins, inp.f, i, inp.mapper.numBins));
  });

  it('sets each leaf to -G/(H + lambda) times the learning rate, in float32', () => {
    const inp = input({ maxLeaves: 4, minDataInLeaf: 50, lambdaL2: 10, learningRate: 0.3 });
    const { tree } = growTree(inp);
    const g = new Array(4).fill(0);
    const h = new Array(4).fill(0);
    for (let i = 0; i < 600; i++) {
      const leaf = leafOfBinned(tree, inp.bins, inp.f, i, inp.mapper.numBins);
      g[leaf] += inp.grad[i];
      h[leaf] += inp.hess[i];
    }
    tree.leafValue.forEach((v, k) => {
      expect(Math.fround(v)).toBe(v);
      expect(v).toBeCloseTo((-g[k] / (h[k] + 10)) * 0.3, 6);
    });
  });

  it('returns a single leaf when no split meets the constraints', () => {
    const { tree } = growTree(input({ minDataInLeaf: 400 }));
    expect(tree.feature.length).toBe(0);
    expect(tree.leafValue.length).toBe(1);
  });
});
