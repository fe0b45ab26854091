// Post-processing rules: threshold, clamp and label map on one version's predictions, and their checks.
import { describe, expect, it } from 'vitest';
import { applyPostprocess, checkPostprocess } from '../../../lib/serving/postprocess.js';

const binary = { classes: ['no', 'yes'], task: 'classification' as const };
const regressor = { classes: ['prediction'], task: 'regression' as const };
const p = (yes: number) => ({ label: yes >= 0.5 ? 'yes' : 'no', probabilities: { no: 1 - yes, yes } });

describe('applyPostprocess', () => {
  it('picks the positive class at or above the threshold, keeps the model label, then maps labels', () => {
    const out = applyPostprocess({ threshold: { positiveClass: 'yes', value: 0.3 }, labelMap: { yes: 'decline' } }, binary, 'm v1', [p(0.2), p(0.3), p(0.7)]);
    expect(out.map((o) => [o.label, o.modelLabel])).toEqual([
      ['no', 'no'],
      ['decline', 'no'],
      ['decline', 'yes'],
    ]);
    expect(out[0].probabilities).toEqual(p(0.2).probabilities);
  });

  it('thresholds on numeric classes by their text', () => {
    const out = applyPostprocess({ threshold: { positiveClass: '1', value: 0.9 } }, { classes: [0, 1] }, 'm v1', [{ label: 1, probabilities: { 0: 0.2, 1: 0.8 } }]);
    expect(out[0]).toMatchObject({ label: 0, modelLabel: 1 });
  });

  it('clamps a regressor between its bounds', () => {
    const rows = [-3, 0.5, 12].map((v) => ({ label: v, probabilities: { prediction: v } }));
    expect(applyPostprocess({ clamp: { min: 0, max: 10 } }, regressor, 'r v1', rows).map((o) => o.label)).toEqual([0, 0.5, 10]);
    expect(applyPostprocess({ clamp: { max: 1 } }, regressor, 'r v1', rows).map((o) => o.label)).toEqual([-3, 0.5, 1]);
  });

  it('fails as a server error (not a ValidationError) when the rules do not fit the version that answered', () => {
    const err = (() => {
      try {
        applyPostprocess({ threshold: { positiveClass: 'yes', value: 0.5 } }, { classes: ['a', 'b', 'c'] }, 'm v3', [p(0.1)]);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).toBe('Error');
    expect(err?.message).toContain('does not fit m v3: postprocess.threshold needs a binary classifier; m v3 has 3 classes');
  });
});

describe('checkPostprocess', () => {
  it('names the field that does not fit', () => {
    expect(() => checkPostprocess({ threshold: { positiveClass: 'maybe', value: 0.5 } }, binary, 'm v1')).toThrow(/positiveClass "maybe" is not a class of m v1 \(no, yes\)/);
    expect(() => checkPostprocess({ threshold: { positiveClass: 'yes', value: 0.5 } }, regressor, 'r v1')).toThrow(/needs a binary classifier; r v1 is a regressor/);
    expect(() => checkPostprocess({ clamp: { min: 0 } }, binary, 'm v1')).toThrow(/clamp needs a regressor/);
    expect(() => checkPostprocess({ clamp: { min: 2, max: 1 } }, regressor, 'r v1')).toThrow(/min \(2\) is above max \(1\)/);
    expect(() => checkPostprocess({ labelMap: { yes: 'decline' } }, binary, 'm v1')).not.toThrow();
  });
});
