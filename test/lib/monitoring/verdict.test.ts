import { describe, expect, it } from 'vitest';
import { categoricalDrift, computeDrift } from '../../../lib/monitoring/drift.js';
import { buildTrainingProfile } from '../../../lib/monitoring/profile.js';
import type { OutputColumns, TrainingProfile } from '../../../lib/monitoring/profile.js';
import { resolveThresholds } from '../../../lib/monitoring/thresholds.js';
import { assessDrift, judgeColumn, judgeDrift } from '../../../lib/monitoring/verdict.js';
import type { ColumnVerdict, DriftVerdict } from '../../../lib/monitoring/verdict.js';
import { aggregateWindow } from '../../../lib/monitoring/window.js';
import type { RawColumn } from '../../../lib/monitoring/column-values.js';
import { categoricalSample, normalSample, withMissing } from './synthetic.js';

const PLAN_WEIGHTS = { free: 5, pro: 3, team: 2 };

const profile: TrainingProfile = buildTrainingProfile({
  features: {
    income: { kind: 'numeric', values: withMissing(normalSample(50_000, 1, 50, 10), 0.01, 2) },
    plan: { kind: 'categorical', values: categoricalSample(50_000, 3, PLAN_WEIGHTS) },
  },
  output: {
    task: 'classification',
    predictedClass: categoricalSample(50_000, 4, { churn: 3, stay: 7 }),
    probabilities: { churn: normalSample(50_000, 5, 0.3, 0.1) },
  },
});

interface WindowSpec {
  n: number;
  seed: number;
  incomeMean?: number;
  incomeMissing?: number;
  plans?: Record<string, number>;
  churnShare?: number;
  churnProbabilityMean?: number;
}

function windowColumns({ n, seed, incomeMean = 50, incomeMissing = 0.01, plans = PLAN_WEIGHTS, churnShare = 0.3, churnProbabilityMean = 0.3 }: WindowSpec) {
  const features: Record<string, RawColumn> = {
    income: withMissing(normalSample(n, seed, incomeMean, 10), incomeMissing, seed + 1),
    plan: categoricalSample(n, seed + 2, plans),
  };
  const output: OutputColumns = {
    task: 'classification',
    predictedClass: categoricalSample(n, seed + 3, { churn: churnShare, stay: 1 - churnShare }),
    probabilities: { churn: normalSample(n, seed + 4, churnProbabilityMean, 0.1) },
  };
  return { features, output };
}

function assess(spec: WindowSpec, thresholds = {}): DriftVerdict {
  return assessDrift(profile, aggregateWindow(profile, windowColumns(spec)), thresholds);
}

function column(verdict: DriftVerdict, name: string): ColumnVerdict {
  const found = [...verdict.features, ...verdict.outputs].find((v) => v.column === name);
  if (!found) throw new Error(`no verdict for ${name}`);
  return found;
}

