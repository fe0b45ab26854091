// The training profile stored with every model version (jsonb): what each feature and the model's output looked like in training.

import { ValidationError } from '../errors.js';
import { quantileBinEdges, countIntoBins, quantileOfSorted, quantileSketch } from './binning.js';
import { countCategories, splitNumbers } from './column-values.js';
import type { RawColumn } from './column-values.js';

export const PROFILE_FORMAT_VERSION = 1;

/**
 * A numeric feature in training. All numbers are finite and the object is plain JSON.
 * `binEdges` are Postgres `width_bucket` thresholds: bin i holds edges[i-1] <= x < edges[i], bin 0
 * everything below edges[0] (the training min) and the last bin everything at or above the final
 * edge (just above the training max). Pass them to SQL as float8[] unchanged.
 */
export interface NumericFeatureProfile {
  kind: 'numeric';
  /** Rows with a value. */
  count: number;
  missingCount: number;
  /** Summary numbers; null when the column had no values. Standard deviation is the sample (n − 1) one. */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Interquartile range q75 − q25, the scale that makes Wasserstein distances unitless. */
  iqr: number | null;
  binEdges: number[];
  /** Training rows per bin; length binEdges.length + 1. */
  binCounts: number[];
  /** Quantile sketch at `quantileLevels(quantiles.length)` (midpoints (i + 0.5)/n); empty without values. */
  quantiles: number[];
}

/** A categorical feature in training. */
export interface CategoricalFeatureProfile {
  kind: 'categorical';
  /** Rows with a value. */
  count: number;
  missingCount: number;
  /** Training rows per category, for the most frequent `maxCategories` categories. */
  categoryCounts: Record<string, number>;
  /** Rows in categories beyond `maxCategories`; 0 unless the column had more distinct values than that. */
  otherCount: number;
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;
export type FeatureKind = FeatureProfile['kind'];

export type ModelTask = 'classification' | 'regression';

/**
 * The model's output in training, as named columns profiled like features: `predicted_class`
 * (categorical) and `probability:<class>` (numeric) for classifiers, `prediction` for regressors.
 */
export interface OutputProfile {
  task: ModelTask;
  columns: Record<string, FeatureProfile>;
}

export interface TrainingProfile {
  formatVersion: typeof PROFILE_FORMAT_VERSION;
  features: Record<string, FeatureProfile>;
  output: OutputProfile | null;
}

export interface ProfileOptions {
  /** Quantile bins for numeric features (PSI, binned KS). 10 is the usual PSI choice: ≥10% of the reference per bin keeps bin shares stable. */
  bins: number;
  /** Points in each quantile sketch (KS, Wasserstein). 100 gives a 1% resolution in KS. */
  sketchSize: number;
  /** Categories kept by name per categorical column; rarer ones are pooled in `otherCount`. */
  maxCategories: number;
}

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = { bins: 10, sketchSize: 100, maxCategories: 1000 };

export type FeatureColumn = { kind: 'numeric'; values: RawColumn } | { kind: 'categorical'; values: RawColumn };

/** The model's outputs on the training (or evaluation) rows. */
export type OutputColumns =
  | { task: 'classification'; predictedClass: RawColumn; probabilities?: Record<string, RawColumn> }
  | { task: 'regression'; prediction: RawColumn };

export const PREDICTED_CLASS_COLUMN = 'predicted_class';
export const PREDICTION_COLUMN = 'prediction';

/** The output column holding the probability of one class. */
export function probabilityColumn(className: string): string {
  return `probability:${className}`;
}

/** Output columns under the names the profile uses, so the profile and the window name them the same way. */
export function outputColumnsAsFeatures(output: OutputColumns): Record<string, FeatureColumn> {
  if (output.task === 'regression') return { [PREDICTION_COLUMN]: { kind: 'numeric', values: output.prediction } };
  const columns: Record<string, FeatureColumn> = {
    [PREDICTED_CLASS_COLUMN]: { kind: 'categorical', values: output.predictedClass },
  };
  for (const [className, values] of Object.entries(output.probabilities ?? {})) {
    columns[probabilityColumn(className)] = { kind: 'numeric', values };
  }
  return columns;
}

function withDefaults(options: Partial<ProfileOptions> | undefined): ProfileOptions {
  const resolved = { ...DEFAULT_PROFILE_OPTIONS, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`profile option ${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}

/** Profile of one numeric column. */
export function buildNumericProfile(values: RawColumn, options?: Partial<ProfileOptions>, column = 'value'): NumericFeatureProfile {
  const { bins, sketchSize } = withDefaults(options);
  const { present, missingCount } = splitNumbers(values, column);
  const sorted = present.slice().sort();
  const count = sorted.length;
  if (count === 0) {
    return { kind: 'numeric', count, missingCount, min: null, max: null, mean: null, std: null, iqr: null, binEdges: [], binCounts: [0], quantiles: [] };
  }
  let total = 0;
  for (const v of sorted) total += v;
  const mean = total / count;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) * (v - mean);
  const binEdges = quantileBinEdges(sorted, bins);
  return {
    kind: 'numeric',
    count,
    missingCount,
    min: sorted[0],
    max: sorted[count - 1],
    mean,
    std: count > 1 ? Math.sqrt(squares / (count - 1)) : 0,
    iqr: quantileOfSorted(sorted, 0.75) - quantileOfSorted(sorted, 0.25),
    binEdges,
    binCounts: countIntoBins(binEdges, sorted),
    quantiles: quantileSketch(sorted, sketchSize),
  };
}

/** Profile of one categorical column. */
export function buildCategoricalProfile(values: RawColumn, options?: Partial<ProfileOptions>): CategoricalFeatureProfile {
  const { maxCategories } = withDefaults(options);
  const { counts, missingCount } = countCategories(values);
  // Most frequent first, ties by name, so the same data always keeps the same categories.
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = ranked.slice(0, maxCategories);
  let count = 0;
  for (const [, n] of ranked) count += n;
  let keptCount = 0;
  for (const [, n] of kept) keptCount += n;
  return {
    kind: 'categorical',
    count,
    missingCount,
    // fromEntries defines own properties, so a category called "__proto__" stays a category.
    categoryCounts: Object.fromEntries(kept),
    otherCount: count - keptCount,
  };
}

export function buildFeatureProfile(column: FeatureColumn, options?: Partial<ProfileOptions>, name = 'value'): FeatureProfile {
  return column.kind === 'numeric' ? buildNumericProfile(column.values, options, name) : buildCategoricalProfile(column.values, options);
}

function profileColumns(columns: Record<string, FeatureColumn>, options?: Partial<ProfileOptions>): Record<string, FeatureProfile> {
  return Object.fromEntries(Object.entries(columns).map(([name, column]) => [name, buildFeatureProfile(column, options, name)]));
}

/** The training profile of a model version, from its training columns and the model's outputs on them. */
export function buildTrainingProfile(
  data: { features: Record<string, FeatureColumn>; output?: OutputColumns },
  options?: Partial<ProfileOptions>,
): TrainingProfile {
  const lengths = new Set(Object.values(data.features).map((column) => column.values.length));
  if (lengths.size > 1) throw new ValidationError(`training feature columns differ in length (${[...lengths].join(', ')} rows); pass one value per row for every feature`);
  return {
    formatVersion: PROFILE_FORMAT_VERSION,
    features: profileColumns(data.features, options),
    output: data.output ? { task: data.output.task, columns: profileColumns(outputColumnsAsFeatures(data.output), options) } : null,
  };
}
