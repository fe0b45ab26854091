// Online scoring overhead: mlcycle's in-process scoring path (JSON rows -> signature check -> tensor ->
// onnxruntime -> labelled answer) against a bare onnxruntime session.run on the same model and rows.
import ort from 'onnxruntime-node';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../lib/onnx/linear-classifier.js';
import { createSession, scoreMatrix } from '../lib/onnx/session.js';
import { rowsToMatrix } from '../lib/serving/predictor.js';
import { formatNs, measure } from './timing.js';

const features = Array.from({ length: 10 }, (_, i) => `f${i}`);
const pipeline: LinearPipeline = {
  features,
  imputeValues: features.map(() => 0),
  mean: features.map(() => 0),
  scale: features.map(() => 1),
  coefficients: features.map((_, i) => (i % 2 ? 0.3 : -0.2)),
  intercept: 0.1,
  classes: ['no', 'yes'],
};
const signature = linearSignature(pipeline);
const session = await createSession(exportLinearClassifier(pipeline));

const lines = ['## Online scoring (10 features, logistic regression)', '', '| rows per call | bare session.run | mlcycle scoring path | ratio |', '|---|---|---|---|'];
for (const n of [1, 32, 256]) {
  const rows = Array.from({ length: n }, (_, r) => Object.fromEntries(features.map((f, j) => [f, (r * 7 + j) % 13])));
  const X = Float32Array.from(rows.flatMap((row) => features.map((f) => row[f] as number)));
  const ops = n === 1 ? 2000 : 500;
  const bare = await measure(() => session.run({ features: new ort.Tensor('float32', X, [n, features.length]) }), ops);
  const path = await measure(async () => {
    const m = rowsToMatrix(rows, { signature });
    const { labels, probabilities } = await scoreMatrix(session, signature, m, n);
    return labels.map((label, i) => ({ label, p: probabilities[i * 2 + 1] }));
  }, ops);
  lines.push(`| ${n} | ${formatNs(bare.medianNs)} | ${formatNs(path.medianNs)} | ${(path.medianNs / bare.medianNs).toFixed(2)}× |`);
}
lines.push('', 'Command: `npm run bench -- serving`. Excludes HTTP and the registry lookup; both are measured by the serving issue.', '');
console.log(lines.join('\n'));
await session.release();
