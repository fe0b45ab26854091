import { describe, expect, it } from 'vitest';
import { quantileSketch } from '../../../lib/monitoring/binning.js';
import {
  PSI_EPSILON,
  chiSquareHomogeneity,
  jensenShannonDistance,
  ksPValue,
  ksStatistic,
  ksStatisticFromBinCounts,
  ksStatisticFromSketches,
  ksTwoSample,
  populationStabilityIndex,
  wassersteinFromSamples,
  wassersteinFromSketches,
} from '../../../lib/monitoring/stats.js';
import { normalSample } from './synthetic.js';

// Expected values from scipy 1.17.1 (python3 with `from scipy import stats`), as noted per case.
const A = [0.61, -1.2, 0.33, 2.05, -0.4, 0.9, 1.1, -0.05, 0.72, 0.18, -1.7, 0.44, 1.36, -0.82, 0.05, 0.27, 1.9, -0.3, 0.66, 0.12];
const B = [1.3, 0.8, 2.2, 1.75, 0.95, 0.4, 1.6, 2.9, 0.1, 1.05, 1.45, 0.7, 2.4, 1.2, 0.05];
const C = [1, 1, 2, 2, 2, 3, 3, 4, 5, 5];
const D = [2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7];

describe('populationStabilityIndex', () => {
  it('is the sum of (c − r)·ln(c/r) over normalised bins', () => {
    const r = [0.25, 0.25, 0.5];
    const c = [0.2, 0.3, 0.5];
    const expected = (0.2 - 0.25) * Math.log(0.2 / 0.25) + (0.3 - 0.25) * Math.log(0.3 / 0.25);
    expect(populationStabilityIndex(r, c)).toBeCloseTo(expected, 14);
    // Counts work as well as proportions.
    expect(populationStabilityIndex([25, 25, 50], [40, 60, 100])).toBeCloseTo(expected, 14);
  });

  it('is zero for identical bins and floors empty bins at epsilon', () => {
    expect(populationStabilityIndex([1, 2, 3], [2, 4, 6])).toBe(0);
    const withEmpty = populationStabilityIndex([0.5, 0.5, 0], [0.5, 0.4, 0.1]);
    const expected = -0.1 * Math.log(0.4 / 0.5) + (0.1 - PSI_EPSILON) * Math.log(0.1 / PSI_EPSILON);
    expect(withEmpty).toBeCloseTo(expected, 12);
  });

  it('refuses bins that do not line up', () => {
    expect(() => populationStabilityIndex([1, 2], [1, 2, 3])).toThrow(RangeError);
  });
});

describe('Kolmogorov-Smirnov', () => {
  it('matches scipy: statistic from ks_2samp, p-value from the Kolmogorov limit', () => {
    // r = stats.ks_2samp(A, B, method='asymp') -> statistic 0.5
    // stats.kstwobign.sf(np.sqrt(20*15/35) * r.statistic) -> 0.027527501689690568
    const result = ksTwoSample(A, B);
    expect(result.statistic).toBeCloseTo(0.5, 12);
    expect(result.pValue).toBeCloseTo(0.027527501689690568, 12);
  });

  it('handles ties like scipy', () => {
    // ks_2samp(C, D) -> statistic 0.4166666666666667; kstwobign.sf(sqrt(10*12/22) * d) -> 0.2999303117542793
    const result = ksTwoSample(C, D);
    expect(result.statistic).toBeCloseTo(0.4166666666666667, 12);
    expect(result.pValue).toBeCloseTo(0.2999303117542793, 12);
  });

  it('agrees with scipy ks_2samp(method="asymp") within a few percent at window sizes', () => {
    // a = [(i*0.618034) % 1 for i in range(2000)]; b = [((i*0.414214) % 1)**1.2 for i in range(2500)]
    // stats.ks_2samp(a, b, method='asymp') -> statistic 0.06830000000000003, pvalue 5.967914712889306e-05
    // (finite-n kstwo); the limit, kstwobign.sf(sqrt(2000*2500/4500) * d) -> 6.294337522695579e-05
    const a = Array.from({ length: 2000 }, (_, i) => (i * 0.618034) % 1);
    const b = Array.from({ length: 2500 }, (_, i) => ((i * 0.414214) % 1) ** 1.2);
    const result = ksTwoSample(a, b);
    expect(result.statistic).toBeCloseTo(0.06830000000000003, 12);
    expect(result.pValue / 6.294337522695579e-5).toBeCloseTo(1, 6);
    expect(Math.abs(result.pValue / 5.967914712889306e-5 - 1)).toBeLessThan(0.06);
  });

  it('is 0 for the same sample and its p-value is 1', () => {
    expect(ksStatistic(A, [...A].reverse())).toBe(0);
    expect(ksPValue(0, 100, 100)).toBe(1);
  });

  it('from quantile sketches stays within a sketch step of the exact statistic', () => {
    const reference = normalSample(20_000, 1);
    const shifted = normalSample(20_000, 2, 0.3, 1.2);
    const exact = ksStatistic(reference, shifted);
    const sketched = ksStatisticFromSketches(quantileSketch(reference.slice().sort(), 100), quantileSketch(shifted.slice().sort(), 100));
    expect(Math.abs(sketched - exact)).toBeLessThan(0.015);
  });

  it('from bin counts is exact at the edges, so a lower bound', () => {
    // Cumulative shares 0.1, 0.5, 1 against 0.3, 0.6, 1: largest gap 0.2 after the first bin.
    expect(ksStatisticFromBinCounts([10, 40, 50], [30, 30, 40])).toBeCloseTo(0.2, 14);
  });
});