describe('drift verdicts', () => {
  it('calls a huge window of the training distribution ok', () => {
    const verdict = assess({ n: 1_000_000, seed: 100 });
    expect(verdict.status).toBe('ok');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.numbers.windowSize).toBe(1_000_000);
    const income = column(verdict, 'income');
    expect(income.numbers?.kind === 'numeric' && income.numbers.psi).toBeLessThan(0.01);
  });

  it('does not let a significant but negligible shift at huge n read as drift', () => {
    // 0.03σ: KS is overwhelmingly "significant" at a million rows, yet the effect is tiny.
    const verdict = assess({ n: 1_000_000, seed: 200, incomeMean: 50.3 });
    const income = column(verdict, 'income');
    const numbers = income.numbers!;
    expect(numbers.kind === 'numeric' && numbers.ks!.pValue).toBeLessThan(1e-4);
    expect(income.status).toBe('ok');
    expect(verdict.status).toBe('ok');
  });

  it('flags a shifted mean as drift, PSI over its threshold, and says so', () => {
    const verdict = assess({ n: 5000, seed: 300, incomeMean: 60 });
    const income = column(verdict, 'income');
    expect(income.status).toBe('drift');
    const psi = income.checks.find((c) => c.metric === 'psi')!;
    expect(psi.value).toBeGreaterThan(0.25);
    expect(psi).toMatchObject({ effectLevel: 'drift', corroborated: true, level: 'drift' });
    expect(income.checks.find((c) => c.metric === 'wasserstein')!.level).toBe('drift');
    expect(income.reasons[0]).toMatch(/^PSI \d\.\d+ ≥ drift threshold 0\.25/);
    expect(verdict.status).toBe('drift');
    expect(verdict.numbers.drifted).toEqual(['income']);
    expect(verdict.reasons[0]).toMatch(/^income: drift: PSI/);
    expect(column(verdict, 'plan').status).toBe('ok');
  });

  it('never decides on a tiny window, however different it looks', () => {
    const verdict = assess({ n: 50, seed: 400, incomeMean: 90, churnShare: 0.9 });
    expect(verdict.status).toBe('insufficient_data');
    expect(verdict.reasons).toEqual(['the window has 50 rows; at least 500 are needed to judge drift']);
    expect(verdict.features.every((v) => v.status === 'insufficient_data')).toBe(true);
    expect(verdict.numbers.insufficient).toContain('income');
  });

  it('reports unseen categories by name with their share', () => {
    const verdict = assess({ n: 20_000, seed: 500, plans: { ...PLAN_WEIGHTS, enterprise: 0.2, trial: 0.05 } });
    const plan = column(verdict, 'plan');
    expect(plan.status).toBe('warn');
    const unseen = plan.checks.find((c) => c.metric === 'unseen_share')!;
    expect(unseen.level).toBe('warn');
    expect(unseen.value).toBeGreaterThan(0.02);
    expect(unseen.value).toBeLessThan(0.03);
    expect(plan.reasons.find((r) => r.includes('unseen'))).toMatch(/of values in categories unseen in training ≥ warn threshold 1\.0%: "enterprise" 1\.\d%, "trial" 0\.\d%$/);
    const numbers = plan.numbers!;
    expect(numbers.kind === 'categorical' && numbers.unseen.top.map((u) => u.category)).toEqual(['enterprise', 'trial']);
  });

  it('calls a large share of unseen categories drift', () => {
    const plan = column(assess({ n: 20_000, seed: 600, plans: { ...PLAN_WEIGHTS, enterprise: 1 } }), 'plan');
    expect(plan.status).toBe('drift');
    expect(plan.checks.find((c) => c.metric === 'unseen_share')!.level).toBe('drift');
  });

  it('flags a jump in the missing rate even when the values look the same', () => {
    const verdict = assess({ n: 5000, seed: 700, incomeMissing: 0.1 });
    const income = column(verdict, 'income');
    expect(income.status).toBe('drift');
    expect(income.checks.map((c) => [c.metric, c.level])).toEqual([
      ['missing_rate_change', 'drift'],
      ['psi', 'ok'],
      ['wasserstein', 'ok'],
    ]);
    expect(income.reasons).toHaveLength(1);
    expect(income.reasons[0]).toMatch(/^missing rate 1\.0% → (9|10)\.\d%, a change of \d\.\d percentage points ≥ drift threshold 5\.0 percentage points$/);
  });

  it('detects output drift in the predicted classes and the probabilities', () => {
    const verdict = assess({ n: 5000, seed: 800, churnShare: 0.6, churnProbabilityMean: 0.5 });
    expect(column(verdict, 'income').status).toBe('ok');
    expect(column(verdict, 'predicted_class').status).toBe('drift');
    expect(column(verdict, 'probability:churn').status).toBe('drift');
    expect(verdict.numbers.outputStatus).toBe('drift');
    expect(verdict.status).toBe('drift');
    expect(verdict.reasons.some((r) => r.startsWith('output predicted_class: drift: '))).toBe(true);
  });

  it('detects drift in a regressor output', () => {
    const regressor = buildTrainingProfile({
      features: { x: { kind: 'numeric', values: normalSample(10_000, 1) } },
      output: { task: 'regression', prediction: normalSample(10_000, 2, 100, 15) },
    });
    const window = aggregateWindow(regressor, {
      features: { x: normalSample(2000, 3) },
      output: { task: 'regression', prediction: normalSample(2000, 4, 115, 15) },
    });
    const verdict = assessDrift(regressor, window);
    expect(verdict.numbers.outputStatus).toBe('drift');
    expect(verdict.numbers.drifted).toEqual(['output prediction']);
  });

  it('applies per-model and per-feature thresholds', () => {
    const spec = { n: 5000, seed: 300, incomeMean: 60 };
    const lenient = { features: { income: { psi: { drift: 5 }, wasserstein: { drift: 5 } } } };
    expect(column(assess(spec, lenient), 'income').status).toBe('warn');
    const strictSize = { minSampleSize: 10_000 };
    expect(assess(spec, strictSize).status).toBe('insufficient_data');
  });

  it('lets a p-value hold back an effect a small window may owe to chance, never push one up', () => {
    // 18 of 24 in one of two equally common categories: PSI 0.275 is past the drift line,
    // but chi-square p ≈ 0.014 does not reach 0.01 on so few rows, so it is held at warn.
    const profile = { kind: 'categorical' as const, count: 10_000, missingCount: 0, categoryCounts: { a: 5000, b: 5000 }, otherCount: 0 };
    const drift = categoricalDrift(profile, { kind: 'categorical', missingCount: 0, categoryCounts: { a: 18, b: 6 } });
    const settings = resolveThresholds({ minSampleSize: 20 });
    const verdict = judgeColumn('tier', 'feature', drift, settings);
    const psi = verdict.checks.find((c) => c.metric === 'psi')!;
    expect(psi.value).toBeGreaterThan(0.25);
    expect(psi).toMatchObject({ effectLevel: 'drift', corroborated: false, level: 'warn' });
    expect(psi.test!.pValue).toBeGreaterThan(0.01);
    expect(verdict.status).toBe('warn');
    expect(verdict.reasons[0]).toMatch(/^PSI 0\.27\d ≥ drift threshold 0\.25, but chi-square p = 0\.01\d does not corroborate it, so held at warn$/);
  });

  it('does not warn on sampling noise spread over many categories', () => {
    // 60 equally common categories and 500 rows: JS distance and PSI both pass their warn lines by
    // chance alone, and chi-square (p well above 0.01) says so.
    const weights = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`c${i}`, 1]));
    const many = buildTrainingProfile({ features: { c: { kind: 'categorical', values: categoricalSample(60_000, 1, weights) } } });
    const verdict = assessDrift(many, aggregateWindow(many, { features: { c: categoricalSample(500, 2, weights) } }));
    const c = column(verdict, 'c');
    expect(c.checks.find((k) => k.metric === 'js_distance')).toMatchObject({ effectLevel: 'warn', corroborated: false, level: 'ok' });
    expect(c.status).toBe('ok');
  });

  it('judges missingness but not the distribution of a mostly-missing column', () => {
    const verdict = assess({ n: 1000, seed: 900, incomeMissing: 0.7 });
    const income = column(verdict, 'income');
    expect(income.status).toBe('drift');
    expect(income.reasons).toHaveLength(2);
    expect(income.reasons[1]).toMatch(/the window has \d+ values \(the rest missing\); at least 500 are needed/);
  });

  it('marks a column without a window aggregate as insufficient, not the whole window', () => {
    const window = aggregateWindow(profile, windowColumns({ n: 2000, seed: 1000 }));
    delete window.features.plan;
    const verdict = judgeDrift(computeDrift(profile, window));
    expect(column(verdict, 'plan')).toMatchObject({ status: 'insufficient_data', reasons: ['the window has no aggregate for this column'], numbers: null });
    expect(verdict.status).toBe('ok');
    expect(verdict.reasons).toEqual(['not judged for lack of data: plan']);
  });
});
