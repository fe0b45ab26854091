// Drift thresholds, configurable per model and per column, with defaults that say why they are what they are.

import { ValidationError } from '../errors.js';

/** An effect size at or above `warn` warns; at or above `drift` is drift. */
export interface LevelThresholds {
  warn: number;
  drift: number;
}

export interface DriftThresholdSettings {
  /** Window rows needed before a column is judged at all; fewer and the verdict is insufficient_data. */
  minSampleSize: number;
  /** Training rows with a value needed for the reference to mean anything. */
  minReferenceSize: number;
  /** A p-value below this corroborates an effect; above it, the effect is held one level lower. */
  significanceLevel: number;
  /** Population stability index over the profile's bins (numeric) or categories. */
  psi: LevelThresholds;
  /** Wasserstein-1 over the reference IQR (see WassersteinDrift), numeric columns. */
  wasserstein: LevelThresholds;
  /** Jensen-Shannon distance, base 2, in [0, 1], categorical columns. */
  jsDistance: LevelThresholds;
  /** Absolute change of the missing rate, in rate units (0.05 = five percentage points). */
  missingRateChange: LevelThresholds;
  /** Share of window values in categories training never saw (beyond the profile's own pooled tail). */
  unseenShare: LevelThresholds;
}

/**
 * Defaults, and why:
 * - minSampleSize 500: with 10–12 bins, PSI between two samples of one distribution averages about
 *   (bins − 1)/n, so 0.02 at n = 500, well under the 0.1 warn line; below a few hundred rows noise
 *   alone reaches it. A tiny window must never decide.
 * - minReferenceSize 100: ten rows per quantile bin at the default 10 bins.
 * - significanceLevel 0.01: a corroboration bar, not the decision; a strict one keeps small,
 *   noisy windows from confirming effects that are sampling error.
 * - psi 0.1 / 0.25: the industry convention (credit scoring): < 0.1 stable, 0.1–0.25 moderate
 *   shift, > 0.25 significant shift. With 10 quantile bins a normal feature crosses them at mean
 *   shifts of ≈0.33σ and ≈0.52σ.
 * - wasserstein 0.25 / 0.4 (in reference IQRs; a normal's IQR is 1.35σ): mean shifts of ≈0.34σ and
 *   ≈0.54σ, so the two lines sit where PSI's do for a shift; Wasserstein also sees moves inside one
 *   bin and in the tails, PSI sees changes of shape that move little mass far.
 * - jsDistance 0.1 / 0.2: for small shifts JS divergence ≈ PSI / (8 ln 2), so 0.1 / 0.2 sit near PSI
 *   0.055 / 0.22; the warn line is a little more eager than PSI's, the drift line about the same.
 * - missingRateChange 0.02 / 0.05: two points of extra missingness is worth a look; five usually
 *   means an upstream pipeline or client changed.
 * - unseenShare 0.01 / 0.05: 1% of values in categories training never saw is a schema or vocabulary
 *   change in the making; at 5% the model is guessing for one request in twenty.
 */
export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholdSettings = {
  minSampleSize: 500,
  minReferenceSize: 100,
  significanceLevel: 0.01,
  psi: { warn: 0.1, drift: 0.25 },
  wasserstein: { warn: 0.25, drift: 0.4 },
  jsDistance: { warn: 0.1, drift: 0.2 },
  missingRateChange: { warn: 0.02, drift: 0.05 },
  unseenShare: { warn: 0.01, drift: 0.05 },
};

type LevelKey = { [K in keyof DriftThresholdSettings]: DriftThresholdSettings[K] extends LevelThresholds ? K : never }[keyof DriftThresholdSettings];
type ScalarKey = Exclude<keyof DriftThresholdSettings, LevelKey>;

