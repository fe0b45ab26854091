// Release gates: pure checks of a candidate's already-computed outputs against a declared GateConfig.

import { notWorseThan, pairedBootstrapMetric, worstPlausibleDiff } from './bootstrap.js';
import { EvaluationInputError, UndefinedMetricError } from './errors.js';
import { formatBytes, formatNumber } from './format.js';
import { classLabels, probabilityLayout } from './inputs.js';
import { assertMetricFits, computeMetric, higherIsBetter, isMetricName, METRIC_NAMES } from './metrics.js';
import type { MetricOptions } from './metrics.js';
import { nearestRankQuantile } from './quantile.js';
import type {
  BaselineGate,
  BaselineGateResult,
  ChampionGate,
  ChampionGateResult,
  GateConfig,
  GateInputs,
  GateReport,
  GateResult,
  GroupValue,
  LatencyGate,
  LatencyGateResult,
  MetricGateResult,
  MetricThresholdGate,
  NumericArray,
  RobustnessGate,
  RobustnessGateResult,
  RobustnessProbeResult,
  SizeGate,
  SizeGateResult,
  SliceGapGate,
  SliceGateResult,
  SliceGroupResult,
} from './types.js';

export const STANDARD_ROBUSTNESS_PROBES: readonly string[] = ['missing_values', 'extreme_values', 'unseen_categories'];
const DEFAULT_SLICE_MIN_ROWS = 30;
const DEFAULT_LATENCY_MIN_SAMPLES = 100;

/**
 * Runs every gate the config declares, in a fixed order (metrics, baseline, champion,
 * slices, robustness, latency, size). A malformed config throws EvaluationInputError;
 * missing or unusable data fails the gate concerned with an `error` saying why.
 * An empty config declares no gates and passes.
 */
export function evaluateGates(config: GateConfig, inputs: GateInputs): GateReport {
  validateGateConfig(config);
  const options: MetricOptions = { threshold: config.threshold };
  const gates: GateResult[] = [
    ...(config.metrics ?? []).map((g) => metricGate(g, inputs, options)),
    ...(config.baseline ?? []).map((g) => baselineGate(g, inputs, options)),
    ...(config.champion ?? []).map((g) => championGate(g, inputs, options)),
    ...(config.slices ?? []).map((g) => sliceGapGate(g, inputs, options)),
  ];
  if (config.robustness) gates.push(robustnessGate(config.robustness, inputs));
  if (config.latency) gates.push(latencyGate(config.latency, inputs));
  if (config.size) gates.push(sizeGate(config.size, inputs));
  return { passed: gates.every((g) => g.passed), gates };
}

/** Throws EvaluationInputError naming the first thing wrong with a gate config. */
export function validateGateConfig(config: GateConfig): void {
  const fail = (where: string, what: string): never => {
    throw new EvaluationInputError(`gate config ${where}: ${what}`);
  };
  const metric = (where: string, name: string): void => {
    if (!isMetricName(name)) fail(where, `unknown metric "${name}"; known metrics: ${METRIC_NAMES.join(', ')}`);
  };
  const nonNegative = (where: string, field: string, value: number | undefined): void => {
    if (value !== undefined && !(value >= 0)) fail(where, `${field} must be a number >= 0, got ${value}`);
  };
  if (config.threshold !== undefined && !(config.threshold >= 0 && config.threshold <= 1)) {
    fail('threshold', `must be in [0, 1], got ${config.threshold}`);
  }
  config.metrics?.forEach((g, i) => {
    const where = `metrics[${i}]`;
    metric(where, g.metric);
    if (g.min === undefined && g.max === undefined) fail(where, 'declare min, max or both');
    if (g.min !== undefined && g.max !== undefined && g.min > g.max) fail(where, `min ${g.min} > max ${g.max}`);
  });
  config.baseline?.forEach((g, i) => {
    metric(`baseline[${i}]`, g.metric);
    nonNegative(`baseline[${i}]`, 'minImprovement', g.minImprovement);
  });
  config.champion?.forEach((g, i) => {
    const where = `champion[${i}]`;
    metric(where, g.metric);
    if (g.margin === undefined) fail(where, 'margin is required (0 = must not be worse at all)');
    nonNegative(where, 'margin', g.margin);
    if (g.confidence !== undefined && !(g.confidence > 0 && g.confidence < 1)) {
      fail(where, `confidence must be in (0, 1), got ${g.confidence}`);
    }
  });
  config.slices?.forEach((g, i) => {
    const where = `slices[${i}]`;
    metric(where, g.metric);
    if (!g.column) fail(where, 'column is required');
    nonNegative(where, 'maxGap', g.maxGap);
    if (g.maxGap === undefined) fail(where, 'maxGap is required');
    nonNegative(where, 'minRows', g.minRows);
  });
  if (config.latency) {
    if (!(config.latency.maxP99Ms > 0)) fail('latency', `maxP99Ms must be > 0, got ${config.latency.maxP99Ms}`);
    nonNegative('latency', 'minSamples', config.latency.minSamples);
  }
  if (config.size && !(config.size.maxBytes > 0)) fail('size', `maxBytes must be > 0, got ${config.size.maxBytes}`);
}

