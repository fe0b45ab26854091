// Canary analysis: compares a canary arm with stable over one window of the prediction log (and, once
// feedback labels exist, their live quality) and decides Successful (go on), Failed (roll back) or
// Inconclusive (too little traffic). Pure: the caller reads the window.
import type { LiveQuality } from '../feedback/quality.js';
import { quantileOfSorted } from '../monitoring/binning.js';
import { populationStabilityIndex } from '../monitoring/stats.js';

/** One arm's traffic in the window. */
export interface ArmWindow {
  /** Requests (rows) the arm was asked to answer, including failed ones. */
  requests: number;
  errors: number;
  /** Latency of answered rows, ms. */
  latenciesMs: number[];
  /** One score per answered row, in [0, 1] (e.g. the positive class probability). */
  scores: number[];
  /** Live quality of the arm's version over the window from feedback labels; absent when not read. */
  quality?: ArmQuality;
}

/** The part of lib/feedback's LiveQuality the comparison reads. */
export type ArmQuality = Pick<LiveQuality, 'task' | 'labelledRows' | 'accuracy' | 'rmse'>;

export interface CanaryThresholds {
  /** Fewer rows than this on either arm: inconclusive. */
  minRequests: number;
  /** Canary error rate may exceed stable's by at most this (absolute, e.g. 0.01 = one point). */
  maxErrorRateIncrease: number;
  /** Canary p99 may be at most this multiple of stable's p99 ... */
  maxLatencyRatio: number;
  /** ... unless it stays under this many ms anyway (tiny latencies are noisy). */
  latencyFloorMs: number;
  /** Population stability index of the score distributions (10 equal bins on [0, 1]) at most this. */
  maxScorePsi: number;
  /** Live quality, once both arms have enough labelled rows: canary accuracy at most this much below stable's (absolute) ... */
  maxAccuracyDrop: number;
  /** ... or, for a regressor, canary RMSE at most this multiple of stable's. */
  maxRmseRatio: number;
}

export const DEFAULT_CANARY_THRESHOLDS: CanaryThresholds = {
  minRequests: 50,
  maxErrorRateIncrease: 0.01,
  maxLatencyRatio: 1.5,
  latencyFloorMs: 5,
  maxScorePsi: 0.2,
  maxAccuracyDrop: 0.05,
  maxRmseRatio: 1.2,
};

export type CanaryVerdict = 'successful' | 'failed' | 'inconclusive';

export interface CanaryCheck {
  name: 'traffic' | 'error_rate' | 'latency_p99' | 'score_distribution' | 'live_quality';
  passed: boolean;
  stable: number | null;
  canary: number | null;
  limit: number;
  summary: string;
}

export interface CanaryAnalysis {
  verdict: CanaryVerdict;
  checks: CanaryCheck[];
}

const SCORE_BINS = 10;

function histogram(scores: number[]): number[] {
  const counts = new Array<number>(SCORE_BINS).fill(0);
  for (const s of scores) counts[Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(s * SCORE_BINS)))]++;
  return counts;
}

function p99(latencies: number[]): number | null {
  if (latencies.length === 0) return null;
  return quantileOfSorted(Float64Array.from(latencies).sort(), 0.99);
}

