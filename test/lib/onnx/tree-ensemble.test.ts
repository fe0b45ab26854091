import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { decodeMetadata } from '../../../lib/onnx/builder.js';
import { checkOnnxParity } from '../../../lib/onnx/parity.js';
import { createSession, scoreMatrix } from '../../../lib/onnx/session.js';
import { exportTreeEnsemble, treeEnsembleSignature } from '../../../lib/onnx/tree-ensemble.js';
import { fitGbdt, predictClasses, predictProbabilities, predictRaw, resolveGbdtParams, type GbdtModel } from '../../../lib/training/gbdt/index.js';
import { float32Neighbours, sectors, slice, wave, withMissing, xor, type Synthetic } from '../training/gbdt/synthetic.js';

/**
 * The validation rows plus, for every finite threshold of every split, a row
 * with that feature exactly at the threshold and at its float32 neighbours:
 * where a float64-vs-float32 slip would route differently.
 */
function probes(model: GbdtModel, valid: Synthetic): { X: Float32Array; n: number } {
  const { f } = valid;
  const rows: number[][] = [];
  for (let i = 0; i < valid.n; i++) rows.push(Array.from(valid.X.subarray(i * f, (i + 1) * f)));
  const seen = new Set<string>();
  model.trees.forEach((tree, t) =>
    tree.feature.forEach((j, node) => {
      const threshold = tree.threshold[node];
      const key = `${j}:${threshold}`;
      if (!Number.isFinite(threshold) || seen.has(key)) return;
      seen.add(key);
      for (const v of [threshold, ...float32Neighbours(threshold)]) {
        const row = rows[(t + node) % valid.n].slice();
        row[j] = v;
        rows.push(row);
      }
    }),
  );
  expect(seen.size).toBeGreaterThan(10);
  return { X: Float32Array.from(rows.flat()), n: rows.length };
}

async function onnxLabels(bytes: Uint8Array, model: GbdtModel, features: string[], X: Float32Array, n: number) {
  const session = await createSession(bytes);
  try {
    return await scoreMatrix(session, treeEnsembleSignature(model, { features }), X, n);
  } finally {
    await session.release();
  }
}

const names = (f: number) => Array.from({ length: f }, (_, j) => `x${j}`);

