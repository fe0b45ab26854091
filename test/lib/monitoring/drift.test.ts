import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { categoricalDrift, computeDrift, numericDrift } from '../../../lib/monitoring/drift.js';
import { buildCategoricalProfile, buildNumericProfile, buildTrainingProfile } from '../../../lib/monitoring/profile.js';
import { aggregateCategoricalWindow, aggregateFeatureWindow, aggregateNumericWindow, aggregateWindow } from '../../../lib/monitoring/window.js';
import { normalSample } from './synthetic.js';

describe('window aggregates from raw arrays', () => {
  it('cut numbers with the profile edges and sketch them at its levels', () => {
    const profile = buildNumericProfile([0, 0, 1, 1, 1, 2, 2, 2, 2, 3]);
    const window = aggregateNumericWindow(profile, [-1, 0, 1, 2, 3, 4, null, NaN]);
    expect(profile.binEdges).toEqual([0, 1, 2, 3, 3.0000000000000004]);
    expect(window).toMatchObject({ kind: 'numeric', missingCount: 2, binCounts: [1, 1, 1, 1, 1, 1] });
    expect(window.quantiles).toHaveLength(100);
    expect(aggregateNumericWindow(profile, [null]).quantiles).toBeNull();
  });

  it('count categories', () => {
    expect(aggregateCategoricalWindow(['a', 'b', 'a', null])).toEqual({ kind: 'categorical', missingCount: 1, categoryCounts: { a: 2, b: 1 } });
  });

  it('skip columns the profile does not know and map output columns to profile names', () => {
    const profile = buildTrainingProfile({
      features: { x: { kind: 'numeric', values: [1, 2, 3] } },
      output: { task: 'regression', prediction: [1, 2, 3] },
    });
    const window = aggregateWindow(profile, { features: { x: [2], y: [5] }, output: { task: 'regression', prediction: [2] } });
    expect(Object.keys(window.features)).toEqual(['x']);
    expect(Object.keys(window.outputs)).toEqual(['prediction']);
  });
});

describe('numericDrift', () => {
  const profile = buildNumericProfile(normalSample(10_000, 1));

  it('reports shares outside the training range from the outer bins', () => {
    const window = aggregateNumericWindow(profile, [...normalSample(900, 2), ...new Array(60).fill(-100), ...new Array(40).fill(100)]);
    const drift = numericDrift(profile, window);
    expect(drift.belowRangeShare).toBeCloseTo(0.06, 12);
    expect(drift.aboveRangeShare).toBeCloseTo(0.04, 12);
  });

  it('falls back to a binned KS without a window sketch, and then has no Wasserstein', () => {
    const window = { ...aggregateNumericWindow(profile, normalSample(2000, 3, 1)), quantiles: null };
    const drift = numericDrift(profile, window);
    expect(drift.ks?.method).toBe('bins');
    expect(drift.ks!.statistic).toBeGreaterThan(0.3);
    expect(drift.wasserstein).toBeNull();
  });

  it('normalises Wasserstein by the reference IQR, or a fallback for a constant feature', () => {
    const drift = numericDrift(profile, aggregateNumericWindow(profile, normalSample(5000, 4, 0.5)));
    expect(drift.wasserstein?.scaleSource).toBe('iqr');
    expect(drift.wasserstein!.normalised).toBeCloseTo(drift.wasserstein!.distance / profile.iqr!, 12);
    const constant = buildNumericProfile(new Array(1000).fill(4));
    const moved = numericDrift(constant, aggregateNumericWindow(constant, new Array(1000).fill(5)));
    expect(moved.wasserstein).toMatchObject({ scaleSource: 'magnitude', scale: 4, distance: 1, normalised: 0.25 });
    // The constant gets its own bin, so PSI sees the move too.
    expect(moved.psi).toBeGreaterThan(1);
  });

  it('refuses aggregates not cut with this profile, saying what to do', () => {
    const bad = { kind: 'numeric' as const, missingCount: 0, binCounts: [1, 2, 3], quantiles: null };
    expect(() => numericDrift(profile, bad, 'age')).toThrow(ValidationError);
    expect(() => numericDrift(profile, bad, 'age')).toThrow(/"age" has 3 bin counts but the profile has 12 bins/);
    const shortSketch = { ...aggregateNumericWindow(profile, [1, 2]), quantiles: [1, 2] };
    expect(() => numericDrift(profile, shortSketch)).toThrow(/quantileLevels\(100\)/);
    const negative = { ...aggregateNumericWindow(profile, [1, 2]), missingCount: -1 };
    expect(() => numericDrift(profile, negative)).toThrow(ValidationError);
  });
});

