// The scoring thread (lib/onnx/scoring-thread.ts): holds onnxruntime sessions by id and runs them on request,
// posting output tensors back with their buffers transferred, not copied.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { createSession, type Session } from './session.js';

/** A tensor as plain data (what crosses threads). */
export interface PlainTensor {
  type: ort.Tensor.Type;
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];
  dims: readonly number[];
}

export type ScoringRequest = { type: 'create'; bytes: Uint8Array } | { type: 'run'; session: number; feeds: Record<string, PlainTensor> };

/** Serving thread -> scoring thread. */
export type ToScoringThread = (ScoringRequest & { id: number }) | { type: 'release'; session: number };

/** Scoring thread -> serving thread, answering a request by its id. */
export type FromScoringThread =
  | { type: 'created'; id: number; session: number; inputMetadata: ort.InferenceSession.ValueMetadata[]; outputMetadata: ort.InferenceSession.ValueMetadata[] }
  | { type: 'ran'; id: number; outputs: Record<string, PlainTensor> }
  | { type: 'error'; id: number; name: string; message: string };

const port = parentPort!;
const sessions = new Map<number, Session>();
let nextSession = 0;

async function answer(m: ScoringRequest & { id: number }): Promise<void> {
  if (m.type === 'create') {
    const session = await createSession(m.bytes);
    const id = ++nextSession;
    sessions.set(id, session);
    port.postMessage({
      type: 'created',
      id: m.id,
      session: id,
      // Plain copies: metadata objects may carry fields that cannot be cloned.
      inputMetadata: session.inputMetadata.map((x) => ({ ...x })),
      outputMetadata: session.outputMetadata.map((x) => ({ ...x })),
    } satisfies FromScoringThread);
    return;
  }
  const session = sessions.get(m.session);
  if (!session) throw new Error(`Scoring session ${m.session} does not exist (released?).`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  const out = await session.run(feeds);
  const outputs: Record<string, PlainTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(out)) {
    const tensor = t as ort.Tensor;
    outputs[name] = { type: tensor.type, data: tensor.data as PlainTensor['data'], dims: tensor.dims };
    if (ArrayBuffer.isView(tensor.data) && tensor.data.buffer instanceof ArrayBuffer) transfer.push(tensor.data.buffer);
  }
  port.postMessage({ type: 'ran', id: m.id, outputs } satisfies FromScoringThread, transfer);
}

port.on('message', (m: ToScoringThread) => {
  if (m.type === 'release') {
    const session = sessions.get(m.session);
    sessions.delete(m.session);
    void session?.release().catch(() => {});
    return;
  }
  answer(m).catch((err: Error) => port.postMessage({ type: 'error', id: m.id, name: err.name, message: err.message } satisfies FromScoringThread));
});
