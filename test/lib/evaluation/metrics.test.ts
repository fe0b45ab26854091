import { describe, expect, it } from 'vitest';

import { EvaluationInputError } from '../../../lib/evaluation/errors.js';
import { computeMetric, higherIsBetter, isMetricName, METRIC_NAMES, METRICS } from '../../../lib/evaluation/metrics.js';
import { sklearn } from './fixtures/sklearn.js';

describe('metric registry', () => {
  const binary = sklearn.binary.find((c) => c.name === 'random-rounded')!;
  const multi = sklearn.multiclass[0];
  const reg = sklearn.regression[0];

  it('computes binary metrics by name, with the threshold for label metrics', () => {
    expect(computeMetric('roc_auc', 'binary', binary.y, binary.p)).toBeCloseTo(binary.rocAuc, 12);
    expect(computeMetric('average_precision', 'binary', binary.y, binary.p)).toBeCloseTo(binary.averagePrecision, 12);
    expect(computeMetric('log_loss', 'binary', binary.y, binary.p)).toBeCloseTo(binary.logLoss, 12);
    expect(computeMetric('brier', 'binary', binary.y, binary.p)).toBeCloseTo(binary.brier, 12);
    expect(computeMetric('accuracy', 'binary', binary.y, binary.p)).toBeCloseTo(binary.labels.accuracy, 12);
    expect(computeMetric('f1', 'binary', binary.y, binary.p)).toBeCloseTo(binary.labels.perClass.f1[1], 12);
    expect(computeMetric('precision', 'binary', binary.y, binary.p)).toBeCloseTo(binary.labels.perClass.precision[1], 12);
    expect(computeMetric('recall', 'binary', binary.y, binary.p)).toBeCloseTo(binary.labels.perClass.recall[1], 12);
    expect(computeMetric('recall', 'binary', binary.y, binary.p, { threshold: 0 })).toBe(1);
  });

  it('computes multiclass and regression metrics by name', () => {
    expect(computeMetric('roc_auc', 'multiclass', multi.y, multi.p)).toBeCloseTo(multi.rocAucMacro, 12);
    expect(computeMetric('f1_macro', 'multiclass', multi.y, multi.p)).toBeCloseTo(multi.labels.macro.f1, 12);
    expect(computeMetric('f1_micro', 'multiclass', multi.y, multi.p)).toBeCloseTo(multi.labels.micro.f1, 12);
    expect(computeMetric('f1_weighted', 'multiclass', multi.y, multi.p)).toBeCloseTo(multi.labels.weighted.f1, 12);
    expect(computeMetric('rmse', 'regression', reg.y, reg.p)).toBeCloseTo(reg.rmse, 12);
    expect(computeMetric('r2', 'regression', reg.y, reg.p)).toBeCloseTo(reg.r2, 12);
    expect(computeMetric('mape', 'regression', reg.y, reg.p, { zeroTargets: 'skip' })).toBeCloseTo(reg.mapeSkipZeros!, 12);
  });

  it('refuses metrics that do not fit the task, with the reason', () => {
    expect(() => computeMetric('f1', 'multiclass', multi.y, multi.p)).toThrow(/does not apply to a multiclass task/);
    expect(() => computeMetric('rmse', 'binary', binary.y, binary.p)).toThrow(EvaluationInputError);
    expect(() => computeMetric('roc_auc', 'binary', multi.y, multi.p)).toThrow(/binary task needs 2 classes/);
    expect(() => computeMetric('nope' as never, 'binary', binary.y, binary.p)).toThrow(/unknown metric "nope"/);
  });

  it('knows each metric direction', () => {
    expect(higherIsBetter('roc_auc')).toBe(true);
    expect(higherIsBetter('log_loss')).toBe(false);
    expect(higherIsBetter('rmse')).toBe(false);
    expect(isMetricName('toString')).toBe(false);
    expect(METRIC_NAMES).toEqual(Object.keys(METRICS));
  });
});
