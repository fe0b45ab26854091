import { describe, expect, it } from 'vitest';

import { summarizeClassifier, summarizeRegressor } from '../../../lib/evaluation/summary.js';
import { expectAllClose, sklearn } from './fixtures/sklearn.js';

describe('summarizeClassifier', () => {
  it('gathers the sklearn-checked numbers of a binary model', () => {
    const c = sklearn.binary.find((x) => x.name === 'random-rounded')!;
    const s = summarizeClassifier(c.y, c.p, { classNames: ['stays', 'churns'] });
    expect(s.task).toBe('binary');
    expect(s.rocAuc).toBeCloseTo(c.rocAuc, 12);
    expect(s.averagePrecision).toBeCloseTo(c.averagePrecision, 12);
    expect(s.logLoss).toBeCloseTo(c.logLoss, 12);
    expect(s.brier).toBeCloseTo(c.brier, 12);
    expect(s.confusionMatrix).toEqual(c.labels.confusion);
    expect(s.curves).toHaveLength(1);
    expect(s.curves[0].label).toBe('churns');
    expectAllClose(s.curves[0].roc.fpr, c.roc.fpr);
    expect(s.curves[0].rocAuc).toBeCloseTo(c.rocAuc, 12);
    expect(s.calibration?.bins.map((b) => b.count)).toEqual(c.calibration.counts);
    expect(s.notes).toEqual([]);
  });

  it('gives one-vs-rest curves per class for multiclass, no calibration', () => {
    const c = sklearn.multiclass[0];
    const s = summarizeClassifier(c.y, c.p);
    expect(s.task).toBe('multiclass');
    expect(s.classNames).toEqual(['0', '1', '2']);
    expect(s.curves.map((x) => x.classIndex)).toEqual([0, 1, 2]);
    expect(s.rocAuc).toBeCloseTo(c.rocAucMacro, 12);
    expect(s.curves.reduce((sum, x) => sum + x.rocAuc, 0) / 3).toBeCloseTo(c.rocAucMacro, 12);
    expect(s.calibration).toBeNull();
  });

  it('records undefined metrics as notes instead of failing the whole summary', () => {
    const s = summarizeClassifier([1, 1, 1], [0.2, 0.6, 0.9]);
    expect(s.rocAuc).toBeNull();
    expect(s.curves).toEqual([]);
    expect(s.notes.join(' ')).toMatch(/only positives/);
    expect(s.scores.accuracy).toBeCloseTo(2 / 3, 12);
  });
});

describe('summarizeRegressor', () => {
  it('gathers the sklearn-checked regression metrics', () => {
    const c = sklearn.regression.find((x) => x.name === 'no-zeros')!;
    const s = summarizeRegressor(c.y, c.p);
    expect(s.rmse).toBeCloseTo(c.rmse, 12);
    expect(s.mae).toBeCloseTo(c.mae, 12);
    expect(s.r2).toBeCloseTo(c.r2, 12);
    expect(s.mape).toBeCloseTo(c.mape, 12);
  });
});