export function analyzeCanary(stable: ArmWindow, canary: ArmWindow, t: CanaryThresholds = DEFAULT_CANARY_THRESHOLDS): CanaryAnalysis {
  const traffic: CanaryCheck = {
    name: 'traffic',
    passed: stable.requests >= t.minRequests && canary.requests >= t.minRequests,
    stable: stable.requests,
    canary: canary.requests,
    limit: t.minRequests,
    summary: `stable ${stable.requests} and canary ${canary.requests} rows; at least ${t.minRequests} each are needed`,
  };
  if (!traffic.passed) return { verdict: 'inconclusive', checks: [traffic] };

  const stableErr = stable.errors / stable.requests;
  const canaryErr = canary.errors / canary.requests;
  const errorRate: CanaryCheck = {
    name: 'error_rate',
    passed: canaryErr - stableErr <= t.maxErrorRateIncrease,
    stable: stableErr,
    canary: canaryErr,
    limit: t.maxErrorRateIncrease,
    summary: `canary error rate ${(canaryErr * 100).toFixed(2)}% vs stable ${(stableErr * 100).toFixed(2)}% (at most +${(t.maxErrorRateIncrease * 100).toFixed(2)} points)`,
  };

  const sp99 = p99(stable.latenciesMs);
  const cp99 = p99(canary.latenciesMs);
  const latencyLimit = Math.max(t.latencyFloorMs, (sp99 ?? 0) * t.maxLatencyRatio);
  const latency: CanaryCheck = {
    name: 'latency_p99',
    passed: cp99 === null || cp99 <= latencyLimit,
    stable: sp99,
    canary: cp99,
    limit: latencyLimit,
    summary: `canary p99 ${cp99?.toFixed(2) ?? 'n/a'} ms vs stable ${sp99?.toFixed(2) ?? 'n/a'} ms (limit ${latencyLimit.toFixed(2)} ms)`,
  };

  // A canary that answers nothing has already failed on error rate; no distribution to compare.
  const psi = stable.scores.length > 0 && canary.scores.length > 0 ? populationStabilityIndex(histogram(stable.scores), histogram(canary.scores)) : null;
  const distribution: CanaryCheck = {
    name: 'score_distribution',
    passed: psi === null || psi <= t.maxScorePsi,
    stable: null,
    canary: psi,
    limit: t.maxScorePsi,
    summary: psi === null ? 'no scores to compare' : `score distribution PSI ${psi.toFixed(3)} (at most ${t.maxScorePsi})`,
  };

  const checks = [traffic, errorRate, latency, distribution];
  if (stable.quality && canary.quality) checks.push(qualityCheck(stable.quality, canary.quality, t));
  return { verdict: checks.every((c) => c.passed) ? 'successful' : 'failed', checks };
}

/**
 * Live quality from feedback labels: accuracy (classifiers) or RMSE (regressors) of both arms. Until both
 * arms have enough labelled rows for the metric, the check passes and says so: labels often arrive days later.
 */
function qualityCheck(stable: ArmQuality, canary: ArmQuality, t: CanaryThresholds): CanaryCheck {
  const labelled = `${stable.labelledRows} stable and ${canary.labelledRows} canary labelled rows`;
  if (stable.task === 'regression') {
    const limit = stable.rmse === null ? t.maxRmseRatio : stable.rmse * t.maxRmseRatio;
    if (stable.rmse === null || canary.rmse === null) {
      return { name: 'live_quality', passed: true, stable: stable.rmse, canary: canary.rmse, limit, summary: `live RMSE not compared yet (${labelled})` };
    }
    return {
      name: 'live_quality',
      passed: canary.rmse <= limit,
      stable: stable.rmse,
      canary: canary.rmse,
      limit,
      summary: `canary live RMSE ${canary.rmse.toPrecision(4)} vs stable ${stable.rmse.toPrecision(4)} (at most ${limit.toPrecision(4)}; ${labelled})`,
    };
  }
  const limit = stable.accuracy === null ? -t.maxAccuracyDrop : stable.accuracy - t.maxAccuracyDrop;
  if (stable.accuracy === null || canary.accuracy === null) {
    return { name: 'live_quality', passed: true, stable: stable.accuracy, canary: canary.accuracy, limit, summary: `live accuracy not compared yet (${labelled})` };
  }
  return {
    name: 'live_quality',
    passed: canary.accuracy >= limit,
    stable: stable.accuracy,
    canary: canary.accuracy,
    limit,
    summary: `canary live accuracy ${(canary.accuracy * 100).toFixed(1)}% vs stable ${(stable.accuracy * 100).toFixed(1)}% (at least ${(limit * 100).toFixed(1)}%; ${labelled})`,
  };
}
