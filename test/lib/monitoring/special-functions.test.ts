import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  kolmogorovSurvival,
  logGamma,
  regularizedGammaP,
  regularizedGammaQ,
} from '../../../lib/monitoring/special-functions.js';

// Expected values from scipy 1.17.1, e.g.
//   python3 -c "from scipy import stats; print(repr(stats.chi2.sf(10, 5)))"
// and likewise special.gammaln, special.gammainc / gammaincc, special.kolmogorov.

function expectRelativelyClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

describe('logGamma', () => {
  it.each([
    [0.5, 0.5723649429247],
    [1, 0],
    [10, 12.801827480081469],
    [100.5, 361.43554046777757],
    [1e-3, 6.907178885383853],
    [3.7, 1.428072326665388],
  ])('lnΓ(%f) matches scipy.special.gammaln', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 12);
  });
});

describe('regularised incomplete gamma', () => {
  it.each([
    // a, x, P = gammainc(a, x), Q = gammaincc(a, x)
    [0.5, 0.1, 0.34527915398142317, 0.6547208460185768],
    [5, 3, 0.18473675547622787, 0.8152632445237722],
    [10, 20, 0.9950045876916924, 0.0049954123083075785],
    [100, 90, 0.15822098918643007, 0.84177901081357],
    [2.5, 2.5, 0.584119813004492, 0.4158801869955079],
  ])('P(%f, %f) and Q match scipy', (a, x, p, q) => {
    expectRelativelyClose(regularizedGammaP(a, x), p, 1e-11);
    expectRelativelyClose(regularizedGammaQ(a, x), q, 1e-11);
  });

  it('handles the ends of the range', () => {
    expect(regularizedGammaP(3, 0)).toBe(0);
    expect(regularizedGammaQ(3, 0)).toBe(1);
    expect(regularizedGammaQ(3, Infinity)).toBe(0);
    expect(() => regularizedGammaP(0, 1)).toThrow(RangeError);
  });
});

describe('chiSquareSurvival', () => {
  it.each([
    // x, df, scipy.stats.chi2.sf(x, df)
    [3.841458820694124, 1, 0.04999999999999989],
    [10, 5, 0.07523524614651217],
    [0.5, 3, 0.9188914116546758],
    [100, 50, 3.454931382984871e-5],
    [1000, 900, 0.010994608942135844],
    [200, 10, 1.6139305336977317e-37],
    [0.001, 1, 0.9747728793699604],
    [25, 20, 0.2014311049455359],
    [1, 0.5, 0.15351359580832247],
    [7.5, 2, 0.023517745856009114],
  ])('chi2.sf(%f, %f) matches scipy', (x, df, expected) => {
    expectRelativelyClose(chiSquareSurvival(x, df), expected, 1e-9);
  });

  it('is 1 at and below zero', () => {
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });
});

describe('kolmogorovSurvival', () => {
  it.each([
    // λ, scipy.special.kolmogorov(λ); both sides of the switch between expansions at 1.18
    [0.2, 0.999999999999495],
    [0.3, 0.9999906941986655],
    [0.5, 0.9639452436648751],
    [0.8, 0.5441424115741981],
    [1.0, 0.26999967167735456],
    [1.17, 0.12939004218561884],
    [1.18, 0.1234538094297657],
    [1.2, 0.11224966667072497],
    [1.5, 0.022217962616525127],
    [2.0, 0.0006709252557796953],
    [3.0, 3.045995948942526e-8],
  ])('kolmogorov(%f) matches scipy', (lambda, expected) => {
    expectRelativelyClose(kolmogorovSurvival(lambda), expected, 1e-10);
  });

  it('is 1 at zero', () => {
    expect(kolmogorovSurvival(0)).toBe(1);
  });
});
