import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../lib/errors.js';
import { featureImportance, fitGbdt, predictClasses, predictProbabilities, predictRaw } from '../../../../lib/training/gbdt/index.js';
import { accuracy, sectors, slice, wave, withMissing, xor } from './synthetic.js';

describe('fitGbdt', () => {
  it('learns XOR, which no linear model can, close to the noise ceiling', () => {
    const data = xor(2500, 1);
    const train = slice(data, 0, 1500);
    const valid = slice(data, 1500, 2500);
    const model = fitGbdt(train, { objective: 'binary', numIterations: 60 });
    expect(accuracy(predictClasses(model, valid.X, valid.n), valid.y)).toBeGreaterThan(0.9);
    const p = predictProbabilities(model, valid.X, valid.n);
    for (let i = 0; i < valid.n; i++) expect(p[2 * i] + p[2 * i + 1]).toBeCloseTo(1, 12);
    // The two informative features carry most of the gain.
    const importance = featureImportance(model);
    expect(importance[0] + importance[1]).toBeGreaterThan(0.75);
  });

  it('regression beats the mean predictor by a wide margin', () => {
    const data = wave(2000, 2);
    const train = slice(data, 0, 1500);
    const valid = slice(data, 1500, 2000);
    const model = fitGbdt(train, { objective: 'regression', numIterations: 80 }, { validation: valid });
    const mean = train.y.reduce((a, b) => a + b) / train.n;
    const pred = predictRaw(model, valid.X, valid.n);
    let mse = 0;
    let baseline = 0;
    for (let i = 0; i < valid.n; i++) {
      mse += (pred[i] - valid.y[i]) ** 2;
      baseline += (mean - valid.y[i]) ** 2;
    }
    expect(mse / baseline).toBeLessThan(0.1);
    expect(model.validLoss.at(-1)).toBeCloseTo(mse / valid.n, 4);
    expect(model.baseScores[0]).toBe(Math.fround(mean));
  });

  it('multiclass grows one tree per class per round and separates three sectors', () => {
    const data = sectors(2000, 3);
    const train = slice(data, 0, 1400);
    const valid = slice(data, 1400, 2000);
    const model = fitGbdt(train, { objective: 'multiclass', numIterations: 30 });
    expect(model.numOutputs).toBe(3);
    expect(model.trees.length).toBe(90);
    expect(accuracy(predictClasses(model, valid.X, valid.n), valid.y)).toBeGreaterThan(0.93);
    const p = predictProbabilities(model, valid.X, valid.n);
    expect(p.length).toBe(valid.n * 3);
    for (let i = 0; i < valid.n; i++) expect(p[3 * i] + p[3 * i + 1] + p[3 * i + 2]).toBeCloseTo(1, 12);
  });

  it('reports every round and stops early, keeping the best validation round', () => {
    // Pure label noise: validation loss bottoms out almost at once.
    const data = xor(1200, 4, 0.5);
    const calls: Array<[number, number, number | undefined]> = [];
    const model = fitGbdt(
      slice(data, 0, 800),
      { objective: 'binary', numIterations: 200, learningRate: 0.3, minDataInLeaf: 5, earlyStoppingRounds: 5 },
      { validation: slice(data, 800, 1200), onIteration: (...args) => calls.push(args) },
    );
    expect(model.roundsRun).toBeLessThan(200);
    expect(calls.map((c) => c[0])).toEqual(Array.from({ length: model.roundsRun }, (_, i) => i + 1));
    expect(model.roundsRun - model.rounds).toBe(5);
    expect(model.trees.length).toBe(model.rounds);
    const best = Math.min(...model.validLoss);
    expect(model.validLoss[model.rounds - 1]).toBe(best);
    expect(calls.every(([, train, valid]) => Number.isFinite(train) && Number.isFinite(valid!))).toBe(true);
    // Training loss keeps falling while validation does not: the reason to stop.
    expect(model.trainLoss.at(-1)!).toBeLessThan(model.trainLoss[0]);
  });

  it('is deterministic for a seed, and the seed matters once rows or features are sampled', () => {
    const data = xor(800, 5);
    const params = { objective: 'binary' as const, numIterations: 15, rowSampleFraction: 0.7, featureSampleFraction: 0.5 };
    const a = fitGbdt(data, { ...params, seed: 1 });
    const b = fitGbdt(data, { ...params, seed: 1 });
    const c = fitGbdt(data, { ...params, seed: 2 });
    expect(JSON.stringify(b.trees)).toBe(JSON.stringify(a.trees));
    expect(JSON.stringify(c.trees)).not.toBe(JSON.stringify(a.trees));
    // Without sampling the seed is never drawn from.
    const d = fitGbdt(data, { objective: 'binary', numIterations: 5, seed: 1 });
    const e = fitGbdt(data, { objective: 'binary', numIterations: 5, seed: 2 });
    expect(JSON.stringify(e.trees)).toBe(JSON.stringify(d.trees));
  });

  it('learns where missing values go: toward the side whose labels they share', () => {
    // y = 1 when x0 > 0; rows with x0 missing are positives in one data set and negatives in the other.
    const base = withMissing(xor(600, 6, 0), 0.2, 7);
    for (const missingLabel of [1, 0]) {
      const y = base.y.map((_, i) => (Number.isNaN(base.X[i * base.f]) ? missingLabel : base.X[i * base.f] > 0 ? 1 : 0));
      const X = base.X.map((v, k) => (k % base.f === 0 ? v : Number.isNaN(v) ? 0 : v)); // holes in x0 only
      const model = fitGbdt({ X, y, n: base.n, f: base.f }, { objective: 'binary', numIterations: 1, maxLeaves: 2, minDataInLeaf: 5 });
      const root = model.trees[0];
      expect(root.feature[0]).toBe(0);
      expect(root.missingLeft[0]).toBe(missingLabel === 0);
      const probe = Float64Array.from([Number.NaN, 0.5, 0.5, 0.5]);
      const p1 = predictProbabilities(model, probe, 1)[1];
      expect(p1 > 0.5).toBe(missingLabel === 1);
    }
  });

  it('sends missing values with the larger child where training saw none', () => {
    const data = xor(600, 12, 0);
    const model = fitGbdt(data, { objective: 'binary', numIterations: 3, maxLeaves: 4, minDataInLeaf: 5 });
    // Roots see every row, so the larger child can be counted over the whole set.
    for (const tree of model.trees) {
      const j = tree.feature[0];
      let left = 0;
      for (let i = 0; i < data.n; i++) if (Math.fround(data.X[i * data.f + j]) <= tree.threshold[0]) left++;
      expect(tree.missingLeft[0]).toBe(left >= data.n - left);
    }
  });

  it('can split missing from present values when that separates best', () => {
    const base = withMissing(xor(600, 8, 0), 0.3, 9);
    const y = base.y.map((_, i) => (Number.isNaN(base.X[i * base.f + 2]) ? 1 : 0));
    const model = fitGbdt({ X: base.X, y, n: base.n, f: base.f }, { objective: 'binary', numIterations: 1, maxLeaves: 2, minDataInLeaf: 5 });
    const tree = model.trees[0];
    expect(tree.feature[0]).toBe(2);
    expect(tree.threshold[0]).toBe(Infinity);
    expect(tree.missingLeft[0]).toBe(false);
  });

  it('rejects labels, shapes and parameters it cannot use, saying what to change', () => {
    const data = xor(50, 10);
    expect(() => fitGbdt({ ...data, y: data.y.map((v) => v * 2) }, { objective: 'binary' })).toThrow(/multiclass/);
    expect(() => fitGbdt({ ...data, n: 49 }, { objective: 'binary' })).toThrow(ValidationError);
    expect(() => fitGbdt(data, { objective: 'binary', earlyStoppingRounds: 3 })).toThrow(/validation set/);
    expect(() => fitGbdt(data, { objective: 'binary', maxBins: 256 })).toThrow(/maxBins/);
    expect(() => fitGbdt({ ...data, y: data.y.map((v, i) => (i === 3 ? Number.NaN : v)) }, { objective: 'regression' })).toThrow(/row 3/);
    expect(() => fitGbdt(data, { objective: 'binary' }, { validation: { ...data, f: 3, X: data.X.slice(0, 150) } })).toThrow(/features/);
  });
});