/** Runs `compute`, turning data problems (not bugs) into a message for a failed gate. */
function attempt<T>(compute: () => T): { value: T; error: null } | { value: null; error: string } {
  try {
    return { value: compute(), error: null };
  } catch (error) {
    if (error instanceof EvaluationInputError || error instanceof UndefinedMetricError) {
      return { value: null, error: error.message };
    }
    throw error;
  }
}

function metricGate(gate: MetricThresholdGate, inputs: GateInputs, options: MetricOptions): MetricGateResult {
  const bounds = [gate.min !== undefined ? `>= ${gate.min}` : null, gate.max !== undefined ? `<= ${gate.max}` : null]
    .filter((b) => b !== null)
    .join(' and ');
  const name = `${gate.metric} ${bounds}`;
  const { value, error } = attempt(() => computeMetric(gate.metric, inputs.task, inputs.yTrue, inputs.candidate, options));
  const passed =
    value !== null && (gate.min === undefined || value >= gate.min) && (gate.max === undefined || value <= gate.max);
  return {
    kind: 'metric',
    name,
    passed,
    summary: error ?? `${gate.metric} = ${formatNumber(value)}, required ${bounds}`,
    error,
    details: { metric: gate.metric, value, min: gate.min ?? null, max: gate.max ?? null },
  };
}

/** The naive predictor's outputs in the candidate's own layout, and what it is called in the report. */
function naiveOutputs(inputs: GateInputs): { outputs: Float64Array; description: string } {
  const rows = inputs.yTrue.length;
  if (inputs.task === 'regression') {
    let mean: number;
    if (inputs.naiveBaseline && 'mean' in inputs.naiveBaseline) {
      mean = inputs.naiveBaseline.mean;
    } else {
      if (rows === 0) throw new EvaluationInputError('no rows to evaluate (y_true is empty)');
      mean = 0;
      for (let i = 0; i < rows; i++) mean += inputs.yTrue[i];
      mean /= rows;
    }
    return { outputs: new Float64Array(rows).fill(mean), description: `constant mean ${formatNumber(mean)}` };
  }
  const layout = probabilityLayout(rows, inputs.candidate.length);
  const K = layout.numClasses;
  let frequencies: readonly number[];
  if (inputs.naiveBaseline && 'classFrequencies' in inputs.naiveBaseline) {
    frequencies = inputs.naiveBaseline.classFrequencies;
    if (frequencies.length !== K) {
      throw new EvaluationInputError(`naiveBaseline.classFrequencies has ${frequencies.length} values for ${K} classes`);
    }
  } else {
    const counts = new Array<number>(K).fill(0);
    for (const y of classLabels(inputs.yTrue, K)) counts[y]++;
    frequencies = counts.map((c) => c / rows);
  }
  const majority = frequencies.indexOf(Math.max(...frequencies));
  const description = `class frequencies [${frequencies.map(formatNumber).join(', ')}] (majority class ${majority})`;
  if (layout.kind === 'positive') return { outputs: new Float64Array(rows).fill(frequencies[1]), description };
  const outputs = new Float64Array(rows * K);
  for (let i = 0; i < rows; i++) for (let k = 0; k < K; k++) outputs[i * K + k] = frequencies[k];
  return { outputs, description };
}

function baselineGate(gate: BaselineGate, inputs: GateInputs, options: MetricOptions): BaselineGateResult {
  const minImprovement = gate.minImprovement ?? 0;
  const naive = attempt(() => naiveOutputs(inputs));
  const scores = attempt(() => {
    if (naive.value === null) throw new EvaluationInputError(naive.error ?? 'no naive baseline');
    return {
      candidate: computeMetric(gate.metric, inputs.task, inputs.yTrue, inputs.candidate, options),
      baseline: computeMetric(gate.metric, inputs.task, inputs.yTrue, naive.value.outputs, options),
    };
  });
  const s = scores.value;
  const improvement = s === null ? null : higherIsBetter(gate.metric) ? s.candidate - s.baseline : s.baseline - s.candidate;
  const passed = improvement !== null && improvement > 0 && improvement >= minImprovement;
  return {
    kind: 'baseline',
    name: `${gate.metric} beats naive baseline`,
    passed,
    summary:
      scores.error ??
      `${gate.metric}: candidate ${formatNumber(s?.candidate)} vs naive ${formatNumber(s?.baseline)} ` +
        `(improvement ${formatNumber(improvement)}, required > 0${minImprovement > 0 ? ` and >= ${minImprovement}` : ''})`,
    error: scores.error,
    details: {
      metric: gate.metric,
      naivePredictor: naive.value?.description ?? 'unavailable',
      candidate: s?.candidate ?? null,
      baseline: s?.baseline ?? null,
      improvement,
      minImprovement,
    },
  };
}

