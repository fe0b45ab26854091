import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { DEFAULT_DRIFT_THRESHOLDS, resolveThresholds, thresholdsForColumn } from '../../../lib/monitoring/thresholds.js';

describe('drift thresholds', () => {
  it('default to the documented values', () => {
    expect(resolveThresholds()).toEqual({ ...DEFAULT_DRIFT_THRESHOLDS, features: {}, outputs: {} });
    expect(DEFAULT_DRIFT_THRESHOLDS).toMatchObject({
      minSampleSize: 500,
      psi: { warn: 0.1, drift: 0.25 },
      jsDistance: { warn: 0.1, drift: 0.2 },
      missingRateChange: { warn: 0.02, drift: 0.05 },
      unseenShare: { warn: 0.01, drift: 0.05 },
    });
  });

  it('take a model override of half a pair and per-column overrides on top', () => {
    const thresholds = resolveThresholds({
      minSampleSize: 1000,
      psi: { drift: 0.3 },
      features: { income: { psi: { warn: 0.2 } } },
      outputs: { prediction: { wasserstein: { drift: 1 } } },
    });
    expect(thresholds.psi).toEqual({ warn: 0.1, drift: 0.3 });
    expect(thresholdsForColumn(thresholds, 'feature', 'income')).toMatchObject({ minSampleSize: 1000, psi: { warn: 0.2, drift: 0.3 } });
    expect(thresholdsForColumn(thresholds, 'feature', 'age').psi).toEqual({ warn: 0.1, drift: 0.3 });
    expect(thresholdsForColumn(thresholds, 'output', 'prediction').wasserstein).toEqual({ warn: 0.25, drift: 1 });
    // Resolving again changes nothing, so stored resolved thresholds can be passed back in.
    expect(resolveThresholds(thresholds)).toEqual(thresholds);
  });

  it('refuse nonsense, naming the setting', () => {
    expect(() => resolveThresholds({ psi: { warn: 0.3 } })).toThrow(ValidationError);
    expect(() => resolveThresholds({ psi: { warn: 0.3 } })).toThrow(/psi.warn \(0.3\) is above psi.drift \(0.25\)/);
    expect(() => resolveThresholds({ minSampleSize: 0 })).toThrow(/minSampleSize/);
    expect(() => resolveThresholds({ significanceLevel: 1 })).toThrow(/significanceLevel/);
    expect(() => resolveThresholds({ features: { age: { jsDistance: { drift: -1 } } } })).toThrow(/for feature "age"/);
  });
});
