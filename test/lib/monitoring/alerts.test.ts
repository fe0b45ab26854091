// Findings, alert dedup with a cooldown, and the retraining decision (pure).
import { describe, expect, it } from 'vitest';
import { decideAlerts, decideRetrain, findingsOf, type Finding } from '../../../lib/monitoring/alerts.js';
import { DEFAULT_MONITORING_POLICY, resolvePolicy } from '../../../lib/monitoring/policy.js';

const drift: Finding = { kind: 'drift', subject: 'drift', severity: 'critical', summary: 'x drifted' };
const warnDrift: Finding = { ...drift, severity: 'warn' };
const latency: Finding = { kind: 'slo', subject: 'latency_p99', severity: 'warn', summary: 'slow' };

describe('findingsOf', () => {
  const policy = resolvePolicy({ quality: { minAccuracy: 0.8, maxLogLoss: 0.5 }, slo: { latencyP99Ms: 100 } });
  it('turns a drift verdict, breached quality thresholds and SLOs into findings, critical first', () => {
    const f = findingsOf(
      {
        drift: { status: 'drift', reasons: ['income: drift: PSI 1.2'] },
        quality: { accuracy: 0.7, rocAuc: 0.9, logLoss: 0.4, rmse: null, labelledRows: 100 },
        slo: { requests: 10, latencyP99Ms: 150, errorRate: 0, fallbackRate: 0 },
      },
      policy,
    );
    expect(f.map((x) => `${x.kind}:${x.subject}:${x.severity}`)).toEqual(['drift:drift:critical', 'quality:accuracy:critical', 'slo:latency_p99:warn']);
    expect(f[1]).toMatchObject({ value: 0.7, threshold: 0.8 });
    expect(f[0].summary).toContain('PSI 1.2');
  });
  it('finds nothing in a healthy or unjudged report', () => {
    expect(findingsOf({ drift: { status: 'insufficient_data', reasons: [] }, quality: { accuracy: null, rocAuc: null, logLoss: null, rmse: null, labelledRows: 0 }, slo: { requests: 0, latencyP99Ms: null, errorRate: null, fallbackRate: null } }, policy)).toEqual([]);
    expect(findingsOf({ drift: { status: 'ok', reasons: [] }, quality: null, slo: { requests: 10, latencyP99Ms: 50, errorRate: 0, fallbackRate: 0 } }, policy)).toEqual([]);
  });
});

describe('decideAlerts', () => {
  it('sends a new alert, suppresses the same one within the cooldown, and sends it again after', () => {
    const first = decideAlerts('m', [drift], {}, 0, 60);
    expect(first.send.map((a) => a.dedupKey)).toEqual(['m:drift:drift']);
    const again = decideAlerts('m', [drift], first.state, 30_000, 60);
    expect(again.send).toEqual([]);
    expect(again.suppressed).toHaveLength(1);
    const later = decideAlerts('m', [drift], again.state, 60_000, 60);
    expect(later.send).toHaveLength(1);
  });
  it('sends an escalation (warn -> critical) within the cooldown but not a de-escalation', () => {
    const s1 = decideAlerts('m', [warnDrift], {}, 0, 600).state;
    expect(decideAlerts('m', [drift], s1, 1000, 600).send).toHaveLength(1);
    const s2 = decideAlerts('m', [drift], {}, 0, 600).state;
    expect(decideAlerts('m', [warnDrift], s2, 1000, 600).send).toHaveLength(0);
  });
  it('keeps suppressing a flapping finding (clears and returns within the cooldown), and keys are per subject', () => {
    const s1 = decideAlerts('m', [drift], {}, 0, 600).state;
    const cleared = decideAlerts('m', [], s1, 1000, 600);
    expect(cleared.state['m:drift:drift']).toBeDefined();
    const back = decideAlerts('m', [drift, latency], cleared.state, 2000, 600);
    expect(back.send.map((a) => a.subject)).toEqual(['latency_p99']);
  });
  it('with a zero cooldown every report alerts', () => {
    const s = decideAlerts('m', [drift], {}, 0, 0).state;
    expect(decideAlerts('m', [drift], s, 0, 0).send).toHaveLength(1);
  });
});

describe('decideRetrain', () => {
  const policy = { ...DEFAULT_MONITORING_POLICY.retrain, newLabels: 100, cooldownSeconds: 3600 };
  const base = { findings: [] as Finding[], driftStatus: 'ok' as const, newLabels: 0, lastRetrainAtMs: null, nowMs: 10_000_000 };
  it('retrains on drift, on a quality finding, and past the label volume, naming every reason', () => {
    expect(decideRetrain(policy, base)).toEqual({ retrain: false, reasons: [] });
    expect(decideRetrain(policy, { ...base, driftStatus: 'drift' })).toEqual({ retrain: true, reasons: ['drift'] });
    expect(decideRetrain(policy, { ...base, driftStatus: 'warn' }).retrain).toBe(false);
    const quality: Finding = { kind: 'quality', subject: 'accuracy', severity: 'critical', summary: '' };
    expect(decideRetrain(policy, { ...base, findings: [quality], newLabels: 100 }).reasons).toEqual(['quality', 'new_labels']);
    expect(decideRetrain(policy, { ...base, newLabels: 99 }).retrain).toBe(false);
  });
  it('honours the per-trigger switches', () => {
    expect(decideRetrain({ ...policy, onDrift: false }, { ...base, driftStatus: 'drift' }).retrain).toBe(false);
    expect(decideRetrain({ ...policy, newLabels: null }, { ...base, newLabels: 10_000 }).retrain).toBe(false);
  });
  it('does not retrain within the cooldown, and says so', () => {
    const d = decideRetrain(policy, { ...base, driftStatus: 'drift', lastRetrainAtMs: base.nowMs - 1000 });
    expect(d.retrain).toBe(false);
    expect(d.blocked).toMatch(/cooldown/);
    expect(decideRetrain(policy, { ...base, driftStatus: 'drift', lastRetrainAtMs: base.nowMs - 3_600_000 }).retrain).toBe(true);
  });
});

describe('resolvePolicy', () => {
  it('fills defaults and rejects bad settings by name', () => {
    const p = resolvePolicy({ intervalSeconds: 5, retrain: { newLabels: 50 } });
    expect(p.intervalSeconds).toBe(5);
    expect(p.retrain).toMatchObject({ newLabels: 50, onDrift: true, cooldownSeconds: 86_400 });
    expect(() => resolvePolicy({ intervalSeconds: 0 })).toThrow(/intervalSeconds/);
    expect(() => resolvePolicy({ retrain: { everySeconds: 5 } })).toThrow(/everySeconds/);
    expect(() => resolvePolicy({ alertWebhook: 'ftp://x' })).toThrow(/alertWebhook/);
    expect(() => resolvePolicy({ drift: { psi: { warn: 0.5, drift: 0.1 } } })).toThrow(/psi/);
  });

  it('keeps a retrain rollout that resolveRollout accepts and names the bad setting otherwise', () => {
    expect(resolvePolicy({ retrain: { rollout: { strategy: 'canary', steps: [10, 50] } } }).retrain.rollout).toEqual({ strategy: 'canary', steps: [10, 50] });
    expect(() => resolvePolicy({ retrain: { rollout: { strategy: 'canary', steps: [50, 10] } } })).toThrow(/^monitoring policy: retrain\.rollout\.steps must increase/);
    expect(() => resolvePolicy({ retrain: { rollout: { strategy: 'canary', stepSeconds: -1 } } })).toThrow(/retrain\.rollout\.stepSeconds/);
  });
});
