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
});
