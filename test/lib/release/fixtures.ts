// Small hand-built candidates for release tests: a two-feature logistic ONNX model and its evaluation set,
// registered without running training (fast, and independent of the trainer).
import { randomUUID } from 'node:crypto';
import { makeVector, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../../../lib/onnx/linear-classifier.js';
import { registerModelVersion } from '../../../lib/registry/registry.js';
import type { ModelVersion } from '../../../lib/registry/types.js';
import type { ArtifactStore } from '../../../lib/storage/artifacts.js';
import type { Db } from '../../../lib/storage/db.js';
import { LABEL_COLUMN } from '../../../lib/training/train.js';
import { gaussian, seededRandom } from '../../../lib/util/random.js';

export const FEATURES = ['a', 'b'];

/** y = 1 when a + 0.5 b + noise > 0; `segment` alternates x/y (a slice column the model does not use). */
export function evaluationRows(n = 400, seed = 7) {
  const rand = seededRandom(seed);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const y = new Int32Array(n);
  const segment: string[] = [];
  for (let i = 0; i < n; i++) {
    a[i] = gaussian(rand);
    b[i] = gaussian(rand);
    y[i] = a[i] + 0.5 * b[i] + 0.5 * gaussian(rand) > 0 ? 1 : 0;
    segment.push(i % 2 === 0 ? 'x' : 'y');
  }
  return { a, b, y, segment };
}

export function pipeline(coefficients: [number, number]): LinearPipeline {
  return { features: FEATURES, imputeValues: [0, 0], mean: [0, 0], scale: [1, 1], coefficients, intercept: 0, classes: ['no', 'yes'] };
}

const ipcCache = new Map<string, Uint8Array>();

/**
 * The evaluation set as the trainer writes it: raw feature columns and the class index in LABEL_COLUMN.
 * Cached: Arrow numbers dictionaries per process, so re-encoding would give other bytes (another artifact).
 */
export function evaluationIpc(n = 400, seed = 7): Uint8Array {
  const key = `${n}:${seed}`;
  const cached = ipcCache.get(key);
  if (cached) return cached;
  const r = evaluationRows(n, seed);
  const bytes = tableToIPC(
    new Table({ a: makeVector(r.a), b: makeVector(r.b), segment: vectorFromArray(r.segment), [LABEL_COLUMN]: makeVector(r.y) }),
    'file',
  );
  ipcCache.set(key, bytes);
  return bytes;
}

/**
 * Registers a version of `modelName` with the given coefficients (good: [1, 0.5]; bad: [-1, -0.5]).
 * `evaluation: false` registers it without an evaluation set.
 */
export async function registerCandidate(
  deps: { db: Db; artifacts: ArtifactStore },
  modelName: string,
  coefficients: [number, number],
  options: { evaluation?: boolean; startedBy?: string } = {},
): Promise<ModelVersion & { trainingRunId: string }> {
  const model = await deps.artifacts.put(exportLinearClassifier(pipeline(coefficients)));
  const evaluation = options.evaluation === false ? undefined : await deps.artifacts.put(evaluationIpc());
  const datasetId = `release-test-${randomUUID().slice(0, 8)}@1`;
  await deps.db.query(
    `insert into dataset_versions (id, name, version, sha256, uri, format, row_count, schema, source_uri)
     values ($1, $1, 1, $2, $3, 'arrow-ipc-file', 400, '[]', 'test://release')`,
    [datasetId, model.sha256, model.uri],
  );
  const runId = `train-${modelName}-${randomUUID().slice(0, 8)}`;
  await deps.db.query(
    `insert into training_runs (id, model_name, dataset_version_id, params, status, started_by) values ($1, $2, $3, '{}', 'trained', $4)`,
    [runId, modelName, datasetId, options.startedBy ?? 'alice'],
  );
  const mv = await registerModelVersion(deps.db, {
    modelName,
    trainingRunId: runId,
    sha256: model.sha256,
    uri: model.uri,
    signature: linearSignature(pipeline(coefficients)),
    metrics: { accuracy: 0.8 },
    params: { coefficients },
    datasetVersionId: datasetId,
    evaluationUri: evaluation?.uri,
    createdBy: options.startedBy ?? 'alice',
  });
  return { ...mv, trainingRunId: runId };
}
