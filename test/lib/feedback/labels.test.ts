// Feedback label checks and live quality scoring (pure).
import { describe, expect, it } from 'vitest';
import { labelProblem } from '../../../lib/feedback/labels.js';
import { scoreLabelled } from '../../../lib/feedback/quality.js';
import { accuracy, logLoss, rocAuc } from '../../../lib/evaluation/index.js';

describe('labelProblem', () => {
  const classifier = { classes: ['no', 'yes'] };
  it('accepts a class of the right type and refuses the wrong type or an unknown class', () => {
    expect(labelProblem('yes', classifier)).toBeNull();
    expect(labelProblem('maybe', classifier)).toMatch(/not one of the model's classes/);
    expect(labelProblem(1, classifier)).toMatch(/not one of/);
    expect(labelProblem(1, { classes: [0, 1] })).toBeNull();
    expect(labelProblem('1', { classes: [0, 1] })).toMatch(/wrong type/);
    expect(labelProblem(true, classifier)).toMatch(/boolean/);
  });
  it('wants a finite number for a regressor', () => {
    const regressor = { classes: ['prediction'], task: 'regression' as const };
    expect(labelProblem(3.5, regressor)).toBeNull();
    expect(labelProblem('3.5', regressor)).toMatch(/finite number/);
  });
});

describe('scoreLabelled', () => {
  const classes = ['no', 'yes'];
  // Deterministic rows: p(yes) rises with i, the label is yes for most high-p rows.
  const rows = Array.from({ length: 60 }, (_, i) => {
    const p = (i + 0.5) / 60;
    const label = (i * 7) % 10 < p * 10 ? 'yes' : 'no';
    return { label, outputs: { label: p >= 0.5 ? 'yes' : 'no', probabilities: { no: 1 - p, yes: p } } };
  });
  it('matches lib/evaluation on the same rows', () => {
    const q = scoreLabelled({ classes }, rows);
    const y = rows.map((r) => (r.label === 'yes' ? 1 : 0));
    const pred = rows.map((r) => (r.outputs.label === 'yes' ? 1 : 0));
    const probs = rows.flatMap((r) => [r.outputs.probabilities.no, r.outputs.probabilities.yes]);
    expect(q.accuracy).toBeCloseTo(accuracy(y, pred), 12);
    expect(q.rocAuc).toBeCloseTo(rocAuc(y, probs), 12);
    expect(q.logLoss).toBeCloseTo(logLoss(Float64Array.from(y), Float64Array.from(probs)), 12);
    expect(q.labelledRows).toBe(60);
    expect(q.rmse).toBeNull();
  });
  it('reports nothing below the minimum number of labelled rows, and notes why a metric is undefined', () => {
    const few = scoreLabelled({ classes }, rows.slice(0, 10));
    expect(few.accuracy).toBeNull();
    expect(few.notes[0]).toMatch(/at least 30/);
    const oneClass = scoreLabelled({ classes }, rows.map((r) => ({ ...r, label: 'yes' })));
    expect(oneClass.accuracy).not.toBeNull();
    expect(oneClass.rocAuc).toBeNull();
    expect(oneClass.notes.join(' ')).toMatch(/roc_auc/);
  });
  it('judges the label the model gave, not one rewritten by post-processing rules', () => {
    const rewritten = rows.map((r) => ({ ...r, outputs: { ...r.outputs, label: 'approve', modelLabel: r.outputs.label } }));
    expect(scoreLabelled({ classes }, rewritten).accuracy).toBe(scoreLabelled({ classes }, rows).accuracy);
    const clamped = Array.from({ length: 40 }, (_, i) => ({ label: i, outputs: { label: 10, modelLabel: i + 2 } }));
    expect(scoreLabelled({ classes: ['prediction'], task: 'regression' }, clamped).rmse).toBeCloseTo(2, 12);
  });
  it('computes RMSE for a regressor', () => {
    const reg = Array.from({ length: 40 }, (_, i) => ({ label: i, outputs: { label: i + 2 } }));
    expect(scoreLabelled({ classes: ['prediction'], task: 'regression' }, reg).rmse).toBeCloseTo(2, 12);
  });
});
