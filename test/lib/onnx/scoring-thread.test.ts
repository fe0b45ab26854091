// Sessions on the scoring thread answer exactly what an in-process session answers (labels, probabilities,
// metadata), report onnxruntime's errors, and survive the thread's death by re-creating themselves.
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createThreadSession, stopScoringThread } from '../../../lib/onnx/scoring-thread.js';
import { createSession, scoreMatrix } from '../../../lib/onnx/session.js';
import { exportTreeEnsemble, treeEnsembleSignature } from '../../../lib/onnx/tree-ensemble.js';
import { fitGbdt } from '../../../lib/training/gbdt/index.js';
import { slice, xor } from '../training/gbdt/synthetic.js';

const data = xor(600, 5);
const model = fitGbdt(slice(data, 0, 500), { objective: 'binary', numIterations: 20, minDataInLeaf: 5 });
const features = Array.from({ length: data.f }, (_, j) => `x${j}`);
const bytes = exportTreeEnsemble(model, { features });
const signature = treeEnsembleSignature(model, { features });
const held = slice(data, 500, 600);
const rows = { X: Float32Array.from(held.X), n: held.n };

afterAll(() => stopScoringThread());

describe('scoring thread sessions', () => {
  it('score as an in-process session does, with the same metadata', async () => {
    const local = await createSession(bytes);
    const threaded = await createThreadSession(bytes);
    try {
      const a = await scoreMatrix(local, signature, rows.X, rows.n);
      const b = await scoreMatrix(threaded, signature, rows.X, rows.n);
      expect(b.labels).toEqual(a.labels);
      expect(Array.from(b.probabilities)).toEqual(Array.from(a.probabilities));
      expect(threaded.inputMetadata).toEqual(local.inputMetadata.map((m) => ({ ...m })));
      expect(threaded.outputMetadata).toEqual(local.outputMetadata.map((m) => ({ ...m })));
    } finally {
      await local.release();
      await threaded.release();
    }
  });

  it("rejects with onnxruntime's error for a bad feed, and refuses a released session", async () => {
    const threaded = await createThreadSession(bytes);
    await expect(threaded.run({ [signature.inputName]: new ort.Tensor('float32', new Float32Array(3), [1, 3]) })).rejects.toThrow(/dimension|shape|Got invalid/i);
    await threaded.release();
    await expect(scoreMatrix(threaded, signature, rows.X, rows.n)).rejects.toThrow('released');
    await expect(createThreadSession(Uint8Array.from([1, 2, 3]))).rejects.toThrow();
  });

  it('re-creates its session on a new thread after the thread dies', async () => {
    const threaded = await createThreadSession(bytes);
    const before = await scoreMatrix(threaded, signature, rows.X, rows.n);
    await stopScoringThread();
    const after = await scoreMatrix(threaded, signature, rows.X, rows.n);
    expect(Array.from(after.probabilities)).toEqual(Array.from(before.probabilities));
    await threaded.release();
  });
});