describe('categoricalDrift', () => {
  it('names unseen categories, most frequent first, with shares', () => {
    const profile = buildCategoricalProfile([...new Array(500).fill('a'), ...new Array(500).fill('b')]);
    const drift = categoricalDrift(profile, aggregateCategoricalWindow([...new Array(90).fill('a'), 'z', 'y', 'y', ...new Array(7).fill('b')]));
    expect(drift.unseen.share).toBeCloseTo(0.03, 12);
    expect(drift.unseen.excessShare).toBeCloseTo(0.03, 12);
    expect(drift.unseen.top).toEqual([
      { category: 'y', count: 2, share: 0.02 },
      { category: 'z', count: 1, share: 0.01 },
    ]);
  });

  it('expects as much "unlisted" as the profile pooled beyond maxCategories', () => {
    const training = [...new Array(800).fill('a'), ...Array.from({ length: 200 }, (_, i) => `rare${i}`)];
    const profile = buildCategoricalProfile(training, { maxCategories: 1 });
    expect(profile.otherCount).toBe(200);
    const drift = categoricalDrift(profile, aggregateCategoricalWindow([...new Array(790).fill('a'), ...Array.from({ length: 210 }, (_, i) => `new${i}`)]));
    expect(drift.unseen.share).toBeCloseTo(0.21, 12);
    expect(drift.unseen.referenceOtherShare).toBeCloseTo(0.2, 12);
    expect(drift.unseen.excessShare).toBeCloseTo(0.01, 12);
    expect(drift.psi).toBeLessThan(0.01);
  });

  it('pools categories the window expects fewer than 5 times before the chi-square test', () => {
    const training = { a: 4000, b: 4000, c: 10, d: 10, e: 10 };
    const profile = { kind: 'categorical' as const, count: 8030, missingCount: 0, categoryCounts: training, otherCount: 0 };
    const drift = categoricalDrift(profile, { kind: 'categorical', missingCount: 0, categoryCounts: { a: 500, b: 498, c: 1, d: 1 } });
    // a, b kept; c, d, e and the empty "unlisted" column pooled into one: 3 columns, 2 degrees of freedom.
    expect(drift.chiSquare?.degreesOfFreedom).toBe(2);
  });

  it('refuses a window aggregate of the other kind', () => {
    const profile = buildTrainingProfile({ features: { plan: { kind: 'categorical', values: ['a'] } } });
    const window = { features: { plan: { kind: 'numeric' as const, missingCount: 0, binCounts: [1], quantiles: null } }, outputs: {} };
    expect(() => computeDrift(profile, window)).toThrow(/"plan" is categorical in the training profile but its window aggregate is numeric/);
  });
});

describe('computeDrift', () => {
  it('lists profiled columns without aggregates and aggregates without profiles', () => {
    const profile = buildTrainingProfile({
      features: { x: { kind: 'numeric', values: [1, 2] }, y: { kind: 'numeric', values: [1, 2] } },
      output: { task: 'regression', prediction: [1, 2] },
    });
    const report = computeDrift(profile, {
      features: { x: aggregateFeatureWindow(profile.features.x, [1]), z: aggregateCategoricalWindow(['q']) },
      outputs: {},
    });
    expect(Object.keys(report.features)).toEqual(['x']);
    expect(report.missingFeatures).toEqual(['y']);
    expect(report.missingOutputs).toEqual(['prediction']);
    expect(report.unprofiledFeatures).toEqual(['z']);
  });
});