function championGate(gate: ChampionGate, inputs: GateInputs, options: MetricOptions): ChampionGateResult {
  const name = `${gate.metric} not worse than production`;
  const base = { kind: 'champion' as const, name };
  const details = { metric: gate.metric, margin: gate.margin };
  if (inputs.champion === null) {
    return {
      ...base,
      passed: true,
      summary: 'no production version yet; nothing to compare with',
      error: null,
      details: { ...details, skipped: true, bootstrap: null, worstPlausibleDiff: null },
    };
  }
  const champion = inputs.champion;
  const run = attempt(() => {
    if (champion === undefined) {
      throw new EvaluationInputError(
        "the production version's outputs were not provided (pass champion: null when there is no production version)",
      );
    }
    return pairedBootstrapMetric({
      metric: gate.metric,
      task: inputs.task,
      yTrue: inputs.yTrue,
      candidate: inputs.candidate,
      baseline: champion,
      ...options,
      confidence: gate.confidence,
      resamples: gate.resamples,
      seed: gate.seed,
    });
  });
  const result = run.value;
  const worst = result === null ? null : worstPlausibleDiff(result);
  const bound = result?.higherIsBetter === false ? 'upper' : 'lower';
  return {
    ...base,
    passed: result !== null && notWorseThan(result, gate.margin),
    summary:
      run.error ??
      `${gate.metric}: candidate ${formatNumber(result?.candidate)} vs production ${formatNumber(result?.baseline)}, ` +
        `difference ${formatNumber(result?.observedDiff)} (${formatNumber((result?.confidence ?? 0) * 100)}% CI ` +
        `${formatNumber(result?.lower)} to ${formatNumber(result?.upper)}); ${bound} bound must be ` +
        `${bound === 'lower' ? `>= -${gate.margin}` : `<= ${gate.margin}`}`,
    error: run.error,
    details: { ...details, skipped: false, bootstrap: result, worstPlausibleDiff: worst },
  };
}

function groupKey(value: GroupValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Rows of each group, in first-seen order so reports are stable. */
function rowsByGroup(column: ArrayLike<GroupValue>): Map<string | null, number[]> {
  const groups = new Map<string | null, number[]>();
  for (let i = 0; i < column.length; i++) {
    const key = groupKey(column[i]);
    let rows = groups.get(key);
    if (!rows) groups.set(key, (rows = []));
    rows.push(i);
  }
  return groups;
}

function gather(values: NumericArray, width: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * width);
  rows.forEach((row, i) => {
    for (let k = 0; k < width; k++) out[i * width + k] = values[row * width + k];
  });
  return out;
}

function sliceGapGate(gate: SliceGapGate, inputs: GateInputs, options: MetricOptions): SliceGateResult {
  const minRows = gate.minRows ?? DEFAULT_SLICE_MIN_ROWS;
  const name = `${gate.metric} gap across ${gate.column}`;
  const run = attempt(() => {
    const column = inputs.groups?.[gate.column];
    if (!column) throw new EvaluationInputError(`group column "${gate.column}" was not provided in inputs.groups`);
    if (column.length !== inputs.yTrue.length) {
      throw new EvaluationInputError(`group column "${gate.column}" has ${column.length} values for ${inputs.yTrue.length} rows`);
    }
    assertMetricFits(gate.metric, inputs.task, inputs.yTrue.length, inputs.candidate.length);
    const width = inputs.candidate.length / inputs.yTrue.length;
    const groups: SliceGroupResult[] = [];
    for (const [value, rows] of rowsByGroup(column)) {
      if (rows.length < minRows) {
        groups.push({ value, rows: rows.length, metric: null, note: `fewer than ${minRows} rows; not compared` });
        continue;
      }
      const metric = attempt(() =>
        computeMetric(gate.metric, inputs.task, gather(inputs.yTrue, 1, rows), gather(inputs.candidate, width, rows), options),
      );
      groups.push({ value, rows: rows.length, metric: metric.value, note: metric.error });
    }
    const compared = groups.filter((g) => g.metric !== null) as (SliceGroupResult & { metric: number })[];
    if (compared.length < 2) {
      throw new UndefinedMetricError(
        `fewer than two groups of "${gate.column}" have >= ${minRows} rows and a defined ${gate.metric}; ` +
          'evaluate on more data or lower minRows',
      );
    }
    const sorted = [...compared].sort((a, b) => a.metric - b.metric);
    const [low, high] = [sorted[0], sorted[sorted.length - 1]];
    const [worst, best] = higherIsBetter(gate.metric) ? [low, high] : [high, low];
    return { groups, gap: high.metric - low.metric, worst, best };
  });
  const r = run.value;
  return {
    kind: 'slice',
    name,
    passed: r !== null && r.gap <= gate.maxGap,
    summary:
      run.error ??
      `${gate.metric} ranges from ${formatNumber(r?.worst.metric)} (${gate.column} = ${r?.worst.value ?? 'missing'}) to ` +
        `${formatNumber(r?.best.metric)} (${gate.column} = ${r?.best.value ?? 'missing'}): gap ${formatNumber(r?.gap)}, ` +
        `allowed <= ${gate.maxGap}`,
    error: run.error,
    details: {
      column: gate.column,
      metric: gate.metric,
      maxGap: gate.maxGap,
      minRows,
      gap: r?.gap ?? null,
      best: r?.best.value ?? null,
      worst: r?.worst.value ?? null,
      groups: r?.groups ?? [],
    },
  };
}

