// Findings of a monitoring report, alert deduplication with a cooldown, and the retraining decision:
// pure functions the monitoring workflow wires together (its state is the plain JSON they return).
import type { MonitoringPolicy, RetrainPolicy } from './policy.js';
import type { DriftStatus } from './verdict.js';

export type FindingKind = 'drift' | 'quality' | 'slo';
export type Severity = 'warn' | 'critical';

export interface Finding {
  kind: FindingKind;
  /** What the finding is about: `drift`, a quality metric name, or an SLO name. */
  subject: string;
  severity: Severity;
  summary: string;
  value?: number;
  threshold?: number;
}

/** The parts of a monitoring report findings are read from. */
export interface ReportNumbers {
  drift: { status: DriftStatus; reasons: string[] } | null;
  quality: { accuracy: number | null; rocAuc: number | null; logLoss: number | null; rmse: number | null; labelledRows: number } | null;
  slo: { requests: number; latencyP99Ms: number | null; errorRate: number | null; fallbackRate: number | null } | null;
}

const fmt = (x: number): string => String(Number(x.toPrecision(4)));

/** What is wrong in a report under a policy, worst first. */
export function findingsOf(report: ReportNumbers, policy: Pick<MonitoringPolicy, 'quality' | 'slo'>): Finding[] {
  const findings: Finding[] = [];
  if (report.drift && (report.drift.status === 'drift' || report.drift.status === 'warn')) {
    findings.push({
      kind: 'drift',
      subject: 'drift',
      severity: report.drift.status === 'drift' ? 'critical' : 'warn',
      summary: `Input/output drift (${report.drift.status}): ${report.drift.reasons.slice(0, 3).join(' | ')}`,
    });
  }
  const q = report.quality;
  if (q) {
    const low = (subject: string, value: number | null, min: number | undefined) => {
      if (value !== null && min !== undefined && value < min) findings.push({ kind: 'quality', subject, severity: 'critical', summary: `Live ${subject} ${fmt(value)} is below ${fmt(min)} on ${q.labelledRows} labelled predictions`, value, threshold: min });
    };
    const high = (subject: string, value: number | null, max: number | undefined) => {
      if (value !== null && max !== undefined && value > max) findings.push({ kind: 'quality', subject, severity: 'critical', summary: `Live ${subject} ${fmt(value)} is above ${fmt(max)} on ${q.labelledRows} labelled predictions`, value, threshold: max });
    };
    low('accuracy', q.accuracy, policy.quality.minAccuracy);
    low('roc_auc', q.rocAuc, policy.quality.minRocAuc);
    high('log_loss', q.logLoss, policy.quality.maxLogLoss);
    high('rmse', q.rmse, policy.quality.maxRmse);
  }
  const s = report.slo;
  if (s && s.requests > 0) {
    if (s.latencyP99Ms !== null && s.latencyP99Ms > policy.slo.latencyP99Ms) findings.push({ kind: 'slo', subject: 'latency_p99', severity: 'warn', summary: `p99 latency ${fmt(s.latencyP99Ms)} ms is above the ${fmt(policy.slo.latencyP99Ms)} ms SLO`, value: s.latencyP99Ms, threshold: policy.slo.latencyP99Ms });
    if (s.errorRate !== null && s.errorRate > policy.slo.maxErrorRate) findings.push({ kind: 'slo', subject: 'error_rate', severity: 'critical', summary: `error rate ${fmt(s.errorRate * 100)}% is above the ${fmt(policy.slo.maxErrorRate * 100)}% SLO`, value: s.errorRate, threshold: policy.slo.maxErrorRate });
    if (s.fallbackRate !== null && s.fallbackRate > policy.slo.maxFallbackRate) findings.push({ kind: 'slo', subject: 'fallback_rate', severity: 'warn', summary: `fallback rate ${fmt(s.fallbackRate * 100)}% is above the ${fmt(policy.slo.maxFallbackRate * 100)}% SLO`, value: s.fallbackRate, threshold: policy.slo.maxFallbackRate });
  }
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}

/** Last time each alert key was sent, and at what severity. Plain JSON, carried across continue-as-new. */
export type AlertState = Record<string, { lastSentAtMs: number; severity: Severity }>;

export interface AlertDecision {
  send: Array<Finding & { dedupKey: string }>;
  /** Findings not sent because the same alert went out within the cooldown. */
  suppressed: Array<Finding & { dedupKey: string }>;
  state: AlertState;
}

export function alertKey(modelName: string, f: Pick<Finding, 'kind' | 'subject'>): string {
  return `${modelName}:${f.kind}:${f.subject}`;
}

/**
 * Which findings become alerts: a key not sent within `cooldownSeconds` is sent; one sent within it is
 * suppressed unless it got worse (warn -> critical). A finding that clears and returns within the
 * cooldown is still suppressed (that is flapping); entries older than the cooldown are forgotten.
 */
export function decideAlerts(modelName: string, findings: Finding[], state: AlertState, nowMs: number, cooldownSeconds: number): AlertDecision {
  const cooldownMs = cooldownSeconds * 1000;
  const next: AlertState = {};
  for (const [key, entry] of Object.entries(state)) if (nowMs - entry.lastSentAtMs < cooldownMs) next[key] = entry;
  const send: AlertDecision['send'] = [];
  const suppressed: AlertDecision['suppressed'] = [];
  for (const f of findings) {
    const dedupKey = alertKey(modelName, f);
    const prior = next[dedupKey];
    const escalated = prior !== undefined && prior.severity === 'warn' && f.severity === 'critical';
    if (prior === undefined || escalated) {
      send.push({ ...f, dedupKey });
      next[dedupKey] = { lastSentAtMs: nowMs, severity: f.severity };
    } else {
      suppressed.push({ ...f, dedupKey });
    }
  }
  return { send, suppressed, state: next };
}

export type RetrainReason = 'drift' | 'quality' | 'new_labels' | 'schedule';

export interface RetrainDecision {
  retrain: boolean;
  reasons: RetrainReason[];
  /** Why a wanted retrain did not start. */
  blocked?: string;
}

/**
 * Whether a report should start a retrain under the policy: drift at `drift`, a quality finding, or
 * `newLabels` labels since the last retrain; never within `cooldownSeconds` of the last one.
 */
export function decideRetrain(
  policy: RetrainPolicy,
  input: { findings: Finding[]; driftStatus: DriftStatus | null; newLabels: number; lastRetrainAtMs: number | null; nowMs: number },
): RetrainDecision {
  const reasons: RetrainReason[] = [];
  if (policy.onDrift && input.driftStatus === 'drift') reasons.push('drift');
  if (policy.onQuality && input.findings.some((f) => f.kind === 'quality')) reasons.push('quality');
  if (policy.newLabels !== null && input.newLabels >= policy.newLabels) reasons.push('new_labels');
  if (reasons.length === 0) return { retrain: false, reasons };
  if (input.lastRetrainAtMs !== null && input.nowMs - input.lastRetrainAtMs < policy.cooldownSeconds * 1000) {
    const left = Math.ceil((policy.cooldownSeconds * 1000 - (input.nowMs - input.lastRetrainAtMs)) / 1000);
    return { retrain: false, reasons, blocked: `cooldown: the last retrain started less than ${policy.cooldownSeconds} s ago (${left} s left)` };
  }
  return { retrain: true, reasons };
}
