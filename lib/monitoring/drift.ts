// Drift numbers per column: a training profile against the aggregates of one window of the prediction log.

import { ValidationError } from '../errors.js';
import { countOf } from './column-values.js';
import type { CategoricalFeatureProfile, FeatureProfile, NumericFeatureProfile, TrainingProfile } from './profile.js';
import {
  chiSquareHomogeneity,
  jensenShannonDistance,
  ksPValue,
  ksStatisticFromBinCounts,
  ksStatisticFromSketches,
  populationStabilityIndex,
  wassersteinFromSketches,
} from './stats.js';
import type { ChiSquareResult } from './stats.js';
import type { CategoricalWindowAggregate, FeatureWindowAggregate, NumericWindowAggregate, WindowAggregates } from './window.js';

/** Unseen categories kept by name in the numbers, most frequent first. */
export const UNSEEN_CATEGORIES_REPORTED = 10;

/**
 * Chi-square's p-value is unreliable when expected counts are small, so categories expected fewer
 * than 5 times in the window are pooled into one column for the test (Cochran's rule of thumb).
 * PSI and Jensen-Shannon still see every category.
 */
export const CHI_SQUARE_MIN_EXPECTED = 5;

export interface MissingRateDrift {
  referenceRate: number;
  windowRate: number;
  /** windowRate − referenceRate, in rate units (0.05 = five percentage points). */
  change: number;
  /** Chi-square test on the 2×2 table missing/present × reference/window. */
  pValue: number;
}

interface ColumnDriftBase {
  /** Training rows with a value. */
  referenceCount: number;
  /** Window rows, missing or not. */
  windowTotal: number;
  /** Window rows with a value. */
  windowCount: number;
  missing: MissingRateDrift;
}

export interface KsDrift {
  statistic: number;
  pValue: number;
  /** `sketch`: from both quantile sketches (±1 sketch step); `bins`: from bin counts (a lower bound). */
  method: 'sketch' | 'bins';
}

/**
 * Wasserstein-1 between the quantile sketches, and that distance over a reference scale so one
 * threshold fits every feature: the training IQR (robust to outliers), else the standard deviation,
 * else the magnitude of a constant feature's value, else 1 (a feature that was always 0).
 */
export interface WassersteinDrift {
  distance: number;
  scale: number;
  scaleSource: 'iqr' | 'std' | 'magnitude' | 'unit';
  normalised: number;
}

export interface NumericDrift extends ColumnDriftBase {
  kind: 'numeric';
  /** PSI over the profile's bins; null when either side has no values. */
  psi: number | null;
  ks: KsDrift | null;
  wasserstein: WassersteinDrift | null;
  /** Shares of window values below the training min and above the training max. */
  belowRangeShare: number;
  aboveRangeShare: number;
}

export interface UnseenCategory {
  category: string;
  count: number;
  /** Share of the window's values (missing excluded). */
  share: number;
}

export interface UnseenCategoriesDrift {
  /** Share of window values in categories the profile does not list. */
  share: number;
  /** Share of the reference pooled beyond `maxCategories`: that much "unlisted" is expected. 0 for a complete profile. */
  referenceOtherShare: number;
  /** share − referenceOtherShare, floored at 0: the part that is genuinely new. */
  excessShare: number;
  distinctCount: number;
  top: UnseenCategory[];
}

export interface CategoricalDrift extends ColumnDriftBase {
  kind: 'categorical';
  psi: number | null;
  jsDistance: number | null;
  chiSquare: ChiSquareResult | null;
  unseen: UnseenCategoriesDrift;
}

export type ColumnDrift = NumericDrift | CategoricalDrift;

export interface DriftReport {
  features: Record<string, ColumnDrift>;
  outputs: Record<string, ColumnDrift>;
  /** Profiled columns the window has no aggregate for. */
  missingFeatures: string[];
  missingOutputs: string[];
  /** Window aggregates with no profile to compare against. */
  unprofiledFeatures: string[];
  unprofiledOutputs: string[];
}

function total(counts: readonly number[]): number {
  let sum = 0;
  for (const c of counts) sum += c;
  return sum;
}

function assertCount(value: number, where: string): void {
  if (!Number.isFinite(value) || value < 0) throw new ValidationError(`${where} must be a non-negative count, got ${value}`);
}

