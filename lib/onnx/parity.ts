// Proves onnxruntime reproduces the trainer's own probabilities before a model may be registered.
import { OnnxParityError } from '../errors.js';
import type { ModelSignature } from '../training/types.js';
import { createSession, scoreMatrix } from './session.js';

export const PARITY_TOLERANCE = 1e-5;

export interface ParityReport {
  rows: number;
  maxAbsDiff: number;
  worstRow: number;
}

/**
 * Scores X with onnxruntime and compares every class probability with
 * `expected` (row-major n x classes). Throws OnnxParityError naming the worst
 * row and both values when the gap exceeds the tolerance.
 */
export async function checkOnnxParity(
  modelBytes: Uint8Array,
  signature: ModelSignature,
  X: Float32Array,
  expected: Float64Array | Float32Array,
  n: number,
  tolerance = PARITY_TOLERANCE,
): Promise<ParityReport> {
  const session = await createSession(modelBytes);
  try {
    const { probabilities } = await scoreMatrix(session, signature, X, n);
    if (probabilities.length !== expected.length) {
      throw new OnnxParityError(`onnxruntime returned ${probabilities.length} probabilities for ${n} rows; the trainer produced ${expected.length}.`);
    }
    const k = signature.classes.length;
    let maxAbsDiff = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(probabilities[i] - expected[i]);
      if (!(diff <= maxAbsDiff)) {
        maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
        worst = i;
      }
    }
    const report = { rows: n, maxAbsDiff, worstRow: Math.floor(worst / k) };
    if (!(maxAbsDiff <= tolerance)) {
      throw new OnnxParityError(
        `onnxruntime disagrees with the trainer: max |diff| ${maxAbsDiff.toExponential(3)} > ${tolerance} at row ${report.worstRow}, ` +
          `class ${JSON.stringify(signature.classes[worst % k])} (onnxruntime ${probabilities[worst]}, trainer ${expected[worst]}).`,
      );
    }
    return report;
  } finally {
    await session.release();
  }
}
