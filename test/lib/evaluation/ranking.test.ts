import { describe, expect, it } from 'vitest';

import { EvaluationInputError, UndefinedMetricError } from '../../../lib/evaluation/errors.js';
import {
  averagePrecision,
  binaryRocAuc,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
  trapezoidArea,
} from '../../../lib/evaluation/ranking.js';
import { expectAllClose, probabilitiesOf, sklearn } from './fixtures/sklearn.js';

describe('ROC and PR match scikit-learn', () => {
  for (const c of sklearn.binary) {
    it(`binary: ${c.name}`, () => {
      const p = probabilitiesOf(c);
      expect(rocAuc(c.y, p)).toBeCloseTo(c.rocAuc, 12);
      expect(averagePrecision(c.y, p)).toBeCloseTo(c.averagePrecision, 12);

      const roc = rocCurve(c.y, p);
      expectAllClose(roc.fpr, c.roc.fpr);
      expectAllClose(roc.tpr, c.roc.tpr);
      expectAllClose(roc.thresholds, c.roc.thresholds);
      const rocAll = rocCurve(c.y, p, { dropIntermediate: false });
      expectAllClose(rocAll.fpr, c.rocAll.fpr);
      expectAllClose(rocAll.tpr, c.rocAll.tpr);
      expectAllClose(rocAll.thresholds, c.rocAll.thresholds);

      const pr = precisionRecallCurve(c.y, p);
      expectAllClose(pr.precision, c.pr.precision);
      expectAllClose(pr.recall, c.pr.recall);
      expectAllClose(pr.thresholds, c.pr.thresholds);
    });
  }

  for (const c of sklearn.multiclass) {
    it(`multiclass one-vs-rest: ${c.name}`, () => {
      expect(rocAuc(c.y, c.p)).toBeCloseTo(c.rocAucMacro, 12);
      expect(rocAuc(c.y, c.p, { average: 'weighted' })).toBeCloseTo(c.rocAucWeighted, 12);
      expect(averagePrecision(c.y, c.p)).toBeCloseTo(c.averagePrecisionMacro, 12);
      expect(averagePrecision(c.y, c.p, { average: 'weighted' })).toBeCloseTo(c.averagePrecisionWeighted, 12);
    });
  }
});

describe('ties and layouts', () => {
  it('scores a tie between a positive and a negative as half a correct pair', () => {
    // sklearn.metrics.roc_auc_score([0, 1], [0.5, 0.5]) == 0.5; ([0, 0, 1], [0.2, 0.5, 0.5]) == 0.75
    expect(binaryRocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(binaryRocAuc([0, 0, 1], [0.2, 0.5, 0.5])).toBe(0.75);
  });

  it('treats an n*2 matrix like the positive-class column', () => {
    const c = sklearn.binary[0];
    const matrix = c.p.flatMap((p) => [1 - p, p]);
    expect(rocAuc(c.y, matrix)).toBeCloseTo(c.rocAuc, 12);
    expect(averagePrecision(c.y, matrix)).toBeCloseTo(c.averagePrecision, 12);
  });

  it('accepts any real-valued scores for binary ROC AUC (decision functions)', () => {
    expect(binaryRocAuc([0, 1, 0, 1], [-3, 2, -1, 0.5])).toBe(1);
  });

  it('computes the trapezoid area in either direction of x', () => {
    expect(trapezoidArea([0, 0.5, 1], [0, 1, 1])).toBe(0.75);
    expect(trapezoidArea([1, 0.5, 0], [1, 1, 0])).toBe(0.75);
  });
});

describe('undefined cases throw UndefinedMetricError instead of returning NaN', () => {
  it('ROC AUC with a single class in y_true', () => {
    expect(() => rocAuc([1, 1, 1], [0.2, 0.5, 0.9])).toThrow(UndefinedMetricError);
    expect(() => rocAuc([0, 0], [0.2, 0.5])).toThrow(/only negatives/);
  });

  it('average precision with no positives (sklearn returns 0 with a warning)', () => {
    expect(() => averagePrecision([0, 0, 0], [0.2, 0.5, 0.9])).toThrow(UndefinedMetricError);
  });

  it('average precision with only positives is 1, as in sklearn', () => {
    expect(averagePrecision([1, 1, 1], [0.2, 0.5, 0.9])).toBe(1);
  });

  it('multiclass when a class never occurs in y_true', () => {
    const p = [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.5, 0.4, 0.1];
    expect(() => rocAuc([0, 1, 0], p)).toThrow(/class 2 does not occur/);
  });
});

describe('input errors', () => {
  it('rejects NaN scores, non-binary labels and mismatched lengths', () => {
    expect(() => rocAuc([0, 1], [0.1, Number.NaN])).toThrow(EvaluationInputError);
    expect(() => rocCurve([0, 2], [0.1, 0.2])).toThrow(/not a class index in 0..1/);
    expect(() => rocAuc([0, 1, 1], [0.1, 0.2, 0.3, 0.4])).toThrow(/expected 3 .* or 3\*K/);
  });

  it('rejects multiclass scores that are not probabilities, as sklearn does', () => {
    expect(() => rocAuc([0, 1, 2], [2, 1, 0, 0, 2, 1, 1, 0, 2])).toThrow(/sums to 3, not 1/);
  });
});
