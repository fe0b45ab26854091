import { describe, expect, it } from 'vitest';

import { EvaluationInputError, UndefinedMetricError } from '../../../lib/evaluation/errors.js';
import { mae, mape, r2, rmse } from '../../../lib/evaluation/regression.js';
import { sklearn } from './fixtures/sklearn.js';

describe('regression metrics match scikit-learn', () => {
  for (const c of sklearn.regression) {
    it(c.name, () => {
      expect(rmse(c.y, c.p)).toBeCloseTo(c.rmse, 12);
      expect(mae(c.y, c.p)).toBeCloseTo(c.mae, 12);
      expect(r2(c.y, c.p)).toBeCloseTo(c.r2, 12);
      // MAPE explodes on zero targets (divides by 2^-52), so compare those relatively.
      if (c.mape > 1e6) expect(mape(c.y, c.p) / c.mape).toBeCloseTo(1, 12);
      else expect(mape(c.y, c.p)).toBeCloseTo(c.mape, 12);
      if (c.mapeSkipZeros !== null) expect(mape(c.y, c.p, { zeroTargets: 'skip' })).toBeCloseTo(c.mapeSkipZeros, 12);
    });
  }
});

describe('regression edge cases', () => {
  it('MAPE on zero targets: huge by default (as sklearn), left out with skip', () => {
    expect(mape([0, 2], [1, 1])).toBeGreaterThan(1e15);
    expect(mape([0, 2], [1, 1], { zeroTargets: 'skip' })).toBe(0.5);
    expect(() => mape([0, 0], [1, 1], { zeroTargets: 'skip' })).toThrow(UndefinedMetricError);
  });

  it('R^2 needs two rows', () => {
    expect(() => r2([1], [1])).toThrow(UndefinedMetricError);
  });

  it('rejects non-finite values', () => {
    expect(() => rmse([1, 2], [1, Number.POSITIVE_INFINITY])).toThrow(EvaluationInputError);
  });
});