// Derived from the defaults, so a new setting is merged and validated without another list to update.
const SETTING_KEYS = Object.keys(DEFAULT_DRIFT_THRESHOLDS) as (keyof DriftThresholdSettings)[];
const LEVEL_KEYS = SETTING_KEYS.filter((key): key is LevelKey => typeof DEFAULT_DRIFT_THRESHOLDS[key] === 'object');
const SCALAR_KEYS = SETTING_KEYS.filter((key): key is ScalarKey => typeof DEFAULT_DRIFT_THRESHOLDS[key] === 'number');

/** Any subset of the settings; a level pair may be given half (`{ psi: { drift: 0.3 } }`). */
export type ThresholdOverrides = { [K in ScalarKey]?: number } & { [K in LevelKey]?: Partial<LevelThresholds> };

/** What a model stores: overrides of the defaults, and overrides per feature or output column on top of those. */
export interface DriftThresholdsInput extends ThresholdOverrides {
  features?: Record<string, ThresholdOverrides>;
  outputs?: Record<string, ThresholdOverrides>;
}

/** Resolved thresholds: full model-level settings plus the per-column overrides still to apply. */
export interface DriftThresholds extends DriftThresholdSettings {
  features: Record<string, ThresholdOverrides>;
  outputs: Record<string, ThresholdOverrides>;
}

function validate(settings: DriftThresholdSettings, where: string): DriftThresholdSettings {
  const fail = (what: string): never => {
    throw new ValidationError(`drift thresholds${where}: ${what}`);
  };
  if (!Number.isInteger(settings.minSampleSize) || settings.minSampleSize < 1) fail(`minSampleSize must be a positive integer, got ${settings.minSampleSize}`);
  if (!Number.isInteger(settings.minReferenceSize) || settings.minReferenceSize < 1) fail(`minReferenceSize must be a positive integer, got ${settings.minReferenceSize}`);
  if (!(settings.significanceLevel > 0 && settings.significanceLevel < 1)) fail(`significanceLevel must be between 0 and 1, got ${settings.significanceLevel}`);
  for (const key of LEVEL_KEYS) {
    const { warn, drift } = settings[key];
    if (!(Number.isFinite(warn) && warn >= 0 && Number.isFinite(drift) && drift >= 0)) fail(`${key} needs finite, non-negative warn and drift, got ${warn} / ${drift}`);
    if (warn > drift) fail(`${key}.warn (${warn}) is above ${key}.drift (${drift})`);
  }
  return settings;
}

function merge(base: DriftThresholdSettings, overrides: ThresholdOverrides | undefined): DriftThresholdSettings {
  const merged: DriftThresholdSettings = { ...base };
  if (!overrides) return merged;
  for (const key of SCALAR_KEYS) {
    const value = overrides[key];
    if (value !== undefined) merged[key] = value;
  }
  for (const key of LEVEL_KEYS) {
    const { warn, drift } = overrides[key] ?? {};
    merged[key] = { warn: warn ?? base[key].warn, drift: drift ?? base[key].drift };
  }
  return merged;
}

/** Defaults overlaid with a model's stored thresholds; throws ValidationError naming the bad setting. */
export function resolveThresholds(input: DriftThresholdsInput = {}): DriftThresholds {
  const settings = validate(merge(DEFAULT_DRIFT_THRESHOLDS, input), '');
  const features = input.features ?? {};
  const outputs = input.outputs ?? {};
  // Check column overrides now, so a bad one fails when thresholds are saved, not mid-monitoring.
  for (const [name, overrides] of Object.entries(features)) validate(merge(settings, overrides), ` for feature "${name}"`);
  for (const [name, overrides] of Object.entries(outputs)) validate(merge(settings, overrides), ` for output "${name}"`);
  return { ...settings, features, outputs };
}

/** The settings that apply to one column. */
export function thresholdsForColumn(thresholds: DriftThresholds, role: 'feature' | 'output', column: string): DriftThresholdSettings {
  const { features, outputs, ...settings } = thresholds;
  const overrides = role === 'feature' ? features : outputs;
  return merge(settings, Object.hasOwn(overrides, column) ? overrides[column] : undefined);
}
