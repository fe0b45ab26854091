// In-process scoring on the serving issue's model (100-tree GBDT, 20 features, bench/serving-model.ts): a bare
// onnxruntime session.run on a prebuilt tensor, one row and batches of 1024, against mlcycle's scoring path on
// the same rows (JSON rows -> signature check -> tensor -> onnxruntime -> labels and probabilities).
import ort from 'onnxruntime-node';
import { createSession, scoreMatrix } from '../lib/onnx/session.js';
import { rowsToMatrix } from '../lib/serving/predictor.js';
import { FEATURES, jsonRow, servingModel, syntheticRows, TREES } from './serving-model.js';
import { formatNs, measure } from './timing.js';

const { bytes, signature } = servingModel();
const session = await createSession(bytes);
const X = syntheticRows(1024, 99);

const lines = [
  `## Online scoring in process (${TREES}-tree GBDT, ${FEATURES} features)`,
  '',
  '| rows per call | bare session.run | rows/s | mlcycle scoring path | rows/s | path ÷ bare time |',
  '|---|---|---|---|---|---|',
];
for (const n of [1, 32, 1024]) {
  const slice = X.subarray(0, n * FEATURES);
  const rows = Array.from({ length: n }, (_, i) => jsonRow(X, i));
  const ops = n === 1 ? 3000 : n === 32 ? 1000 : 100;
  const bare = await measure(() => session.run({ [signature.inputName]: new ort.Tensor('float32', slice, [n, FEATURES]) }), ops);
  const path = await measure(async () => {
    const { labels, probabilities } = await scoreMatrix(session, signature, rowsToMatrix(rows, { signature }), n);
    return labels.map((label, i) => ({ label, p: probabilities[i * 2 + 1] }));
  }, ops);
  const rps = (ns: number) => Math.round((n * 1e9) / ns).toLocaleString('en-US');
  lines.push(`| ${n} | ${formatNs(bare.medianNs)} | ${rps(bare.medianNs)} | ${formatNs(path.medianNs)} | ${rps(path.medianNs)} | ${(path.medianNs / bare.medianNs).toFixed(2)}× |`);
}
lines.push(
  '',
  'Median of 7 repeats after a warm-up; one intra-op thread (as served). The path includes validating and packing',
  'JSON rows and unpacking the answer, not HTTP (see serving-http) nor the prediction log. Command: `npm run bench -- serving`.',
  '',
);
console.log(lines.join('\n'));
await session.release();
