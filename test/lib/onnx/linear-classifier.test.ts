import { describe, expect, it } from 'vitest';
import { OnnxParityError } from '../../../lib/errors.js';
import { decodeMetadata } from '../../../lib/onnx/builder.js';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../../../lib/onnx/linear-classifier.js';
import { checkOnnxParity } from '../../../lib/onnx/parity.js';
import { createSession, scoreMatrix } from '../../../lib/onnx/session.js';

const pipeline: LinearPipeline = {
  features: ['a', 'b'],
  imputeValues: [0.5, 1],
  mean: [1, 2],
  scale: [2, 4],
  coefficients: [0.5, -1],
  intercept: 0.3,
  classes: ['no', 'yes'],
};

/** The pipeline written out by hand: impute NaN, standardise, logistic. */
function reference(a: number, b: number): number {
  const x = [Number.isNaN(a) ? 0.5 : a, Number.isNaN(b) ? 1 : b];
  const z = 0.5 * ((x[0] - 1) / 2) - 1 * ((x[1] - 2) / 4) + 0.3;
  return 1 / (1 + Math.exp(-z));
}

describe('exportLinearClassifier', () => {
  const rows = [
    [1, 2],
    [3, Number.NaN],
    [Number.NaN, 10],
    [-5, 0.25],
  ];
  const X = Float32Array.from(rows.flat());

  it('scores like the hand-written pipeline, missing values included', async () => {
    const bytes = exportLinearClassifier(pipeline);
    const session = await createSession(bytes);
    const { labels, probabilities } = await scoreMatrix(session, linearSignature(pipeline), X, rows.length);
    rows.forEach(([a, b], i) => {
      const p = reference(a, b);
      expect(probabilities[i * 2 + 1]).toBeCloseTo(p, 6);
      expect(probabilities[i * 2]).toBeCloseTo(1 - p, 6);
      expect(labels[i]).toBe(p > 0.5 ? 'yes' : 'no');
    });
    await session.release();
  });

  it('carries its signature in the model metadata and encodes deterministically', () => {
    const bytes = exportLinearClassifier(pipeline, { 'mlcycle.dataset_version': 'd@1' });
    expect(JSON.parse(decodeMetadata(bytes)['mlcycle.signature'])).toEqual(linearSignature(pipeline));
    expect(Buffer.from(exportLinearClassifier(pipeline, { 'mlcycle.dataset_version': 'd@1' })).equals(Buffer.from(bytes))).toBe(true);
  });

  it('passes the parity check against exact expectations and fails it, naming the row, when they differ', async () => {
    const bytes = exportLinearClassifier(pipeline);
    const expected = Float64Array.from(rows.flatMap(([a, b]) => [1 - reference(a, b), reference(a, b)]));
    const report = await checkOnnxParity(bytes, linearSignature(pipeline), X, expected, rows.length);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expected[5] += 1e-3; // row 2, class "yes"
    await expect(checkOnnxParity(bytes, linearSignature(pipeline), X, expected, rows.length)).rejects.toThrow(OnnxParityError);
    await expect(checkOnnxParity(bytes, linearSignature(pipeline), X, expected, rows.length)).rejects.toThrow(/row 2, class "yes"/);
  });
});
