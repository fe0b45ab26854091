import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, ValidationError } from '../../../lib/errors.js';
import { effectivePolicy, validateDecision, validatePolicy } from '../../../lib/release/approval.js';

const ok = { approver: 'bob', reason: 'fine' };

describe('validateDecision', () => {
  it('accepts a complete decision while awaiting', () => {
    expect(() => validateDecision(ok, { awaiting: true, startedBy: 'alice' })).not.toThrow();
  });
  it('refuses when nothing awaits a decision', () => {
    expect(() => validateDecision(ok, { awaiting: false })).toThrow(ConflictError);
  });
  it.each([
    [{ approver: ' ', reason: 'x' }, /approver/],
    [{ approver: 'bob', reason: '' }, /reason/],
    [undefined, /approver/],
  ])('needs an approver and a reason: %j', (d, message) => {
    expect(() => validateDecision(d, { awaiting: true })).toThrow(ValidationError);
    expect(() => validateDecision(d, { awaiting: true })).toThrow(message);
  });
  it('forbids deciding on your own run, whatever the case or spacing', () => {
    expect(() => validateDecision({ approver: ' Alice ', reason: 'x' }, { awaiting: true, startedBy: 'alice' })).toThrow(ForbiddenError);
  });
  it('enforces the approver list when there is one', () => {
    const policy = { approvers: ['Carol', 'dave'] };
    expect(() => validateDecision(ok, { awaiting: true, policy })).toThrow(/not an approver/);
    expect(() => validateDecision({ approver: 'carol', reason: 'x' }, { awaiting: true, policy })).not.toThrow();
  });
});

describe('validatePolicy', () => {
  it('accepts no policy and a sensible one', () => {
    expect(() => validatePolicy(undefined)).not.toThrow();
    expect(() => validatePolicy({ reminderAfterSeconds: 60, reminderWebhook: 'http://x', deadlineSeconds: 120 })).not.toThrow();
  });
  it.each([
    [{ deadlineSeconds: 0 }, /deadlineSeconds/],
    [{ reminderAfterSeconds: 10, reminderWebhook: 'http://x', deadlineSeconds: 5 }, /shorter/],
    [{ reminderAfterSeconds: 10 }, /reminderWebhook/],
  ])('refuses %j', (policy, message) => {
    expect(() => validatePolicy(policy)).toThrow(message);
  });
});

describe('gatesRejectionReason', () => {
  it('lists the failed gates with their numbers, or says why the gates could not run', async () => {
    const { gatesRejectionReason } = await import('../../../lib/release/approval.js');
    const gates = {
      passed: false,
      total: 2,
      failed: 1,
      gates: [
        { kind: 'metric', name: 'roc_auc >= 0.6', passed: true, summary: 'roc_auc = 0.9' },
        { kind: 'size', name: 'model size within budget', passed: false, summary: '2 MB, budget 1 MB' },
      ],
    };
    expect(gatesRejectionReason(gates, undefined)).toBe('Gates failed: model size within budget (2 MB, budget 1 MB)');
    expect(gatesRejectionReason(undefined, 'no evaluation set')).toBe('The gates could not be evaluated: no evaluation set');
  });
});

describe('effectivePolicy', () => {
  it("lets the model's approver list win over the run's", () => {
    expect(effectivePolicy({ approvers: ['carol'] }, { approvers: ['bob'] }).approvers).toEqual(['carol']);
    expect(effectivePolicy(null, { approvers: ['bob'] }).approvers).toEqual(['bob']);
    expect(effectivePolicy({ approvers: [] }, undefined).approvers).toBeUndefined();
  });
  it("takes the run's timers when it sets any, else the model's", () => {
    const model = { reminderAfterSeconds: 60, reminderWebhook: 'http://m', deadlineSeconds: 600 };
    expect(effectivePolicy(model, undefined)).toEqual(model);
    expect(effectivePolicy(model, { deadlineSeconds: 5 })).toEqual({ deadlineSeconds: 5 });
  });
});
