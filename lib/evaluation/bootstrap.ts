// Paired bootstrap of a metric difference between a candidate and a baseline on the same rows.

import { EvaluationInputError, UndefinedMetricError } from './errors.js';
import { computeMetric, higherIsBetter as metricHigherIsBetter } from './metrics.js';
import type { MetricName, MetricOptions } from './metrics.js';
import { interpolatedQuantile } from './quantile.js';
import { seededRandom } from '../util/random.js';
import type { NumericArray, TaskKind } from './types.js';

export interface BootstrapOptions {
  /** Number of resamples; default 1000. */
  readonly resamples?: number;
  /** Two-sided confidence level of the interval; default 0.95. */
  readonly confidence?: number;
  /** PRNG seed; the same seed and data give the same interval. Default 0. */
  readonly seed?: number;
  /**
   * Called every 50 resamples and at the end, e.g. to heartbeat a Temporal activity;
   * a bootstrap of ROC AUC on 10k rows takes a few seconds.
   */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PairedBootstrapResult {
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** The metric on the full test set. */
  readonly candidate: number;
  readonly baseline: number;
  /** candidate - baseline on the full test set. */
  readonly observedDiff: number;
  /** Mean of candidate - baseline over the resamples. */
  readonly meanDiff: number;
  /** Percentile interval of candidate - baseline at `confidence`. */
  readonly lower: number;
  readonly upper: number;
  readonly confidence: number;
  /** Resamples that produced a difference. */
  readonly resamples: number;
  /**
   * Resamples left out because the metric was undefined on them (e.g. a resample with
   * a single class for ROC AUC); the interval is conditional on the others.
   */
  readonly skipped: number;
  readonly seed: number;
}

/** A statistic of the rows at `indices` (indices may repeat). */
export type IndexedStatistic = (indices: Uint32Array) => number;

export interface PairedBootstrapInput extends BootstrapOptions {
  readonly rows: number;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly candidate: IndexedStatistic;
  readonly baseline: IndexedStatistic;
}

/**
 * Resamples rows with replacement and evaluates both statistics on the same resample
 * each time ("paired"), so the difference's interval is much tighter than comparing
 * two independent intervals: both models share the luck of the draw.
 */
export function pairedBootstrap(input: PairedBootstrapInput): PairedBootstrapResult {
  const resamples = input.resamples ?? 1000;
  const confidence = input.confidence ?? 0.95;
  const seed = input.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new EvaluationInputError(`bootstrap resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new EvaluationInputError(`bootstrap confidence must be in (0, 1), got ${confidence}`);
  }
  if (!Number.isInteger(input.rows) || input.rows < 1) {
    throw new EvaluationInputError(`bootstrap needs at least one row, got ${input.rows}`);
  }

  const all = new Uint32Array(input.rows);
  for (let i = 0; i < input.rows; i++) all[i] = i;
  const candidate = input.candidate(all);
  const baseline = input.baseline(all);

  const random = seededRandom(seed);
  const diffs: number[] = [];
  const indices = new Uint32Array(input.rows);
  let skipped = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < input.rows; i++) indices[i] = Math.floor(random() * input.rows);
    try {
      diffs.push(input.candidate(indices) - input.baseline(indices));
    } catch (error) {
      if (!(error instanceof UndefinedMetricError)) throw error;
      skipped++;
    }
    if (input.onProgress && ((r + 1) % 50 === 0 || r + 1 === resamples)) input.onProgress(r + 1, resamples);
  }
  if (diffs.length === 0) {
    throw new UndefinedMetricError(
      `${input.metric} was undefined on every bootstrap resample; the test set is too small or too unbalanced`,
    );
  }

  const alpha = 1 - confidence;
  return {
    metric: input.metric,
    higherIsBetter: input.higherIsBetter,
    candidate,
    baseline,
    observedDiff: candidate - baseline,
    meanDiff: diffs.reduce((a, b) => a + b, 0) / diffs.length,
    lower: interpolatedQuantile(diffs, alpha / 2),
    upper: interpolatedQuantile(diffs, 1 - alpha / 2),
    confidence,
    resamples: diffs.length,
    skipped,
    seed,
  };
}

export interface PairedMetricBootstrapInput extends BootstrapOptions, MetricOptions {
  readonly metric: MetricName;
  readonly task: TaskKind;
  readonly yTrue: NumericArray;
  /** Probabilities (classification) or predictions (regression) of the candidate, row-aligned with yTrue. */
  readonly candidate: NumericArray;
  /** The same for the baseline (e.g. the production model), on the same rows. */
  readonly baseline: NumericArray;
}

/** Copies the rows at `indices` (width values per row), keeping Float32 inputs Float32 (log loss's eps depends on it). */
function gatherRows(values: NumericArray, width: number, indices: Uint32Array): Float64Array | Float32Array {
  const out = values instanceof Float32Array ? new Float32Array(indices.length * width) : new Float64Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i] * width;
    for (let k = 0; k < width; k++) out[i * width + k] = values[from + k];
  }
  return out;
}

/** Paired bootstrap of a named metric (candidate minus baseline) on a shared test set. */
export function pairedBootstrapMetric(input: PairedMetricBootstrapInput): PairedBootstrapResult {
  const { metric, task, yTrue, resamples, confidence, seed, onProgress } = input;
  const rows = yTrue.length;
  if (input.candidate.length !== input.baseline.length) {
    throw new EvaluationInputError(
      `candidate has ${input.candidate.length} outputs but baseline has ${input.baseline.length}; both must score the same rows`,
    );
  }
  const width = rows > 0 ? input.candidate.length / rows : 0;
  const options: MetricOptions = { threshold: input.threshold, zeroTargets: input.zeroTargets };
  const statistic =
    (output: NumericArray): IndexedStatistic =>
    (indices) =>
      computeMetric(metric, task, gatherRows(yTrue, 1, indices), gatherRows(output, width, indices), options);
  return pairedBootstrap({
    rows,
    metric,
    higherIsBetter: metricHigherIsBetter(metric),
    candidate: statistic(input.candidate),
    baseline: statistic(input.baseline),
    resamples,
    confidence,
    seed,
    onProgress,
  });
}

/**
 * True when the candidate is, at the interval's confidence, no worse than the baseline by
 * more than `margin` (in metric units): for higher-is-better metrics the lower bound of
 * candidate - baseline must be >= -margin; for lower-is-better ones the upper bound <= margin.
 */
export function notWorseThan(result: PairedBootstrapResult, margin: number): boolean {
  if (!(margin >= 0)) throw new EvaluationInputError(`margin must be >= 0, got ${margin}`);
  return result.higherIsBetter ? result.lower >= -margin : result.upper <= margin;
}

/** The interval bound that decides notWorseThan: the worst plausible difference. */
export function worstPlausibleDiff(result: PairedBootstrapResult): number {
  return result.higherIsBetter ? result.lower : result.upper;
}
