// Proves onnxruntime reproduces the trainer's own probabilities before a model may be registered.
import { OnnxParityError } from '../errors.js';
import type { ModelSignature } from '../training/types.js';
import { createSession, scoreColumns, scoreMatrix, type InputColumns } from './session.js';

export const PARITY_TOLERANCE = 1e-5;

export interface ParityReport {
  rows: number;
  maxAbsDiff: number;
  worstRow: number;
}

/**
 * Scores X (a row-major float matrix, or feature columns for mixed numeric/string signatures) with
 * onnxruntime and compares every class probability with `expected` (row-major n x classes; regressors:
 * n predictions). Throws OnnxParityError naming the worst row and both values when the gap exceeds the
 * tolerance. Regression outputs are float32 in the target's units, so there the tolerance is relative:
 * |diff| <= tolerance * max(1, |expected|).
 */
export async function checkOnnxParity(
  modelBytes: Uint8Array,
  signature: ModelSignature,
  X: Float32Array | InputColumns,
  expected: Float64Array | Float32Array,
  n: number,
  tolerance = PARITY_TOLERANCE,
): Promise<ParityReport> {
  const session = await createSession(modelBytes);
  try {
    const { probabilities } = X instanceof Float32Array ? await scoreMatrix(session, signature, X, n) : await scoreColumns(session, signature, X, n);
    if (probabilities.length !== expected.length) {
      throw new OnnxParityError(`onnxruntime returned ${probabilities.length} probabilities for ${n} rows; the trainer produced ${expected.length}.`);
    }
    const k = Math.max(1, signature.classes.length);
    const relative = signature.task === 'regression';
    let maxAbsDiff = 0;
    let worstRatio = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(probabilities[i] - expected[i]);
      const ratio = relative ? diff / Math.max(1, Math.abs(expected[i])) : diff;
      if (!(ratio <= worstRatio)) {
        worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
        worst = i;
      }
      if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
    }
    const report = { rows: n, maxAbsDiff, worstRow: Math.floor(worst / k) };
    if (!(worstRatio <= tolerance)) {
      throw new OnnxParityError(
        `onnxruntime disagrees with the trainer: max ${relative ? 'relative ' : ''}|diff| ${worstRatio.toExponential(3)} > ${tolerance} at row ${report.worstRow}, ` +
          `class ${JSON.stringify(signature.classes[worst % k])} (onnxruntime ${probabilities[worst]}, trainer ${expected[worst]}).`,
      );
    }
    return report;
  } finally {
    await session.release();
  }
}
