import { describe, expect, it } from 'vitest';
import { binMatrix, binOf, fitBinMapper } from '../../../../lib/training/gbdt/binning.js';
import { seededRandom } from '../../../../lib/util/random.js';
import { float32Neighbours } from './synthetic.js';

const all = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

describe('fitBinMapper', () => {
  it('gives each distinct value its own bin when they fit, and NaN the missing bin', () => {
    const X = [3, 1, 2, 2, Number.NaN, 1, 3];
    const mapper = fitBinMapper(X, 1, all(X.length), 255);
    expect(mapper.numBins[0]).toBe(3);
    expect(Array.from(binMatrix(mapper, X, X.length, 1))).toEqual([2, 0, 1, 1, 3, 0, 2]);
    // Edges sit between the values, so unseen values in between go to the nearer side of the midpoint.
    expect(binOf(mapper, 0, 1.4)).toBe(0);
    expect(binOf(mapper, 0, 1.6)).toBe(1);
    expect(binOf(mapper, 0, -100)).toBe(0);
    expect(binOf(mapper, 0, Infinity)).toBe(2);
  });

  it('caps the bins at maxBins with roughly equal counts', () => {
    const rand = seededRandom(3);
    const n = 10_000;
    const X = Float64Array.from({ length: n }, () => rand());
    const mapper = fitBinMapper(X, 1, all(n), 16);
    expect(mapper.numBins[0]).toBe(16);
    const counts = new Array(17).fill(0);
    for (const b of binMatrix(mapper, X, n, 1)) counts[b]++;
    for (let b = 0; b < 16; b++) expect(counts[b]).toBeGreaterThan(n / 16 / 2);
    expect(counts[16]).toBe(0);
  });

  it('keeps a heavy value in one bin and still splits the rest', () => {
    const X = [...new Array(900).fill(0), ...Array.from({ length: 100 }, (_, i) => i + 1)];
    const mapper = fitBinMapper(X, 1, all(X.length), 8);
    const bins = binMatrix(mapper, X, X.length, 1);
    expect(new Set(Array.from(bins.subarray(0, 900))).size).toBe(1);
    expect(new Set(Array.from(bins.subarray(900))).size).toBeGreaterThanOrEqual(6);
  });

  it('uses float32 edges so that bin <= b is exactly fround(x) <= edge, even for adjacent float32 values', () => {
    const a = Math.fround(0.1);
    const [, b] = float32Neighbours(a);
    const X = [a, b, a, b];
    const mapper = fitBinMapper(X, 1, all(4), 255);
    const edge = mapper.edges[0][0];
    expect(Math.fround(edge)).toBe(edge);
    expect(Array.from(binMatrix(mapper, X, 4, 1))).toEqual([0, 1, 0, 1]);
    // Float64 values that round to the same float32 land in the same bin, as they will in onnxruntime.
    expect(binOf(mapper, 0, a + 1e-12)).toBe(binOf(mapper, 0, a));
    for (const v of [a, b, edge, ...float32Neighbours(edge)]) expect(binOf(mapper, 0, v) === 0).toBe(Math.fround(v) <= edge);
  });

  it('leaves an all-missing or constant feature with a single value bin', () => {
    const X = [Number.NaN, 5, Number.NaN, 5];
    const mapper = fitBinMapper(X, 2, all(2), 255);
    expect(Array.from(mapper.numBins)).toEqual([1, 1]);
    expect(Array.from(binMatrix(mapper, X, 2, 2))).toEqual([1, 0, 1, 0]);
  });

  it('bins a matrix exactly as binOf does value by value, edges and extremes included', () => {
    const rand = seededRandom(3);
    const f = 3;
    const n = 5000;
    // Feature 0: many distinct values (255 bins); 1: a few distinct values; 2: heavy ties and missing values.
    const X = new Float64Array(n * f);
    for (let i = 0; i < n; i++) {
      X[i * f] = (rand() - 0.5) * 1e4;
      X[i * f + 1] = Math.floor(rand() * 7);
      X[i * f + 2] = rand() < 0.2 ? Number.NaN : rand() < 0.5 ? 0 : rand();
    }
    const mapper = fitBinMapper(X, f, all(n), 255);
    const probes: number[] = [];
    for (let j = 0; j < f; j++) {
      for (const e of mapper.edges[j]) probes.push(e, Math.fround(e * (1 + 1e-7)), Math.fround(e * (1 - 1e-7)));
    }
    probes.push(-Infinity, Infinity, Number.NaN, 0, -0, 1e30, -1e30);
    const m = probes.length;
    const P = new Float64Array(m * f);
    for (let i = 0; i < m; i++) for (let j = 0; j < f; j++) P[i * f + j] = probes[i];
    for (const [data, rows] of [[X, n], [P, m]] as const) {
      const bins = binMatrix(mapper, data, rows, f);
      for (let i = 0; i < rows; i++) for (let j = 0; j < f; j++) expect(bins[i * f + j]).toBe(binOf(mapper, j, data[i * f + j]));
    }
  });

  it('with minDataInBin, merges rare values into a neighbour so that every value bin holds that many rows', () => {
    // 1 x1, 2 x4, 3 x1, 4 x1, 5 x5, 6 x2: one bin per value with minDataInBin 1, fewer with 3.
    const X = [1, 2, 2, 2, 2, 3, 4, 5, 5, 5, 5, 5, 6, 6];
    expect(fitBinMapper(X, 1, all(X.length), 255).numBins[0]).toBe(6);
    const mapper = fitBinMapper(X, 1, all(X.length), 255, 3);
    const counts = new Array(mapper.numBins[0]).fill(0);
    for (const b of binMatrix(mapper, X, X.length, 1)) counts[b]++;
    // A cut after 2 leaves 5 rows below it; no later cut leaves 3 rows on both of its sides.
    expect(counts).toEqual([5, 9]);
    // Rows stay in value order: a bin never mixes values across another bin's range.
    const bins = Array.from(binMatrix(mapper, X, X.length, 1));
    expect(bins).toEqual([...bins].sort((a, b) => a - b));
  });
});
