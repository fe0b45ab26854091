// onnxruntime sessions over model bytes, and scoring rows through a model's signature (one or several input tensors).
import ort from 'onnxruntime-node';
import { signatureInputs, type ModelSignature } from '../training/types.js';

export type Session = ort.InferenceSession;

export function createSession(bytes: Uint8Array): Promise<Session> {
  // One intra-op thread: serving scores many small batches, where thread hand-offs cost more than they save.
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export interface Scores {
  /** Class label per row (regressors: the prediction). */
  labels: Array<string | number>;
  /** Row-major n x classes.length (regressors: n x 1 predictions). */
  probabilities: Float32Array;
}

/** Column-oriented input: per feature, n values (NaN or null for missing numbers, null for missing strings). */
export type InputColumns = Record<string, ArrayLike<number | null> | ArrayLike<string | null>>;

/** Builds one tensor per signature input from feature columns. Missing strings are sent as "" (an unknown category). */
export function feedsFromColumns(signature: ModelSignature, columns: InputColumns, n: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of signatureInputs(signature)) {
    const w = input.features.length;
    if (input.type === 'float') {
      const data = new Float32Array(n * w);
      input.features.forEach((name, j) => {
        const col = columns[name] as ArrayLike<number | null>;
        for (let i = 0; i < n; i++) {
          const v = col[i];
          data[i * w + j] = v === null ? Number.NaN : v;
        }
      });
      feeds[input.name] = new ort.Tensor('float32', data, [n, w]);
    } else {
      const data = new Array<string>(n * w);
      input.features.forEach((name, j) => {
        const col = columns[name] as ArrayLike<string | null>;
        for (let i = 0; i < n; i++) data[i * w + j] = col[i] ?? '';
      });
      feeds[input.name] = new ort.Tensor('string', data, [n, w]);
    }
  }
  return feeds;
}

async function run(session: Session, signature: ModelSignature, feeds: Record<string, ort.Tensor>): Promise<Scores> {
  const out = await session.run(feeds);
  const labelData = out[signature.outputs.label].data as ArrayLike<unknown>;
  const labels: Array<string | number> = Array.from(labelData, (v) => (typeof v === 'bigint' ? Number(v) : (v as string | number)));
  return { labels, probabilities: out[signature.outputs.probabilities].data as Float32Array };
}

/** Scores n rows of an all-float signature given as one row-major matrix (NaN for missing). */
export async function scoreMatrix(session: Session, signature: ModelSignature, X: Float32Array, n: number): Promise<Scores> {
  const inputs = signatureInputs(signature);
  if (inputs.length === 1 && inputs[0].type === 'float' && inputs[0].features.length === signature.features.length) {
    return run(session, signature, { [inputs[0].name]: new ort.Tensor('float32', X, [n, signature.features.length]) });
  }
  // Several tensors: split the matrix into columns by feature order.
  const f = signature.features.length;
  const columns: InputColumns = {};
  signature.features.forEach(({ name }, j) => {
    columns[name] = Float32Array.from({ length: n }, (_, i) => X[i * f + j]);
  });
  return run(session, signature, feedsFromColumns(signature, columns, n));
}

/** Scores n rows given as feature columns, whatever tensors the signature packs them into. */
export async function scoreColumns(session: Session, signature: ModelSignature, columns: InputColumns, n: number): Promise<Scores> {
  return run(session, signature, feedsFromColumns(signature, columns, n));
}
