// Release gate configuration per model: the default for a task, validation of a declared config, and how
// a declared config is fitted to a model's inputs. Pure: no I/O.
import { EvaluationInputError, ValidationError } from '../errors.js';
import { STANDARD_ROBUSTNESS_PROBES, validateGateConfig } from '../evaluation/index.js';
import type { GateConfig, GateReport, TaskKind } from '../evaluation/index.js';
import type { ModelSignature } from '../training/types.js';

/** The robustness probes mlcycle builds (lib/release/probes.ts), in STANDARD_ROBUSTNESS_PROBES order. */
export const PROBE_MISSING = 'missing_values';
export const PROBE_EXTREME = 'extreme_values';
export const PROBE_UNSEEN = 'unseen_categories';

/** Single-row scoring calls timed for the latency gate (more than a gate's minSamples is kept). */
export const DEFAULT_LATENCY_SAMPLES = 300;

export function taskOf(signature: Pick<ModelSignature, 'task' | 'classes'>): TaskKind {
  if (signature.task === 'regression') return 'regression';
  return signature.classes.length === 2 ? 'binary' : 'multiclass';
}

/**
 * What a model gets when nobody declared gates for it: it must beat the naive predictor,
 * reach a modest ranking quality, not be worse than production beyond a small margin
 * (95% paired bootstrap), give valid outputs on edge cases, score one row within 50 ms
 * at p99, and fit in 256 MiB. No slice gates: which column is a slice is the owner's call.
 */
export function defaultGateConfig(task: TaskKind): GateConfig {
  const common: GateConfig = {
    robustness: {},
    latency: { maxP99Ms: 50, minSamples: 100 },
    size: { maxBytes: 256 * 1024 * 1024 },
  };
  if (task === 'regression') {
    return {
      ...common,
      metrics: [{ metric: 'r2', min: 0 }],
      baseline: [{ metric: 'rmse' }],
      champion: [{ metric: 'r2', margin: 0.02, confidence: 0.95, resamples: 1000, seed: 0 }],
    };
  }
  return {
    ...common,
    metrics: [{ metric: 'roc_auc', min: 0.6 }],
    baseline: [{ metric: 'log_loss' }],
    champion: [{ metric: 'roc_auc', margin: 0.02, confidence: 0.95, resamples: 1000, seed: 0 }],
  };
}

const KNOWN_KEYS = new Set(['threshold', 'metrics', 'baseline', 'champion', 'slices', 'robustness', 'latency', 'size']);

/** Checks a declared config (shape and values); a problem is a ValidationError naming the field. */
export function validateDeclaredGateConfig(config: unknown): GateConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ValidationError('A gate config must be a JSON object, e.g. {"metrics": [{"metric": "roc_auc", "min": 0.7}]}.');
  }
  const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) {
    throw new ValidationError(`Unknown gate config field(s) ${unknown.join(', ')}; known: ${[...KNOWN_KEYS].join(', ')}.`);
  }
  try {
    validateGateConfig(config as GateConfig);
  } catch (err) {
    if (err instanceof EvaluationInputError) throw new ValidationError(`Invalid ${err.message}.`);
    throw err;
  }
  return config as GateConfig;
}

/** The robustness probes that apply to a model: unseen categories only when it has string inputs. */
export function applicableProbes(signature: Pick<ModelSignature, 'features'>): string[] {
  const hasStrings = signature.features.some((f) => f.type === 'string');
  return STANDARD_ROBUSTNESS_PROBES.filter((p) => p !== PROBE_UNSEEN || hasStrings);
}

/**
 * The config the gates run with: the declared one (or the task default), with a robustness
 * gate that names no probes narrowed to the probes that apply to the model's inputs.
 */
export function effectiveGateConfig(declared: GateConfig | null, signature: Pick<ModelSignature, 'features' | 'task' | 'classes'>): GateConfig {
  const config = declared ?? defaultGateConfig(taskOf(signature));
  if (config.robustness && config.robustness.requiredProbes === undefined) {
    return { ...config, robustness: { ...config.robustness, requiredProbes: applicableProbes(signature) } };
  }
  return config;
}

/** One line per gate, small enough for workflow payloads and the approvals list. */
export interface GateSummary {
  passed: boolean;
  total: number;
  failed: number;
  gates: Array<{ kind: string; name: string; passed: boolean; summary: string }>;
}

export function summarizeGates(report: GateReport): GateSummary {
  return {
    passed: report.passed,
    total: report.gates.length,
    failed: report.gates.filter((g) => !g.passed).length,
    gates: report.gates.map((g) => ({ kind: g.kind, name: g.name, passed: g.passed, summary: g.summary })),
  };
}
