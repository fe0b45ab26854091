import { describe, expect, it } from 'vitest';

import { accuracy, classificationScores, confusionAtThreshold, confusionMatrix } from '../../../lib/evaluation/classification.js';
import { EvaluationInputError } from '../../../lib/evaluation/errors.js';
import { predictLabels } from '../../../lib/evaluation/inputs.js';
import { expectAllClose, probabilitiesOf, sklearn } from './fixtures/sklearn.js';

describe('label metrics match scikit-learn', () => {
  for (const c of sklearn.binary) {
    it(`binary: ${c.name} at threshold ${c.threshold}`, () => {
      const predicted = predictLabels(probabilitiesOf(c), c.y.length, c.threshold);
      const scores = classificationScores(c.y, predicted, 2);
      expect(scores.accuracy).toBeCloseTo(c.labels.accuracy, 12);
      expect(confusionMatrix(c.y, predicted, 2)).toEqual(c.labels.confusion);
      expect(confusionAtThreshold(c.y, probabilitiesOf(c), c.threshold).matrix).toEqual(c.labels.confusion);
      expectAllClose(scores.perClass.map((s) => s.precision), c.labels.perClass.precision);
      expectAllClose(scores.perClass.map((s) => s.recall), c.labels.perClass.recall);
      expectAllClose(scores.perClass.map((s) => s.f1), c.labels.perClass.f1);
      expect(scores.perClass.map((s) => s.support)).toEqual(c.labels.perClass.support);
      for (const avg of ['macro', 'micro', 'weighted'] as const) {
        expect(scores[avg].precision).toBeCloseTo(c.labels[avg].precision, 12);
        expect(scores[avg].recall).toBeCloseTo(c.labels[avg].recall, 12);
        expect(scores[avg].f1).toBeCloseTo(c.labels[avg].f1, 12);
      }
    });
  }

  for (const c of sklearn.multiclass) {
    it(`multiclass: ${c.name} (argmax)`, () => {
      const predicted = predictLabels(c.p, c.y.length);
      const scores = classificationScores(c.y, predicted, c.numClasses);
      expect(scores.accuracy).toBeCloseTo(c.labels.accuracy, 12);
      expect(confusionMatrix(c.y, predicted, c.numClasses)).toEqual(c.labels.confusion);
      expectAllClose(scores.perClass.map((s) => s.precision), c.labels.perClass.precision);
      expectAllClose(scores.perClass.map((s) => s.recall), c.labels.perClass.recall);
      expectAllClose(scores.perClass.map((s) => s.f1), c.labels.perClass.f1);
      for (const avg of ['macro', 'micro', 'weighted'] as const) {
        expect(scores[avg].precision).toBeCloseTo(c.labels[avg].precision, 12);
        expect(scores[avg].recall).toBeCloseTo(c.labels[avg].recall, 12);
        expect(scores[avg].f1).toBeCloseTo(c.labels[avg].f1, 12);
      }
    });
  }
});

describe('label metric edge cases', () => {
  it('a class never predicted scores 0 by default, 1 with zeroDivision: 1', () => {
    // sklearn: precision_recall_fscore_support([0,1,1], [0,0,0], labels=[0,1], zero_division=0|1)
    const yTrue = [0, 1, 1];
    const yPred = [0, 0, 0];
    expect(classificationScores(yTrue, yPred, 2).perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(classificationScores(yTrue, yPred, 2, { zeroDivision: 1 }).perClass[1]).toMatchObject({ precision: 1, recall: 0, f1: 0 });
  });

  it('counts classes absent from the test set in the macro average', () => {
    // labels=range(3): class 2 neither occurs nor is predicted, so it adds a 0 to the macro mean.
    const scores = classificationScores([0, 1], [0, 1], 3);
    expect(scores.macro.f1).toBeCloseTo(2 / 3, 12);
    expect(scores.micro.f1).toBe(1);
    expect(scores.weighted.f1).toBe(1);
  });

  it('predicts positive at p >= threshold and takes the first class on argmax ties', () => {
    expect(Array.from(predictLabels([0.5, 0.49, 0.7], 3, 0.5))).toEqual([1, 0, 1]);
    expect(Array.from(predictLabels([0.4, 0.4, 0.2, 0.1, 0.45, 0.45], 2))).toEqual([0, 1]);
  });

  it('rejects labels outside 0..K-1 and length mismatches with a readable error', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/y_true\[1\] = 3 is not a class index in 0..2/);
    expect(() => accuracy([0, 1], [0])).toThrow(EvaluationInputError);
    expect(() => confusionMatrix([0, 0.5], [0, 1], 2)).toThrow(EvaluationInputError);
  });
});
