// A model's monitoring policy: how often and over what window, thresholds for drift, quality and SLOs,
// where alerts go, and when retraining starts. Stored per model as jsonb; defaults documented here.
import { ValidationError } from '../errors.js';
import { resolveRollout, type RolloutOptions } from '../serving/rollout.js';
import { resolveThresholds, type DriftThresholdsInput } from './thresholds.js';

export interface QualityThresholds {
  /** Alert (and, with `retrain.onQuality`, retrain) below these. */
  minAccuracy?: number;
  minRocAuc?: number;
  /** Alert above these. */
  maxLogLoss?: number;
  maxRmse?: number;
}

export interface SloThresholds {
  /** p99 of the logged per-row latency, milliseconds. */
  latencyP99Ms: number;
  /** Share of logged predictions marked as errors. */
  maxErrorRate: number;
  /** Share of logged predictions answered by a fallback. */
  maxFallbackRate: number;
}

export interface RetrainPolicy {
  /** Retrain when the drift verdict is `drift`. */
  onDrift: boolean;
  /** Retrain when a quality threshold is breached. */
  onQuality: boolean;
  /** Retrain once this many new labels arrived since the last retrain (or since monitoring started); null: off. */
  newLabels: number | null;
  /** A Temporal Schedule retrains every this many seconds; null: off. */
  everySeconds: number | null;
  /** No retrain within this many seconds of the previous one (stops flapping). */
  cooldownSeconds: number;
  /** Training input for the retrain; default: the production version's own target, features and params. */
  target?: string;
  features?: string[];
  /** Who the retrain is started as (may not approve it). */
  startedBy: string;
  /** How an approved retrained version is put into service, e.g. `{strategy: 'canary', steps: [10, 50]}`; default blue-green. */
  rollout?: RolloutOptions;
}

export interface MonitoringPolicy {
  /** Seconds between reports. */
  intervalSeconds: number;
  /** Seconds of prediction log each report covers (ending at the report time). */
  windowSeconds: number;
  drift: DriftThresholdsInput;
  quality: QualityThresholds;
  slo: SloThresholds;
  /** POSTed `{event: "monitoring.alert", ...}`; null: alerts are only stored. */
  alertWebhook: string | null;
  /** The same alert (model, kind, subject) is not sent again within this many seconds unless it gets worse. */
  alertCooldownSeconds: number;
  retrain: RetrainPolicy;
  /** Reports per workflow run before continue-as-new keeps the history bounded. */
  reportsPerRun: number;
}

export type MonitoringPolicyInput = Partial<Omit<MonitoringPolicy, 'retrain' | 'slo' | 'quality'>> & {
  retrain?: Partial<RetrainPolicy>;
  slo?: Partial<SloThresholds>;
  quality?: QualityThresholds;
};

/**
 * Defaults: a report every 5 minutes over the last hour; drift thresholds from DEFAULT_DRIFT_THRESHOLDS;
 * no quality thresholds (a model's acceptable accuracy is its own); p99 latency 250 ms, 1% errors, 5%
 * fallbacks; alerts repeat at most hourly; retraining on drift and on quality, with a day's cooldown.
 */
export const DEFAULT_MONITORING_POLICY: MonitoringPolicy = {
  intervalSeconds: 300,
  windowSeconds: 3600,
  drift: {},
  quality: {},
  slo: { latencyP99Ms: 250, maxErrorRate: 0.01, maxFallbackRate: 0.05 },
  alertWebhook: null,
  alertCooldownSeconds: 3600,
  retrain: { onDrift: true, onQuality: true, newLabels: null, everySeconds: null, cooldownSeconds: 86_400, startedBy: 'mlcycle-monitor' },
  reportsPerRun: 100,
};

const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Defaults overlaid with a stored or posted policy; ValidationError names the bad setting. */
export function resolvePolicy(input: MonitoringPolicyInput = {}): MonitoringPolicy {
  const d = DEFAULT_MONITORING_POLICY;
  const policy: MonitoringPolicy = {
    ...d,
    ...input,
    drift: input.drift ?? d.drift,
    quality: { ...d.quality, ...input.quality },
    slo: { ...d.slo, ...input.slo },
    retrain: { ...d.retrain, ...input.retrain },
  };
  const fail = (what: string): never => {
    throw new ValidationError(`monitoring policy: ${what}`);
  };
  if (!positive(policy.intervalSeconds)) fail(`intervalSeconds must be a positive number, got ${policy.intervalSeconds}`);
  if (!positive(policy.windowSeconds)) fail(`windowSeconds must be a positive number, got ${policy.windowSeconds}`);
  if (!(policy.alertCooldownSeconds >= 0)) fail(`alertCooldownSeconds must be >= 0, got ${policy.alertCooldownSeconds}`);
  if (!Number.isInteger(policy.reportsPerRun) || policy.reportsPerRun < 1) fail(`reportsPerRun must be a positive integer, got ${policy.reportsPerRun}`);
  if (policy.alertWebhook !== null && !/^https?:\/\//.test(policy.alertWebhook)) fail(`alertWebhook must be an http(s) URL, got ${JSON.stringify(policy.alertWebhook)}`);
  for (const [k, v] of Object.entries(policy.slo)) if (!(typeof v === 'number' && v >= 0)) fail(`slo.${k} must be a number >= 0, got ${v}`);
  for (const [k, v] of Object.entries(policy.quality)) if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v))) fail(`quality.${k} must be a number, got ${v}`);
  const r = policy.retrain;
  if (r.newLabels !== null && !(Number.isInteger(r.newLabels) && r.newLabels > 0)) fail(`retrain.newLabels must be a positive integer or null, got ${r.newLabels}`);
  if (r.everySeconds !== null && !(positive(r.everySeconds) && r.everySeconds >= 60)) fail(`retrain.everySeconds must be >= 60 or null, got ${r.everySeconds}`);
  if (!(r.cooldownSeconds >= 0)) fail(`retrain.cooldownSeconds must be >= 0, got ${r.cooldownSeconds}`);
  if (r.rollout !== undefined) {
    try {
      resolveRollout(r.rollout);
    } catch (err) {
      fail(`retrain.${(err as Error).message}`);
    }
  }
  resolveThresholds(policy.drift);
  return policy;
}