function missingRateDrift(profile: FeatureProfile, windowMissing: number, windowCount: number): MissingRateDrift {
  const referenceTotal = profile.count + profile.missingCount;
  const windowTotal = windowCount + windowMissing;
  const referenceRate = referenceTotal > 0 ? profile.missingCount / referenceTotal : 0;
  const windowRate = windowTotal > 0 ? windowMissing / windowTotal : 0;
  const test = chiSquareHomogeneity([
    [profile.missingCount, profile.count],
    [windowMissing, windowCount],
  ]);
  return { referenceRate, windowRate, change: windowRate - referenceRate, pValue: test.pValue };
}

function wassersteinScale(profile: NumericFeatureProfile): Pick<WassersteinDrift, 'scale' | 'scaleSource'> {
  if (profile.iqr !== null && profile.iqr > 0) return { scale: profile.iqr, scaleSource: 'iqr' };
  if (profile.std !== null && profile.std > 0) return { scale: profile.std, scaleSource: 'std' };
  if (profile.mean !== null && profile.mean !== 0) return { scale: Math.abs(profile.mean), scaleSource: 'magnitude' };
  return { scale: 1, scaleSource: 'unit' };
}

/** Drift of one numeric column. Throws ValidationError when the aggregate was not cut with this profile's edges. */
export function numericDrift(profile: NumericFeatureProfile, window: NumericWindowAggregate, column = 'value'): NumericDrift {
  const bins = profile.binEdges.length + 1;
  if (window.binCounts.length !== bins) {
    throw new ValidationError(
      `window aggregate for "${column}" has ${window.binCounts.length} bin counts but the profile has ${bins} bins; ` +
        `bucket with width_bucket(x, binEdges) using this profile's binEdges`,
    );
  }
  window.binCounts.forEach((c, i) => assertCount(c, `binCounts[${i}] of "${column}"`));
  assertCount(window.missingCount, `missingCount of "${column}"`);
  if (window.quantiles !== null && window.quantiles.length !== profile.quantiles.length) {
    throw new ValidationError(
      `window aggregate for "${column}" has ${window.quantiles.length} quantiles but the profile sketch has ${profile.quantiles.length}; ` +
        `use percentile_cont at quantileLevels(${profile.quantiles.length})`,
    );
  }
  const windowCount = total(window.binCounts);
  const bothHaveValues = profile.count > 0 && windowCount > 0;
  let ks: KsDrift | null = null;
  let wasserstein: WassersteinDrift | null = null;
  if (bothHaveValues) {
    const windowSketch = profile.quantiles.length > 0 ? window.quantiles : null;
    const statistic = windowSketch
      ? ksStatisticFromSketches(profile.quantiles, windowSketch)
      : ksStatisticFromBinCounts(profile.binCounts, window.binCounts);
    ks = { statistic, pValue: ksPValue(statistic, profile.count, windowCount), method: windowSketch ? 'sketch' : 'bins' };
    if (windowSketch) {
      const distance = wassersteinFromSketches(profile.quantiles, windowSketch);
      const { scale, scaleSource } = wassersteinScale(profile);
      wasserstein = { distance, scale, scaleSource, normalised: distance / scale };
    }
  }
  return {
    kind: 'numeric',
    referenceCount: profile.count,
    windowTotal: windowCount + window.missingCount,
    windowCount,
    missing: missingRateDrift(profile, window.missingCount, windowCount),
    psi: bothHaveValues ? populationStabilityIndex(profile.binCounts, window.binCounts) : null,
    ks,
    wasserstein,
    // The profile's outer bins are exactly "below min" and "above max" (see NumericFeatureProfile).
    belowRangeShare: windowCount > 0 && bins > 1 ? window.binCounts[0] / windowCount : 0,
    aboveRangeShare: windowCount > 0 && bins > 1 ? window.binCounts[bins - 1] / windowCount : 0,
  };
}

