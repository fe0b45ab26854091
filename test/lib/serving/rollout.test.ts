// The rollout's pure parts: option defaults and checks, the step decision, and reading log rows into arm windows.
import { describe, expect, it } from 'vitest';
import { armWindow, decideStep, resolveRollout, scoreOf, validatePromotionDecision } from '../../../lib/serving/rollout.js';

describe('resolveRollout', () => {
  it('defaults to blue-green, canary steps 5 -> 25 -> 50 -> 100, rollback on inconclusive', () => {
    const r = resolveRollout(undefined);
    expect(r).toMatchObject({ strategy: 'blue-green', steps: [5, 25, 50, 100], stepSeconds: 300, maxInconclusiveWaits: 2, onInconclusive: 'rollback', shadowFraction: 0.1, promoteAfterShadow: false });
    expect(r.thresholds.minRequests).toBe(50);
  });
  it('appends 100 and overrides thresholds one by one', () => {
    const r = resolveRollout({ strategy: 'canary', steps: [10, 40], thresholds: { minRequests: 5 } });
    expect(r.steps).toEqual([10, 40, 100]);
    expect(r.thresholds).toMatchObject({ minRequests: 5, maxScorePsi: 0.2 });
  });
  it('names the wrong field', () => {
    expect(() => resolveRollout({ strategy: 'canary', steps: [50, 20] })).toThrow(/rollout.steps must increase/);
    expect(() => resolveRollout({ strategy: 'canary', steps: [0] })).toThrow(/rollout.steps\[0\]/);
    expect(() => resolveRollout({ strategy: 'canary', stepSeconds: -1 })).toThrow(/stepSeconds/);
    expect(() => resolveRollout({ strategy: 'shadow', shadowFraction: 2 })).toThrow(/shadowFraction/);
    expect(() => resolveRollout({ strategy: 'purple' as never })).toThrow(/strategy/);
  });
});

describe('decideStep', () => {
  const r = { maxInconclusiveWaits: 2, onInconclusive: 'rollback' as const };
  it('goes on when successful and rolls back when failed', () => {
    expect(decideStep('successful', 0, r)).toBe('next');
    expect(decideStep('failed', 0, r)).toBe('rollback');
  });
  it('waits while inconclusive, up to the limit, then follows the policy', () => {
    expect(decideStep('inconclusive', 0, r)).toBe('wait');
    expect(decideStep('inconclusive', 1, r)).toBe('wait');
    expect(decideStep('inconclusive', 2, r)).toBe('rollback');
    expect(decideStep('inconclusive', 2, { ...r, onInconclusive: 'proceed' })).toBe('proceed');
    expect(decideStep('inconclusive', 0, { maxInconclusiveWaits: 0, onInconclusive: 'proceed' })).toBe('proceed');
  });
});

describe('armWindow', () => {
  it('counts ok and error rows as requests, ignores fallback rows, scores the last class', () => {
    const w = armWindow([
      { status: 'ok', latencyMs: 1.5, outputs: { label: 'no', probabilities: { yes: 0.3, no: 0.7 } } },
      { status: 'error', latencyMs: 0, outputs: { error: 'boom' } },
      { status: 'fallback', latencyMs: 2, outputs: { label: 'no', probabilities: { yes: 0.1, no: 0.9 } } },
      { status: 'ok', latencyMs: 2.5, outputs: { prediction: 3 } },
    ]);
    expect(w).toEqual({ requests: 3, errors: 1, latenciesMs: [1.5, 2.5], scores: [0.3, 1] });
    expect(scoreOf({ label: 'x' })).toBeNull();
  });
});

describe('promotion approval', () => {
  const ctx = { awaiting: true, startedBy: 'alice', approvers: ['carol', 'Dave'] };

  it('accepts an approver on the list (case-insensitively) with a reason', () => {
    expect(() => validatePromotionDecision({ approver: 'dave', reason: 'fine' }, ctx)).not.toThrow();
    expect(() => validatePromotionDecision({ approver: 'erin', reason: 'fine' }, { ...ctx, approvers: undefined })).not.toThrow();
  });

  it('refuses the rollout starter, someone off the list, a missing reason, and any decision when none is awaited', () => {
    expect(() => validatePromotionDecision({ approver: 'Alice ', reason: 'mine' }, { ...ctx, approvers: undefined })).toThrow(/Alice started this rollout and may not approve its promotion/);
    expect(() => validatePromotionDecision({ approver: 'erin', reason: 'x' }, ctx)).toThrow(/erin is not an approver for this model; allowed: carol, Dave/);
    expect(() => validatePromotionDecision({ approver: 'carol', reason: ' ' }, ctx)).toThrow(/needs a non-empty reason/);
    expect(() => validatePromotionDecision({ approver: 'carol', reason: 'x' }, { ...ctx, awaiting: false })).toThrow(/not waiting for approval/);
  });

  it('takes an approval plan for canaries only, with a positive deadline', () => {
    expect(resolveRollout({ strategy: 'canary', approval: { deadlineSeconds: 60 } }).approval).toEqual({ deadlineSeconds: 60 });
    expect(resolveRollout({ strategy: 'canary' }).approval).toBeNull();
    expect(() => resolveRollout({ strategy: 'blue-green', approval: {} })).toThrow(/canary strategy only/);
    expect(() => resolveRollout({ strategy: 'canary', approval: { deadlineSeconds: 0 } })).toThrow(/deadlineSeconds must be a positive number/);
  });
});
