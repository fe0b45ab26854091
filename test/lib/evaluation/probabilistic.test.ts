import { describe, expect, it } from 'vitest';

import { EvaluationInputError } from '../../../lib/evaluation/errors.js';
import { classColumn } from '../../../lib/evaluation/inputs.js';
import { brierScore, calibrationBins, logLoss } from '../../../lib/evaluation/probabilistic.js';
import { expectAllClose, probabilitiesOf, sklearn } from './fixtures/sklearn.js';

describe('log loss and Brier score match scikit-learn', () => {
  for (const c of sklearn.binary) {
    it(`binary: ${c.name}${c.float32 ? ' (Float32Array: float32 eps, float32 arithmetic in sklearn)' : ''}`, () => {
      const p = probabilitiesOf(c);
      // sklearn sums float32 inputs in float32, so only ~7 digits agree there.
      const digits = c.float32 ? 5 : 12;
      expect(logLoss(c.y, p)).toBeCloseTo(c.logLoss, digits);
      expect(brierScore(c.y, p)).toBeCloseTo(c.brier, digits);
    });
  }

  for (const c of sklearn.multiclass) {
    it(`multiclass: ${c.name}`, () => {
      expect(logLoss(c.y, c.p)).toBeCloseTo(c.logLoss, 12);
      expect(brierScore(c.y, c.p)).toBeCloseTo(c.brier, 12);
    });
  }
});

describe('log loss clipping', () => {
  it('clips 0 and 1 to machine epsilon of the input type', () => {
    // sklearn.metrics.log_loss([1], [[1.0, 0.0]], labels=[0, 1]) == -log(2**-52) == 36.04365338911715
    expect(logLoss([1], [0])).toBeCloseTo(36.04365338911715, 12);
    expect(logLoss([1], new Float32Array([0]))).toBeCloseTo(-Math.log(2 ** -23), 12);
    expect(logLoss([1], [0], { eps: 1e-15 })).toBeCloseTo(-Math.log(1e-15), 12);
  });

  it('rejects values outside [0, 1]', () => {
    expect(() => logLoss([0, 1], [0.2, 1.2])).toThrow(EvaluationInputError);
  });
});

describe('calibration bins match scikit-learn calibration_curve', () => {
  for (const c of sklearn.binary) {
    it(`${c.name} with ${c.bins} bins`, () => {
      const { bins, expectedCalibrationError } = calibrationBins(c.y, probabilitiesOf(c), { bins: c.bins });
      expect(bins).toHaveLength(c.bins);
      expect(bins.map((b) => b.count)).toEqual(c.calibration.counts);
      // sklearn drops empty bins; we keep them with nulls.
      const filled = bins.filter((b) => b.count > 0);
      expectAllClose(filled.map((b) => b.meanPredicted as number), c.calibration.meanPredicted, c.float32 ? 6 : 12);
      expectAllClose(filled.map((b) => b.fractionPositive as number), c.calibration.fractionPositive);
      expect(bins.filter((b) => b.count === 0).every((b) => b.meanPredicted === null && b.fractionPositive === null)).toBe(true);
      const n = c.y.length;
      const ece = filled.reduce((s, b) => s + (b.count / n) * Math.abs((b.meanPredicted as number) - (b.fractionPositive as number)), 0);
      expect(expectedCalibrationError).toBeCloseTo(ece, 12);
    });
  }

  it('works on one class column of a multiclass model', () => {
    const c = sklearn.multiclass[0];
    const column = classColumn(c.p, c.y.length, 2);
    const isTwo = c.y.map((y) => (y === 2 ? 1 : 0));
    const { bins } = calibrationBins(isTwo, column, { bins: 5 });
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(c.y.length);
  });

  it('rejects a non-positive bin count', () => {
    expect(() => calibrationBins([0, 1], [0.2, 0.8], { bins: 0 })).toThrow(EvaluationInputError);
  });
});