describe('chiSquareHomogeneity', () => {
  it('matches scipy chi2_contingency(correction=False) on a 2×4 table', () => {
    // r = stats.chi2_contingency([[120,90,40,10],[100,110,60,30]], correction=False)
    // -> statistic 15.037762237762244, pvalue 0.0017846612275403174, dof 3
    const result = chiSquareHomogeneity([
      [120, 90, 40, 10],
      [100, 110, 60, 30],
    ]);
    expect(result.statistic).toBeCloseTo(15.037762237762244, 10);
    expect(result.degreesOfFreedom).toBe(3);
    expect(result.pValue).toBeCloseTo(0.0017846612275403174, 12);
  });

  it('matches scipy on a 2×2 table with a tiny p-value', () => {
    // stats.chi2_contingency([[5000,300],[450,80]], correction=False)
    // -> statistic 70.37662964751325, pvalue 4.899695616679524e-17, dof 1
    const result = chiSquareHomogeneity([
      [5000, 300],
      [450, 80],
    ]);
    expect(result.statistic).toBeCloseTo(70.37662964751325, 9);
    expect(result.pValue / 4.899695616679524e-17).toBeCloseTo(1, 8);
  });

  it('drops empty columns and has nothing to test with one column left', () => {
    expect(chiSquareHomogeneity([[10, 0, 5], [20, 0, 10]]).degreesOfFreedom).toBe(1);
    expect(chiSquareHomogeneity([[10, 0], [20, 0]])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
  });
});

describe('jensenShannonDistance', () => {
  it('matches scipy jensenshannon(base=2)', () => {
    // jensenshannon([0.5,0.3,0.2,0.0],[0.1,0.2,0.3,0.4], base=2) -> 0.5652592115818719
    expect(jensenShannonDistance([0.5, 0.3, 0.2, 0], [0.1, 0.2, 0.3, 0.4])).toBeCloseTo(0.5652592115818719, 12);
  });

  it('is 0 for identical and 1 for disjoint distributions', () => {
    expect(jensenShannonDistance([3, 1], [6, 2])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });
});

describe('Wasserstein-1', () => {
  it('from raw samples matches scipy wasserstein_distance', () => {
    // stats.wasserstein_distance(A, B) -> 0.9456666666666667; (C, D) -> 1.6166666666666667
    expect(wassersteinFromSamples(A, B)).toBeCloseTo(0.9456666666666667, 12);
    expect(wassersteinFromSamples(C, D)).toBeCloseTo(1.6166666666666667, 12);
  });

  it('from quantile sketches is close to the exact distance and is a pure shift for a shift', () => {
    const reference = normalSample(20_000, 3);
    const current = normalSample(20_000, 4, 0.5, 1.5);
    const exact = wassersteinFromSamples(reference, current);
    const sketched = wassersteinFromSketches(quantileSketch(reference.slice().sort(), 100), quantileSketch(current.slice().sort(), 100));
    expect(Math.abs(sketched - exact) / exact).toBeLessThan(0.02);
    const moved = Float64Array.from(reference, (x) => x + 2);
    expect(wassersteinFromSketches(quantileSketch(reference.slice().sort(), 100), quantileSketch(moved.sort(), 100))).toBeCloseTo(2, 10);
  });
});
