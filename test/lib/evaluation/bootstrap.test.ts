import { describe, expect, it } from 'vitest';

import { notWorseThan, pairedBootstrap, pairedBootstrapMetric, worstPlausibleDiff } from '../../../lib/evaluation/bootstrap.js';
import { EvaluationInputError, UndefinedMetricError } from '../../../lib/evaluation/errors.js';
import { logLoss, rocAuc } from '../../../lib/evaluation/metrics.js';
import { seededRandom as mulberry32 } from '../../../lib/util/random.js';
import { sklearn } from './fixtures/sklearn.js';

const data = sklearn.binary.find((c) => c.name === 'random-rounded')!;
/** A noisier model on the same rows: the fixture's scores blurred with seeded noise. */
function blurred(scores: readonly number[], amount: number, seed: number): number[] {
  const random = mulberry32(seed);
  return scores.map((p) => Math.min(1, Math.max(0, p + (random() - 0.5) * amount)));
}

describe('mulberry32', () => {
  it('is deterministic per seed and uniform-looking in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('pairedBootstrapMetric', () => {
  const baseline = blurred(data.p, 0.8, 1);

  it('is deterministic given a seed', () => {
    const run = (seed: number) =>
      pairedBootstrapMetric({ metric: 'roc_auc', task: 'binary', yTrue: data.y, candidate: data.p, baseline, resamples: 300, seed });
    expect(run(7)).toEqual(run(7));
    expect(run(8).lower).not.toBe(run(7).lower);
  });

  it('reports the full-data metrics and an interval around the observed difference', () => {
    const r = pairedBootstrapMetric({ metric: 'roc_auc', task: 'binary', yTrue: data.y, candidate: data.p, baseline, seed: 3 });
    expect(r.candidate).toBeCloseTo(data.rocAuc, 12);
    expect(r.baseline).toBeCloseTo(rocAuc(data.y, baseline), 12);
    expect(r.observedDiff).toBeCloseTo(r.candidate - r.baseline, 12);
    expect(r.resamples + r.skipped).toBe(1000);
    expect(r.confidence).toBe(0.95);
    expect(r.lower).toBeLessThan(r.observedDiff);
    expect(r.upper).toBeGreaterThan(r.observedDiff);
    expect(Math.abs(r.meanDiff - r.observedDiff)).toBeLessThan(0.02);
    // The sharper model is clearly better here: the whole interval is above 0.
    expect(r.lower).toBeGreaterThan(0);
    expect(notWorseThan(r, 0)).toBe(true);
  });

  it('gives a zero-width interval for identical models', () => {
    const r = pairedBootstrapMetric({ metric: 'accuracy', task: 'binary', yTrue: data.y, candidate: data.p, baseline: data.p, resamples: 200 });
    expect([r.lower, r.meanDiff, r.upper]).toEqual([0, 0, 0]);
    expect(notWorseThan(r, 0)).toBe(true);
  });

  it('judges lower-is-better metrics on the upper bound', () => {
    // Candidate = the blurred (worse) model: its log loss is higher, so the difference is positive.
    const r = pairedBootstrapMetric({ metric: 'log_loss', task: 'binary', yTrue: data.y, candidate: baseline, baseline: data.p, seed: 5 });
    expect(r.higherIsBetter).toBe(false);
    expect(r.lower).toBeGreaterThan(0);
    expect(worstPlausibleDiff(r)).toBe(r.upper);
    expect(notWorseThan(r, 0.01)).toBe(false);
    expect(notWorseThan(r, r.upper)).toBe(true);
  });

  it('judges higher-is-better metrics on the lower bound against -margin', () => {
    const r = pairedBootstrapMetric({ metric: 'roc_auc', task: 'binary', yTrue: data.y, candidate: baseline, baseline: data.p, seed: 5 });
    expect(r.upper).toBeLessThan(0);
    expect(worstPlausibleDiff(r)).toBe(r.lower);
    expect(notWorseThan(r, 0.01)).toBe(false);
    expect(notWorseThan(r, -r.lower)).toBe(true);
    expect(() => notWorseThan(r, -0.1)).toThrow(EvaluationInputError);
  });

  it('keeps Float32 probabilities Float32 so log loss uses the same eps', () => {
    const f32 = Float32Array.from([0, 1, 0.25, 0.75, 0.5, 0.9]);
    const y = [1, 0, 0, 1, 1, 0];
    const r = pairedBootstrapMetric({ metric: 'log_loss', task: 'binary', yTrue: y, candidate: f32, baseline: f32, resamples: 10 });
    expect(r.candidate).toBe(logLoss(y, f32));
  });

  it('skips resamples where the metric is undefined and counts them', () => {
    const y = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const p = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.9];
    const r = pairedBootstrapMetric({ metric: 'roc_auc', task: 'binary', yTrue: y, candidate: p, baseline: p, resamples: 500 });
    // P(resample misses the only positive) = 0.9^10 ~ 0.35.
    expect(r.skipped).toBeGreaterThan(100);
    expect(r.skipped).toBeLessThan(260);
    expect(r.resamples + r.skipped).toBe(500);
  });

  it('supports multiclass and regression outputs', () => {
    const m = sklearn.multiclass[0];
    const mc = pairedBootstrapMetric({ metric: 'f1_macro', task: 'multiclass', yTrue: m.y, candidate: m.p, baseline: m.p, resamples: 50 });
    expect(mc.candidate).toBeCloseTo(m.labels.macro.f1, 12);
    const g = sklearn.regression[0];
    const rg = pairedBootstrapMetric({ metric: 'rmse', task: 'regression', yTrue: g.y, candidate: g.p, baseline: g.y, resamples: 50 });
    expect(rg.candidate).toBeCloseTo(g.rmse, 12);
    expect(rg.baseline).toBe(0);
  });

  it('reports progress so an activity can heartbeat', () => {
    const calls: [number, number][] = [];
    pairedBootstrapMetric({
      metric: 'accuracy', task: 'binary', yTrue: data.y, candidate: data.p, baseline, resamples: 120,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(calls).toEqual([[50, 120], [100, 120], [120, 120]]);
  });

  it('rejects bad inputs', () => {
    const base = { metric: 'roc_auc', task: 'binary', yTrue: data.y, candidate: data.p } as const;
    expect(() => pairedBootstrapMetric({ ...base, baseline: data.p.slice(1) })).toThrow(/both must score the same rows/);
    expect(() => pairedBootstrapMetric({ ...base, baseline: data.p, confidence: 1 })).toThrow(EvaluationInputError);
    expect(() => pairedBootstrapMetric({ ...base, baseline: data.p, resamples: 0 })).toThrow(EvaluationInputError);
  });
});

describe('pairedBootstrap (generic statistics)', () => {
  it('matches the normal-theory interval of a mean difference on a large sample', () => {
    const random = mulberry32(11);
    const n = 2000;
    const diffs = Array.from({ length: n }, () => 0.1 + (random() - 0.5) * 2);
    const mean = (idx: Uint32Array) => idx.reduce((s, i) => s + diffs[i], 0) / idx.length;
    const r = pairedBootstrap({ rows: n, metric: 'mean', higherIsBetter: true, candidate: mean, baseline: () => 0, resamples: 2000, seed: 1 });
    const sampleMean = diffs.reduce((s, d) => s + d, 0) / n;
    const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - sampleMean) ** 2, 0) / (n - 1));
    const halfWidth = (1.96 * sd) / Math.sqrt(n);
    expect(r.observedDiff).toBeCloseTo(sampleMean, 12);
    expect(r.lower).toBeCloseTo(sampleMean - halfWidth, 2);
    expect(r.upper).toBeCloseTo(sampleMean + halfWidth, 2);
  });

  it('throws when the statistic is undefined on every resample', () => {
    const undefinedEverywhere = (idx: Uint32Array) => {
      if (idx[0] >= 0) throw new UndefinedMetricError('never defined');
      return 0;
    };
    let calls = 0;
    const onlyFullData = (idx: Uint32Array) => (calls++ === 0 ? idx.length : undefinedEverywhere(idx));
    expect(() =>
      pairedBootstrap({ rows: 5, metric: 'x', higherIsBetter: true, candidate: onlyFullData, baseline: () => 0, resamples: 5 }),
    ).toThrow(/undefined on every bootstrap resample/);
  });
});