function checkProbe(name: string, predictions: NumericArray, probabilities: boolean): RobustnessProbeResult {
  let nonFinite = 0, outOfRange = 0;
  let firstBadRow: number | null = null;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    const finite = Number.isFinite(p);
    const inRange = !probabilities || (p >= 0 && p <= 1);
    if (!finite) nonFinite++;
    else if (!inRange) outOfRange++;
    if ((!finite || !inRange) && firstBadRow === null) firstBadRow = i;
  }
  return { name, rows: predictions.length, nonFinite, outOfRange, firstBadRow };
}

function robustnessGate(gate: RobustnessGate, inputs: GateInputs): RobustnessGateResult {
  const probes = inputs.robustnessProbes ?? [];
  const required = gate.requiredProbes ?? STANDARD_ROBUSTNESS_PROBES;
  const present = new Set(probes.map((p) => p.name));
  const missingProbes = required.filter((name) => !present.has(name));
  const results = probes.map((p) => checkProbe(p.name, p.predictions, inputs.task !== 'regression'));
  const empty = results.filter((r) => r.rows === 0).map((r) => r.name);
  const bad = results.filter((r) => r.nonFinite + r.outOfRange > 0);
  const problems = [
    ...(missingProbes.length ? [`missing probes: ${missingProbes.join(', ')}`] : []),
    ...(empty.length ? [`probes without predictions: ${empty.join(', ')}`] : []),
    ...bad.map(
      (r) =>
        `${r.name}: ${r.nonFinite} non-finite and ${r.outOfRange} out-of-range predictions of ${r.rows} (first at row ${r.firstBadRow})`,
    ),
  ];
  return {
    kind: 'robustness',
    name: 'predictions stay finite on edge cases',
    passed: problems.length === 0,
    summary: problems.length ? problems.join('; ') : `all ${results.reduce((n, r) => n + r.rows, 0)} probe predictions are valid`,
    error: missingProbes.length || empty.length ? problems.join('; ') : null,
    details: { probes: results, missingProbes },
  };
}

function latencyGate(gate: LatencyGate, inputs: GateInputs): LatencyGateResult {
  const minSamples = gate.minSamples ?? DEFAULT_LATENCY_MIN_SAMPLES;
  const latencies = inputs.latencyMs ?? [];
  const samples = latencies.length;
  const run = attempt(() => {
    if (samples < Math.max(1, minSamples)) {
      throw new EvaluationInputError(
        `only ${samples} latency samples; at least ${minSamples} are needed for a meaningful p99 (measure more calls)`,
      );
    }
    return nearestRankQuantile(latencies, 0.99);
  });
  const p99Ms = run.value;
  return {
    kind: 'latency',
    name: 'p99 latency within budget',
    passed: p99Ms !== null && p99Ms <= gate.maxP99Ms,
    summary: run.error ?? `p99 ${formatNumber(p99Ms)} ms over ${samples} calls, budget ${gate.maxP99Ms} ms`,
    error: run.error,
    details: { samples, minSamples, p99Ms, maxP99Ms: gate.maxP99Ms },
  };
}

function sizeGate(gate: SizeGate, inputs: GateInputs): SizeGateResult {
  const sizeBytes = inputs.sizeBytes ?? null;
  const error = sizeBytes === null ? 'the model size (sizeBytes) was not provided' : null;
  return {
    kind: 'size',
    name: 'model size within budget',
    passed: sizeBytes !== null && sizeBytes <= gate.maxBytes,
    summary:
      sizeBytes === null
        ? (error as string)
        : `${formatBytes(sizeBytes)} (${sizeBytes} bytes), budget ${formatBytes(gate.maxBytes)}`,
    error,
    details: { sizeBytes, maxBytes: gate.maxBytes },
  };
}
