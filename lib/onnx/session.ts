// onnxruntime sessions over model bytes, and scoring a float matrix through a model's signature.
import ort from 'onnxruntime-node';
import type { ModelSignature } from '../training/types.js';

export type Session = ort.InferenceSession;

export function createSession(bytes: Uint8Array): Promise<Session> {
  // One intra-op thread: serving scores many small batches, where thread hand-offs cost more than they save.
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export interface Scores {
  /** Class label per row. */
  labels: Array<string | number>;
  /** Row-major n x classes.length. */
  probabilities: Float32Array;
}

/** Scores n rows (row-major, NaN for missing) and returns labels and class probabilities. */
export async function scoreMatrix(session: Session, signature: ModelSignature, X: Float32Array, n: number): Promise<Scores> {
  const f = signature.features.length;
  const out = await session.run({ [signature.inputName]: new ort.Tensor('float32', X, [n, f]) });
  const labelData = out[signature.outputs.label].data as ArrayLike<unknown>;
  const labels: Array<string | number> = Array.from(labelData, (v) => (typeof v === 'bigint' ? Number(v) : (v as string | number)));
  return { labels, probabilities: out[signature.outputs.probabilities].data as Float32Array };
}