// Pools columns the window expects fewer than CHI_SQUARE_MIN_EXPECTED times of into one column.
function pooledChiSquare(reference: number[], current: number[]): ChiSquareResult {
  const grand = total(reference) + total(current);
  const currentTotal = total(current);
  const keptReference: number[] = [];
  const keptCurrent: number[] = [];
  let pooledReference = 0;
  let pooledCurrent = 0;
  for (let i = 0; i < reference.length; i++) {
    const expected = ((reference[i] + current[i]) * currentTotal) / grand;
    if (expected < CHI_SQUARE_MIN_EXPECTED) {
      pooledReference += reference[i];
      pooledCurrent += current[i];
    } else {
      keptReference.push(reference[i]);
      keptCurrent.push(current[i]);
    }
  }
  keptReference.push(pooledReference);
  keptCurrent.push(pooledCurrent);
  return chiSquareHomogeneity([keptReference, keptCurrent]);
}

/** Drift of one categorical column. Categories the profile does not list share one "unlisted" bin with its `otherCount`. */
export function categoricalDrift(profile: CategoricalFeatureProfile, window: CategoricalWindowAggregate, column = 'value'): CategoricalDrift {
  assertCount(window.missingCount, `missingCount of "${column}"`);
  const listed = Object.keys(profile.categoryCounts);
  const reference = [...listed.map((c) => profile.categoryCounts[c]), profile.otherCount];
  const current = [...listed.map((c) => countOf(window.categoryCounts, c)), 0];
  const unseen: UnseenCategory[] = [];
  let windowCount = 0;
  for (const [category, count] of Object.entries(window.categoryCounts)) {
    assertCount(count, `categoryCounts["${category}"] of "${column}"`);
    windowCount += count;
    if (!Object.hasOwn(profile.categoryCounts, category) && count > 0) {
      current[current.length - 1] += count;
      unseen.push({ category, count, share: 0 });
    }
  }
  for (const u of unseen) u.share = u.count / windowCount;
  unseen.sort((a, b) => b.count - a.count || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  const unseenShare = windowCount > 0 ? current[current.length - 1] / windowCount : 0;
  const referenceOtherShare = profile.count > 0 ? profile.otherCount / profile.count : 0;
  const bothHaveValues = profile.count > 0 && windowCount > 0;
  return {
    kind: 'categorical',
    referenceCount: profile.count,
    windowTotal: windowCount + window.missingCount,
    windowCount,
    missing: missingRateDrift(profile, window.missingCount, windowCount),
    psi: bothHaveValues ? populationStabilityIndex(reference, current) : null,
    jsDistance: bothHaveValues ? jensenShannonDistance(reference, current) : null,
    chiSquare: bothHaveValues ? pooledChiSquare(reference, current) : null,
    unseen: {
      share: unseenShare,
      referenceOtherShare,
      excessShare: Math.max(0, unseenShare - referenceOtherShare),
      distinctCount: unseen.length,
      top: unseen.slice(0, UNSEEN_CATEGORIES_REPORTED),
    },
  };
}

/** Drift of one column of either kind; the aggregate's kind must match the profile's. */
export function columnDrift(profile: FeatureProfile, window: FeatureWindowAggregate, column = 'value'): ColumnDrift {
  if (profile.kind === 'numeric' && window.kind === 'numeric') return numericDrift(profile, window, column);
  if (profile.kind === 'categorical' && window.kind === 'categorical') return categoricalDrift(profile, window, column);
  throw new ValidationError(`"${column}" is ${profile.kind} in the training profile but its window aggregate is ${window.kind}`);
}

function driftOfColumns(profiles: Record<string, FeatureProfile>, windows: Record<string, FeatureWindowAggregate>) {
  const drift: Record<string, ColumnDrift> = {};
  const missing: string[] = [];
  for (const [name, profile] of Object.entries(profiles)) {
    if (Object.hasOwn(windows, name)) drift[name] = columnDrift(profile, windows[name], name);
    else missing.push(name);
  }
  const unprofiled = Object.keys(windows).filter((name) => !Object.hasOwn(profiles, name));
  return { drift, missing, unprofiled };
}

/** Drift numbers for every profiled feature and output column of one window. */
export function computeDrift(profile: TrainingProfile, window: WindowAggregates): DriftReport {
  const features = driftOfColumns(profile.features, window.features);
  const outputs = driftOfColumns(profile.output?.columns ?? {}, window.outputs);
  return {
    features: features.drift,
    outputs: outputs.drift,
    missingFeatures: features.missing,
    missingOutputs: outputs.missing,
    unprofiledFeatures: features.unprofiled,
    unprofiledOutputs: outputs.unprofiled,
  };
}
