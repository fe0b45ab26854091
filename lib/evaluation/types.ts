// Shared data shapes of the evaluation library: inputs, gate configuration and gate results.
// Temporal-free and JSON-friendly, so activities and workflows can pass them as payloads.

import type { PairedBootstrapResult } from './bootstrap.js';
import type { MetricName } from './metrics.js';

/** Any array of numbers: number[] (what a JSON payload carries), Float64Array, Float32Array, Int32Array... */
export type NumericArray = ArrayLike<number>;

export type TaskKind = 'binary' | 'multiclass' | 'regression';

// ---- Gate configuration (declared per model) ----

/** The metric must be >= min and/or <= max on the whole test set. */
export interface MetricThresholdGate {
  readonly metric: MetricName;
  readonly min?: number;
  readonly max?: number;
}

/**
 * The candidate must beat a naive predictor (class frequencies / majority class for
 * classification, the mean for regression): strictly better, and by at least minImprovement.
 */
export interface BaselineGate {
  readonly metric: MetricName;
  /** In metric units, >= 0; default 0. */
  readonly minImprovement?: number;
}

/**
 * The candidate must not be worse than the production version by more than `margin`
 * (metric units), judged on the worst end of a paired bootstrap interval of the difference.
 */
export interface ChampionGate {
  readonly metric: MetricName;
  readonly margin: number;
  readonly confidence?: number;
  readonly resamples?: number;
  readonly seed?: number;
}

/** Across the groups of one column, best minus worst metric must be <= maxGap. */
export interface SliceGapGate {
  readonly column: string;
  readonly metric: MetricName;
  readonly maxGap: number;
  /** Groups with fewer rows are listed but not compared (their metric is noise); default 30. */
  readonly minRows?: number;
}

/** Every prediction on the probe rows must be finite (and a probability, for classifiers). */
export interface RobustnessGate {
  /** Probe names that must be present; default STANDARD_ROBUSTNESS_PROBES. */
  readonly requiredProbes?: readonly string[];
}

export interface LatencyGate {
  /** Budget for the nearest-rank 99th percentile of the latency samples. */
  readonly maxP99Ms: number;
  /** Fewer samples fail the gate: a p99 of a handful of calls is just their maximum. Default 100. */
  readonly minSamples?: number;
}

export interface SizeGate {
  readonly maxBytes: number;
}

export interface GateConfig {
  /** Binary decision threshold for label metrics (accuracy, F1...) in every gate; default 0.5. */
  readonly threshold?: number;
  readonly metrics?: readonly MetricThresholdGate[];
  readonly baseline?: readonly BaselineGate[];
  readonly champion?: readonly ChampionGate[];
  readonly slices?: readonly SliceGapGate[];
  readonly robustness?: RobustnessGate;
  readonly latency?: LatencyGate;
  readonly size?: SizeGate;
}

// ---- Gate inputs (computed before the gates run) ----

/** Predictions the candidate made on crafted rows (missing values, extremes, unseen categories...). */
export interface RobustnessProbe {
  readonly name: string;
  readonly predictions: NumericArray;
}

/** The naive predictor's constant output, ideally from the training data; default: from yTrue. */
export type NaiveBaseline =
  | { readonly classFrequencies: readonly number[] }
  | { readonly mean: number };

export type GroupValue = string | number | boolean | null;

export interface GateInputs {
  readonly task: TaskKind;
  readonly yTrue: NumericArray;
  /** Candidate probabilities (classification, n or n*K) or predictions (regression). */
  readonly candidate: NumericArray;
  /**
   * The production version's outputs on the same rows. `null` means there is no
   * production version yet (champion gates pass, marked skipped); leaving it out while
   * a champion gate is declared fails that gate, so a lost input never passes silently.
   */
  readonly champion?: NumericArray | null;
  readonly naiveBaseline?: NaiveBaseline;
  /** Group columns for slice gates, row-aligned with yTrue. */
  readonly groups?: Readonly<Record<string, ArrayLike<GroupValue>>>;
  readonly robustnessProbes?: readonly RobustnessProbe[];
  readonly latencyMs?: NumericArray;
  readonly sizeBytes?: number;
}

// ---- Gate results ----

interface GateOutcome<Kind extends string, Details> {
  readonly kind: Kind;
  readonly name: string;
  readonly passed: boolean;
  /** One line with the numbers, for people. */
  readonly summary: string;
  /** Why the gate could not be computed (missing input, undefined metric), else null. */
  readonly error: string | null;
  readonly details: Details;
}

export type MetricGateResult = GateOutcome<'metric', {
  readonly metric: MetricName;
  readonly value: number | null;
  readonly min: number | null;
  readonly max: number | null;
}>;

export type BaselineGateResult = GateOutcome<'baseline', {
  readonly metric: MetricName;
  readonly naivePredictor: string;
  readonly candidate: number | null;
  readonly baseline: number | null;
  /** Positive = candidate better, whatever the metric's direction. */
  readonly improvement: number | null;
  readonly minImprovement: number;
}>;

export type ChampionGateResult = GateOutcome<'champion', {
  readonly metric: MetricName;
  readonly margin: number;
  /** True when there is no production version to compare with. */
  readonly skipped: boolean;
  readonly bootstrap: PairedBootstrapResult | null;
  /** The interval bound the decision used (lower for higher-is-better metrics, else upper). */
  readonly worstPlausibleDiff: number | null;
}>;

export interface SliceGroupResult {
  readonly value: string | null;
  readonly rows: number;
  readonly metric: number | null;
  /** Why the group was not compared, else null. */
  readonly note: string | null;
}

export type SliceGateResult = GateOutcome<'slice', {
  readonly column: string;
  readonly metric: MetricName;
  readonly maxGap: number;
  readonly minRows: number;
  readonly gap: number | null;
  readonly best: string | null;
  readonly worst: string | null;
  readonly groups: readonly SliceGroupResult[];
}>;

export interface RobustnessProbeResult {
  readonly name: string;
  readonly rows: number;
  readonly nonFinite: number;
  /** Classifier outputs outside [0, 1]. */
  readonly outOfRange: number;
  readonly firstBadRow: number | null;
}

export type RobustnessGateResult = GateOutcome<'robustness', {
  readonly probes: readonly RobustnessProbeResult[];
  readonly missingProbes: readonly string[];
}>;

export type LatencyGateResult = GateOutcome<'latency', {
  readonly samples: number;
  readonly minSamples: number;
  readonly p99Ms: number | null;
  readonly maxP99Ms: number;
}>;

export type SizeGateResult = GateOutcome<'size', {
  readonly sizeBytes: number | null;
  readonly maxBytes: number;
}>;

export type GateResult =
  | MetricGateResult
  | BaselineGateResult
  | ChampionGateResult
  | SliceGateResult
  | RobustnessGateResult
  | LatencyGateResult
  | SizeGateResult;

export type GateKind = GateResult['kind'];

export interface GateReport {
  /** True when every gate passed. */
  readonly passed: boolean;
  readonly gates: readonly GateResult[];
}
