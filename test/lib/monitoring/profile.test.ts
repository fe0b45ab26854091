import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { nextUp } from '../../../lib/monitoring/binning.js';
import {
  PREDICTED_CLASS_COLUMN,
  PREDICTION_COLUMN,
  buildCategoricalProfile,
  buildNumericProfile,
  buildTrainingProfile,
  probabilityColumn,
} from '../../../lib/monitoring/profile.js';
import type { TrainingProfile } from '../../../lib/monitoring/profile.js';
import { categoricalSample, normalSample, withMissing } from './synthetic.js';

function hasOnlyFiniteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(hasOnlyFiniteNumbers);
  if (value !== null && typeof value === 'object') return Object.values(value).every(hasOnlyFiniteNumbers);
  return true;
}

describe('buildNumericProfile', () => {
  it('summarises a column and counts null, undefined, NaN and ±Infinity as missing', () => {
    const profile = buildNumericProfile([4, null, 1, undefined, 3, NaN, 2, Infinity, -Infinity, 5]);
    expect(profile).toMatchObject({ kind: 'numeric', count: 5, missingCount: 5, min: 1, max: 5, mean: 3, iqr: 2 });
    expect(profile.std).toBeCloseTo(Math.sqrt(2.5), 14); // sample standard deviation of 1..5
    expect(profile.binEdges[0]).toBe(1);
    expect(profile.binEdges[profile.binEdges.length - 1]).toBe(nextUp(5));
    expect(profile.binCounts).toHaveLength(profile.binEdges.length + 1);
    expect(profile.binCounts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(profile.quantiles).toHaveLength(100);
  });

  it('uses the requested number of bins and sketch points', () => {
    const profile = buildNumericProfile(normalSample(10_000, 1), { bins: 20, sketchSize: 50 });
    expect(profile.binEdges).toHaveLength(21); // min, 19 inner quantiles, just above max
    expect(profile.binCounts.slice(1, -1).every((c) => c === 500)).toBe(true);
    expect(profile.quantiles).toHaveLength(50);
  });

  it('describes an all-missing column without NaN', () => {
    const profile = buildNumericProfile([null, null, NaN]);
    expect(profile).toEqual({
      kind: 'numeric', count: 0, missingCount: 3, min: null, max: null, mean: null, std: null, iqr: null,
      binEdges: [], binCounts: [0], quantiles: [],
    });
  });

  it('refuses text in a numeric column, saying where', () => {
    expect(() => buildNumericProfile([1, 'two', 3], undefined, 'age')).toThrow(ValidationError);
    expect(() => buildNumericProfile([1, 'two', 3], undefined, 'age')).toThrow(/column "age" is numeric but row 1/);
  });
});

describe('buildCategoricalProfile', () => {
  it('counts categories as strings; only null and undefined are missing', () => {
    const profile = buildCategoricalProfile(['a', 'b', 'a', '', null, undefined, 1, true, '1']);
    expect(profile.count).toBe(7);
    expect(profile.missingCount).toBe(2);
    expect(profile.categoryCounts).toEqual({ a: 2, b: 1, '': 1, '1': 2, true: 1 });
    expect(profile.otherCount).toBe(0);
  });

  it('keeps categories named like object properties as plain categories', () => {
    const profile = buildCategoricalProfile(['__proto__', 'constructor', '__proto__']);
    expect(Object.getPrototypeOf(profile.categoryCounts)).toBe(Object.prototype);
    expect(Object.hasOwn(profile.categoryCounts, '__proto__')).toBe(true);
    expect(profile.categoryCounts['__proto__']).toBe(2);
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
  });

  it('keeps the most frequent maxCategories and pools the rest', () => {
    const profile = buildCategoricalProfile(['a', 'a', 'a', 'b', 'b', 'c', 'd'], { maxCategories: 2 });
    expect(profile.categoryCounts).toEqual({ a: 3, b: 2 });
    expect(profile.otherCount).toBe(2);
  });
});

describe('buildTrainingProfile', () => {
  const n = 5000;
  const build = (): TrainingProfile =>
    buildTrainingProfile({
      features: {
        age: { kind: 'numeric', values: withMissing(normalSample(n, 1, 40, 12), 0.02, 2) },
        plan: { kind: 'categorical', values: categoricalSample(n, 3, { free: 6, pro: 3, team: 1 }) },
      },
      output: {
        task: 'classification',
        predictedClass: categoricalSample(n, 4, { churn: 2, stay: 8 }),
        probabilities: { churn: Array.from(normalSample(n, 5, 0.2, 0.1), (p) => Math.min(1, Math.max(0, p))) },
      },
    });

  it('profiles features and names output columns the way windows will', () => {
    const profile = build();
    expect(profile.formatVersion).toBe(1);
    expect(Object.keys(profile.features)).toEqual(['age', 'plan']);
    expect(profile.output?.task).toBe('classification');
    expect(Object.keys(profile.output!.columns)).toEqual([PREDICTED_CLASS_COLUMN, probabilityColumn('churn')]);
    expect(profile.output!.columns[PREDICTED_CLASS_COLUMN].kind).toBe('categorical');
    expect(profile.output!.columns['probability:churn'].kind).toBe('numeric');
  });

  it('is plain JSON: survives a round trip and holds no NaN or Infinity', () => {
    const profile = build();
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
    expect(hasOnlyFiniteNumbers(profile)).toBe(true);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(build())).toBe(JSON.stringify(build()));
  });

  it('profiles a regressor output as one numeric column', () => {
    const profile = buildTrainingProfile({
      features: { x: { kind: 'numeric', values: [1, 2, 3] } },
      output: { task: 'regression', prediction: [10, 20, 30] },
    });
    expect(Object.keys(profile.output!.columns)).toEqual([PREDICTION_COLUMN]);
  });

  it('refuses columns of different lengths', () => {
    expect(() =>
      buildTrainingProfile({ features: { a: { kind: 'numeric', values: [1, 2] }, b: { kind: 'categorical', values: ['x'] } } }),
    ).toThrow(ValidationError);
  });
});
