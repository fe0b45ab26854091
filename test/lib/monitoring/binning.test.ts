import { describe, expect, it } from 'vitest';
import {
  binIndex,
  countIntoBins,
  nextUp,
  quantileBinEdges,
  quantileLevels,
  quantileOfSorted,
  quantileSketch,
} from '../../../lib/monitoring/binning.js';

const A = [0.61, -1.2, 0.33, 2.05, -0.4, 0.9, 1.1, -0.05, 0.72, 0.18, -1.7, 0.44, 1.36, -0.82, 0.05, 0.27, 1.9, -0.3, 0.66, 0.12];

describe('quantileOfSorted', () => {
  it.each([
    // np.quantile(A, [0, 0.1, 0.25, 0.5, 0.9, 1]) (numpy's default "linear", like percentile_cont)
    [0, -1.7],
    [0.1, -0.8579999999999999],
    [0.25, -0.1125],
    [0.5, 0.30000000000000004],
    [0.9, 1.4140000000000008],
    [1, 2.05],
  ])('level %f matches numpy', (level, expected) => {
    expect(quantileOfSorted([...A].sort((x, y) => x - y), level)).toBeCloseTo(expected, 12);
  });
});

describe('quantile sketch', () => {
  it('uses midpoint levels so min and max stay out', () => {
    expect(quantileLevels(4)).toEqual([0.125, 0.375, 0.625, 0.875]);
    const sorted = Float64Array.from({ length: 101 }, (_, i) => i);
    expect(quantileSketch(sorted, 4)).toEqual([12.5, 37.5, 62.5, 87.5]);
  });
});

describe('nextUp', () => {
  it('steps one ulp up on both sides of zero', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(-1)).toBe(-1 + Number.EPSILON / 2);
    expect(nextUp(1e300)).toBeGreaterThan(1e300);
  });
});

describe('binIndex', () => {
  it('follows Postgres width_bucket(x, thresholds): the number of edges <= x', () => {
    // width_bucket(5.35, array[1, 3, 4, 6]) = 3 in Postgres
    const edges = [1, 3, 4, 6];
    expect(binIndex(edges, 5.35)).toBe(3);
    expect(binIndex(edges, 0.99)).toBe(0);
    expect(binIndex(edges, 1)).toBe(1);
    expect(binIndex(edges, 3)).toBe(2);
    expect(binIndex(edges, 6)).toBe(4);
    expect(binIndex(edges, 1e9)).toBe(4);
    expect(binIndex([], 42)).toBe(0);
  });
});

describe('quantileBinEdges', () => {
  it('brackets continuous data with the min and just above the max', () => {
    const sorted = Float64Array.from({ length: 1000 }, (_, i) => i / 10);
    const edges = quantileBinEdges(sorted, 10);
    expect(edges).toHaveLength(11);
    expect(edges[0]).toBe(0);
    expect(edges[10]).toBe(nextUp(99.9));
    const counts = countIntoBins(edges, sorted);
    // Nothing below the min or above the max; 100 rows in each quantile bin.
    expect(counts[0]).toBe(0);
    expect(counts[11]).toBe(0);
    expect(counts.slice(1, 11)).toEqual(new Array(10).fill(100));
  });

  it('collapses tied quantiles of discrete data', () => {
    // 50% zeros, 30% ones, 20% twos.
    const sorted = Float64Array.from([...new Array(50).fill(0), ...new Array(30).fill(1), ...new Array(20).fill(2)]);
    const edges = quantileBinEdges(sorted, 10);
    expect(edges).toEqual([0, 1, 2, nextUp(2)]);
    expect(countIntoBins(edges, sorted)).toEqual([0, 50, 30, 20, 0]);
  });

  it('gives a constant column its own bin, so any other value shows', () => {
    const edges = quantileBinEdges(Float64Array.from([7, 7, 7]), 10);
    expect(edges).toEqual([7, nextUp(7)]);
    expect(countIntoBins(edges, [6, 7, 7.0001])).toEqual([1, 1, 1]);
  });
});
