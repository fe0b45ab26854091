// Aggregates of a window of the prediction log: what SQL hands to the drift computation (and how to build them from raw arrays).

import { countIntoBins, quantileSketch } from './binning.js';
import { countCategories, splitNumbers } from './column-values.js';
import type { RawColumn } from './column-values.js';
import { outputColumnsAsFeatures } from './profile.js';
import type { FeatureProfile, NumericFeatureProfile, OutputColumns, TrainingProfile } from './profile.js';

/**
 * A numeric column over the window, cut with the profile's own edges. In SQL:
 * `count(*) FILTER (WHERE x IS NULL)`, `width_bucket(x, :binEdges::float8[])` grouped and counted
 * (bucket i is binCounts[i]), and `percentile_cont(:levels::float8[]) WITHIN GROUP (ORDER BY x)`
 * with levels = quantileLevels(profile.quantiles.length). Non-finite values count as missing.
 */
export interface NumericWindowAggregate {
  kind: 'numeric';
  missingCount: number;
  /** Rows per profile bin; length profile.binEdges.length + 1. Their sum is the window's count of values. */
  binCounts: number[];
  /** Quantile sketch at the profile's levels; null when the window has no values or SQL skipped it (KS then falls back to bins). */
  quantiles: number[] | null;
}

/** A categorical column over the window: `GROUP BY x` counts; build the record with Object.fromEntries. */
export interface CategoricalWindowAggregate {
  kind: 'categorical';
  missingCount: number;
  categoryCounts: Record<string, number>;
}

export type FeatureWindowAggregate = NumericWindowAggregate | CategoricalWindowAggregate;

export interface WindowAggregates {
  features: Record<string, FeatureWindowAggregate>;
  /** Output columns under the profile's names (`predicted_class`, `probability:<class>`, `prediction`). */
  outputs: Record<string, FeatureWindowAggregate>;
}

export function aggregateNumericWindow(profile: NumericFeatureProfile, values: RawColumn, column = 'value'): NumericWindowAggregate {
  const { present, missingCount } = splitNumbers(values, column);
  const sketchSize = profile.quantiles.length;
  return {
    kind: 'numeric',
    missingCount,
    binCounts: countIntoBins(profile.binEdges, present),
    quantiles: present.length > 0 && sketchSize > 0 ? quantileSketch(present.slice().sort(), sketchSize) : null,
  };
}

export function aggregateCategoricalWindow(values: RawColumn): CategoricalWindowAggregate {
  const { counts, missingCount } = countCategories(values);
  return { kind: 'categorical', missingCount, categoryCounts: Object.fromEntries(counts) };
}

export function aggregateFeatureWindow(profile: FeatureProfile, values: RawColumn, column = 'value'): FeatureWindowAggregate {
  return profile.kind === 'numeric' ? aggregateNumericWindow(profile, values, column) : aggregateCategoricalWindow(values);
}

function aggregateColumns(profiles: Record<string, FeatureProfile>, columns: Record<string, RawColumn>): Record<string, FeatureWindowAggregate> {
  const aggregates: Record<string, FeatureWindowAggregate> = {};
  for (const [name, values] of Object.entries(columns)) {
    if (!Object.hasOwn(profiles, name)) continue;
    aggregates[name] = aggregateFeatureWindow(profiles[name], values, name);
  }
  return aggregates;
}

/**
 * Window aggregates from raw columns, for tests and windows small enough to hold in memory.
 * Columns the profile does not know are skipped: without reference edges there is nothing to compare.
 */
export function aggregateWindow(
  profile: TrainingProfile,
  window: { features: Record<string, RawColumn>; output?: OutputColumns },
): WindowAggregates {
  const outputs = window.output
    ? Object.fromEntries(Object.entries(outputColumnsAsFeatures(window.output)).map(([name, column]) => [name, column.values]))
    : {};
  return {
    features: aggregateColumns(profile.features, window.features),
    outputs: aggregateColumns(profile.output?.columns ?? {}, outputs),
  };
}