describe('exportTreeEnsemble', () => {
  it('binary: onnxruntime matches the trainer on NaN and on values at and next to every threshold', async () => {
    const data = withMissing(xor(1200, 21), 0.1, 22);
    const train = slice(data, 0, 800);
    const valid = slice(data, 800, 1200);
    const model = fitGbdt(train, { objective: 'binary', numIterations: 40, minDataInLeaf: 5 }, { validation: valid });
    const features = names(data.f);
    const bytes = exportTreeEnsemble(model, { features });
    const { X, n } = probes(model, valid);
    const report = await checkOnnxParity(bytes, treeEnsembleSignature(model, { features }), X, predictProbabilities(model, X, n), n);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    const scored = await onnxLabels(bytes, model, features, X, n);
    expect(scored.labels).toEqual(Array.from(predictClasses(model, X, n)));
  });

  it('binary: probabilities are [N, 2] with P(positive) in column 1, like the linear export, and string labels work', async () => {
    const data = xor(600, 23);
    const model = fitGbdt(data, { objective: 'binary', numIterations: 10 });
    const features = names(data.f);
    const bytes = exportTreeEnsemble(model, { features, classes: ['no', 'yes'] });
    const session = await createSession(bytes);
    const X = Float32Array.from(data.X.subarray(0, 20 * data.f));
    const out = await session.run({ features: new ort.Tensor('float32', X, [20, data.f]) });
    await session.release();
    expect(out.probabilities.dims).toEqual([20, 2]);
    expect(out.label.dims).toEqual([20]);
    const p = out.probabilities.data as Float32Array;
    const raw = predictRaw(model, X, 20);
    for (let i = 0; i < 20; i++) {
      expect(p[2 * i + 1]).toBeCloseTo(1 / (1 + Math.exp(-raw[i])), 6);
      expect(out.label.data[i]).toBe(raw[i] > 0 ? 'yes' : 'no');
    }
    expect(treeEnsembleSignature(model, { features, classes: ['no', 'yes'] })).toMatchObject({
      inputName: 'features',
      outputs: { label: 'label', probabilities: 'probabilities' },
      classes: ['no', 'yes'],
    });
  });

  it('multiclass: SOFTMAX over one score per class matches the trainer, labels included', async () => {
    const data = withMissing(sectors(1200, 24), 0.05, 25);
    const train = slice(data, 0, 800);
    const valid = slice(data, 800, 1200);
    const model = fitGbdt(train, { objective: 'multiclass', numIterations: 25, minDataInLeaf: 5 });
    const features = names(data.f);
    const classes = [10, 20, 30];
    const bytes = exportTreeEnsemble(model, { features, classes });
    const { X, n } = probes(model, valid);
    const signature = treeEnsembleSignature(model, { features, classes });
    const report = await checkOnnxParity(bytes, signature, X, predictProbabilities(model, X, n), n);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    const scored = await onnxLabels(bytes, model, features, X, n);
    expect(scored.labels).toEqual(Array.from(predictClasses(model, X, n), (k) => classes[k]));
  });

  it('regression: onnxruntime reproduces the trainer bit for bit, even on targets in the thousands', async () => {
    const data = withMissing(wave(1000, 26, 5000), 0.1, 27);
    const train = slice(data, 0, 700);
    const valid = slice(data, 700, 1000);
    const model = fitGbdt(train, { objective: 'regression', numIterations: 60, minDataInLeaf: 5 });
    const features = names(data.f);
    const bytes = exportTreeEnsemble(model, { features });
    const { X, n } = probes(model, valid);
    const expected = predictRaw(model, X, n);
    const signature = treeEnsembleSignature(model, { features });
    expect(signature.outputs).toEqual({ label: 'prediction', probabilities: 'prediction' });
    const report = await checkOnnxParity(bytes, signature, X, expected, n);
    expect(report.maxAbsDiff).toBe(0);
  });

  it('keeps the log-odds label rule when no leaf is negative (onnxruntime would otherwise threshold at 0.5)', async () => {
    // One stump, leaves +0.1 and +0.3, base -0.2: scores -0.1 and +0.1.
    const model: GbdtModel = {
      objective: 'binary',
      numFeatures: 1,
      numOutputs: 1,
      baseScores: [Math.fround(-0.2)],
      trees: [
        { feature: [0], bin: [0], threshold: [0.5], missingLeft: [true], left: [~0], right: [~1], gain: [1], leafValue: [Math.fround(0.1), Math.fround(0.3)] },
      ],
      rounds: 1,
      roundsRun: 1,
      lossName: 'log_loss',
      trainLoss: [],
      validLoss: [],
      params: resolveGbdtParams({ objective: 'binary' }),
    };
    const X = Float32Array.from([0, 1, Number.NaN, 0.5]);
    const bytes = exportTreeEnsemble(model, { features: ['a'] });
    const scored = await onnxLabels(bytes, model, ['a'], X, 4);
    expect(scored.labels).toEqual([0, 1, 0, 0]);
    expect(Array.from(predictClasses(model, X, 4))).toEqual([0, 1, 0, 0]);
    await checkOnnxParity(bytes, treeEnsembleSignature(model, { features: ['a'] }), X, predictProbabilities(model, X, 4), 4);
  });

  it('encodes deterministically: same seed, same bytes; another seed with subsampling, other bytes', () => {
    const data = xor(600, 28);
    const params = { objective: 'binary' as const, numIterations: 10, rowSampleFraction: 0.8, featureSampleFraction: 0.75 };
    const features = names(data.f);
    const a = exportTreeEnsemble(fitGbdt(data, { ...params, seed: 7 }), { features, metadata: { 'mlcycle.dataset_version': 'd@1' } });
    const b = exportTreeEnsemble(fitGbdt(data, { ...params, seed: 7 }), { features, metadata: { 'mlcycle.dataset_version': 'd@1' } });
    const c = exportTreeEnsemble(fitGbdt(data, { ...params, seed: 8 }), { features, metadata: { 'mlcycle.dataset_version': 'd@1' } });
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(c).equals(Buffer.from(a))).toBe(false);
    const meta = decodeMetadata(a);
    expect(JSON.parse(meta['mlcycle.signature']).features.map((x: { name: string }) => x.name)).toEqual(features);
    expect(meta['mlcycle.dataset_version']).toBe('d@1');
  });

  it('refuses feature names or class labels that do not fit the model', () => {
    const data = xor(200, 29);
    const model = fitGbdt(data, { objective: 'binary', numIterations: 2 });
    expect(() => exportTreeEnsemble(model, { features: ['a'] })).toThrow(ValidationError);
    expect(() => exportTreeEnsemble(model, { features: names(4), classes: [0, 1, 2] })).toThrow(/2 classes/);
    expect(() => exportTreeEnsemble(model, { features: names(4), classes: [0.5, 1] })).toThrow(/integers/);
  });
});
