import { describe, expect, it } from 'vitest';
import { analyzeCanary, type ArmWindow } from '../../../lib/serving/canary-analysis.js';

/** n answered rows with scores spread like a Beta-ish curve around `center`, latencies around `ms`. */
function arm(n: number, opts: { errors?: number; ms?: number; center?: number } = {}): ArmWindow {
  const { errors = 0, ms = 1, center = 0.3 } = opts;
  const answered = n - errors;
  return {
    requests: n,
    errors,
    latenciesMs: Array.from({ length: answered }, (_, i) => ms * (0.8 + ((i * 37) % 40) / 100)),
    scores: Array.from({ length: answered }, (_, i) => Math.min(0.999, Math.max(0, center + (((i * 53) % 100) / 100 - 0.5) * 0.4))),
  };
}

describe('analyzeCanary', () => {
  it('is successful when the canary behaves like stable', () => {
    const a = analyzeCanary(arm(500), arm(200));
    expect(a.verdict).toBe('successful');
    expect(a.checks.map((c) => c.name)).toEqual(['traffic', 'error_rate', 'latency_p99', 'score_distribution']);
  });

  it('is inconclusive with too little traffic on either arm', () => {
    expect(analyzeCanary(arm(500), arm(10)).verdict).toBe('inconclusive');
    expect(analyzeCanary(arm(10), arm(500)).verdict).toBe('inconclusive');
  });

  it('fails on a higher error rate', () => {
    const a = analyzeCanary(arm(500, { errors: 1 }), arm(200, { errors: 20 }));
    expect(a.verdict).toBe('failed');
    expect(a.checks.find((c) => c.name === 'error_rate')).toMatchObject({ passed: false, canary: 0.1 });
  });

  it('fails on a slower p99 beyond the ratio and the floor, but not on tiny absolute differences', () => {
    expect(analyzeCanary(arm(500, { ms: 4 }), arm(200, { ms: 12 })).verdict).toBe('failed');
    expect(analyzeCanary(arm(500, { ms: 0.5 }), arm(200, { ms: 1.5 })).verdict).toBe('successful');
  });

  it('fails when the score distribution shifts', () => {
    const a = analyzeCanary(arm(500, { center: 0.2 }), arm(200, { center: 0.7 }));
    expect(a.verdict).toBe('failed');
    expect(a.checks.find((c) => c.name === 'score_distribution')?.passed).toBe(false);
  });

  it('fails a canary that answers nothing', () => {
    const a = analyzeCanary(arm(500), arm(100, { errors: 100 }));
    expect(a.verdict).toBe('failed');
  });
});

describe('analyzeCanary with live quality', () => {
  const q = (accuracy: number | null, labelledRows = 100) => ({ task: 'classification' as const, labelledRows, accuracy, rmse: null });

  it('fails when the canary is less accurate on feedback labels than stable by more than the allowed drop', () => {
    const a = analyzeCanary({ ...arm(500), quality: q(0.9) }, { ...arm(200), quality: q(0.8) });
    expect(a.verdict).toBe('failed');
    const check = a.checks.find((c) => c.name === 'live_quality')!;
    expect(check).toMatchObject({ passed: false, stable: 0.9, canary: 0.8 });
    expect(check.limit).toBeCloseTo(0.85, 10);
    expect(check.summary).toContain('canary live accuracy 80.0% vs stable 90.0% (at least 85.0%; 100 stable and 100 canary labelled rows)');
  });

  it('passes within the allowed drop, and says so when labels are too few to compare yet', () => {
    expect(analyzeCanary({ ...arm(500), quality: q(0.9) }, { ...arm(200), quality: q(0.87) }).verdict).toBe('successful');
    const early = analyzeCanary({ ...arm(500), quality: q(0.9) }, { ...arm(200), quality: q(null, 4) });
    expect(early.verdict).toBe('successful');
    expect(early.checks.at(-1)).toMatchObject({ name: 'live_quality', passed: true });
    expect(early.checks.at(-1)!.summary).toContain('not compared yet (100 stable and 4 canary labelled rows)');
  });

  it('compares a regressor by RMSE ratio', () => {
    const r = (rmse: number) => ({ task: 'regression' as const, labelledRows: 50, accuracy: null, rmse });
    expect(analyzeCanary({ ...arm(500), quality: r(1) }, { ...arm(200), quality: r(1.3) }).verdict).toBe('failed');
    expect(analyzeCanary({ ...arm(500), quality: r(1) }, { ...arm(200), quality: r(1.1) }).verdict).toBe('successful');
  });
});
