// Trains the logistic-regression pipeline on a dataset version and stores the ONNX model and validation set.
import { makeVector, Table, tableToIPC, tableFromIPC, type Vector } from 'apache-arrow';
import { loadDatasetTable } from '../data/datasets.js';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../onnx/linear-classifier.js';
import { checkOnnxParity, type ParityReport } from '../onnx/parity.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { shuffledIndices } from '../util/random.js';
import { buildFrame } from './frame.js';
import { fitLogistic, predictLogistic } from './logistic.js';
import { DEFAULT_TRAINING_PARAMS, type ModelSignature, type TrainingInput, type TrainingParams } from './types.js';
import { ValidationError } from '../errors.js';
import { binaryRocAuc, brierScore, classificationScores, logLoss } from '../evaluation/index.js';

export interface TrainedModel {
  runId: string;
  modelUri: string;
  modelSha256: string;
  modelBytes: number;
  /**
   * Arrow IPC of the held-out rows: the raw feature columns, `__label` (class index into
   * signature.classes) and `__trainer_p1`. The parity check and the release gates read it.
   */
  validationUri: string;
  signature: ModelSignature;
  params: TrainingParams;
  metrics: Record<string, number>;
}

export interface TrainProgress {
  phase: 'loading' | 'fitting' | 'exporting';
  iteration?: number;
  loss?: number;
}

const TRAINER_PROBABILITY = '__trainer_p1';
/** Column of the validation artifact holding each row's true class index. */
export const LABEL_COLUMN = '__label';

export function resolveParams(params: Partial<TrainingParams> | undefined): TrainingParams {
  const p = { ...DEFAULT_TRAINING_PARAMS, ...params };
  if (!(p.C > 0)) throw new ValidationError(`params.C must be > 0 (got ${p.C}).`);
  if (!(p.validationFraction > 0 && p.validationFraction < 1)) {
    throw new ValidationError(`params.validationFraction must be between 0 and 1 (got ${p.validationFraction}).`);
  }
  if (!Number.isInteger(p.maxIterations) || p.maxIterations < 1) throw new ValidationError(`params.maxIterations must be a positive integer.`);
  if (!Number.isInteger(p.seed)) throw new ValidationError(`params.seed must be an integer.`);
  return p;
}

function columnStats(X: Float64Array, rows: Uint32Array, f: number) {
  const impute = new Array<number>(f).fill(0);
  const mean = new Array<number>(f).fill(0);
  const scale = new Array<number>(f).fill(1);
  for (let j = 0; j < f; j++) {
    let sum = 0;
    let count = 0;
    for (const i of rows) {
      const v = X[i * f + j];
      if (!Number.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    impute[j] = count > 0 ? sum / count : 0;
    // After mean imputation the column mean equals the imputed value.
    mean[j] = impute[j];
    let sq = 0;
    for (const i of rows) {
      const v = Number.isNaN(X[i * f + j]) ? impute[j] : X[i * f + j];
      sq += (v - mean[j]) ** 2;
    }
    const std = Math.sqrt(sq / rows.length);
    scale[j] = std > 0 ? std : 1;
  }
  return { impute, mean, scale };
}

/**
 * Applies the pipeline's preprocessing exactly as the ONNX graph does, with
 * float32 parameters, so trainer and onnxruntime see the same numbers.
 */
function preprocess(X: Float64Array, rows: Uint32Array, f: number, p: Pick<LinearPipeline, 'imputeValues' | 'mean' | 'scale'>): Float64Array {
  const out = new Float64Array(rows.length * f);
  const imp = Float32Array.from(p.imputeValues);
  const off = Float32Array.from(p.mean);
  const inv = Float32Array.from(p.scale.map((s) => 1 / s));
  rows.forEach((i, r) => {
    for (let j = 0; j < f; j++) {
      const raw = Math.fround(X[i * f + j]);
      const v = Number.isNaN(raw) ? imp[j] : raw;
      out[r * f + j] = (v - off[j]) * inv[j];
    }
  });
  return out;
}

function validationMetrics(p1: Float64Array, y: Uint8Array, rows: Uint32Array): Record<string, number> {
  const yTrue = Uint8Array.from(rows, (i) => y[i]);
  const yPred = Uint8Array.from(p1, (p) => (p >= 0.5 ? 1 : 0));
  const scores = classificationScores(yTrue, yPred, 2);
  const metrics: Record<string, number> = {
    accuracy: scores.accuracy,
    f1: scores.perClass[1].f1,
    log_loss: logLoss(yTrue, p1),
    brier: brierScore(yTrue, p1),
    validation_rows: rows.length,
  };
  // ROC AUC is undefined when the validation split holds one class; leave it out rather than record NaN.
  if (yTrue.includes(0) && yTrue.includes(1)) metrics.roc_auc = binaryRocAuc(yTrue, p1);
  return metrics;
}

/** Fits, exports and stores a model. Deterministic: same dataset, params and seed give the same model bytes. */
export async function trainLogisticModel(
  deps: { db: Db; artifacts: ArtifactStore },
  runId: string,
  input: TrainingInput,
  onProgress: (p: TrainProgress) => void = () => {},
): Promise<TrainedModel> {
  const params = resolveParams(input.params);
  onProgress({ phase: 'loading' });
  const { version, table } = await loadDatasetTable(deps, input.datasetVersionId);
  const frame = buildFrame(table, input.target, input.features);
  const f = frame.features.length;
  const order = shuffledIndices(frame.n, params.seed);
  const nValidation = Math.max(1, Math.round(frame.n * params.validationFraction));
  if (frame.n - nValidation < 2) throw new ValidationError(`Dataset ${version.id} has ${frame.n} labelled rows; at least 3 are needed to train and validate.`);
  const validationRows = order.slice(0, nValidation);
  const trainRows = order.slice(nValidation);

  const stats = columnStats(frame.X, trainRows, f);
  const pipelineStats = { imputeValues: stats.impute, mean: stats.mean, scale: stats.scale };
  const Xtrain = preprocess(frame.X, trainRows, f, pipelineStats);
  const ytrain = Uint8Array.from(trainRows, (i) => frame.y[i]);
  onProgress({ phase: 'fitting', iteration: 0 });
  const fit = fitLogistic(Xtrain, ytrain, trainRows.length, f, {
    C: params.C,
    maxIterations: params.maxIterations,
    onIteration: (iteration, loss) => onProgress({ phase: 'fitting', iteration, loss }),
  });

  const pipeline: LinearPipeline = {
    features: frame.features,
    ...pipelineStats,
    coefficients: Array.from(fit.coefficients),
    intercept: fit.intercept,
    classes: frame.classes,
  };
  // Trainer predictions use the float32-rounded parameters the ONNX graph will carry.
  const Xval = preprocess(frame.X, validationRows, f, pipelineStats);
  const p1 = predictLogistic(Xval, validationRows.length, f, {
    coefficients: Float64Array.from(Float32Array.from(pipeline.coefficients)),
    intercept: Math.fround(pipeline.intercept),
  });
  const metrics = { ...validationMetrics(p1, frame.y, validationRows), iterations: fit.iterations, converged: fit.converged ? 1 : 0 };

  onProgress({ phase: 'exporting' });
  // Only content-derived lineage goes into the bytes, so reruns produce identical models; the rest is in the registry.
  const onnxBytes = exportLinearClassifier(pipeline, { 'mlcycle.dataset_version': version.id });
  const model = await deps.artifacts.put(onnxBytes);

  const columns: Record<string, Vector> = {};
  frame.features.forEach((name, j) => {
    columns[name] = makeVector(Float32Array.from(validationRows, (i) => frame.X[i * f + j]));
  });
  columns[LABEL_COLUMN] = makeVector(Int32Array.from(validationRows, (i) => frame.y[i]));
  columns[TRAINER_PROBABILITY] = makeVector(p1);
  const validation = await deps.artifacts.put(tableToIPC(new Table(columns), 'file'));

  await deps.db.query(
    `insert into training_runs (id, model_name, dataset_version_id, params, metrics, status, started_by, model_sha256)
     values ($1, $2, $3, $4, $5, 'trained', $6, $7)
     on conflict (id) do update set params = excluded.params, metrics = excluded.metrics, status = 'trained',
       model_sha256 = excluded.model_sha256, updated_at = now()`,
    [runId, input.modelName, version.id, JSON.stringify({ ...params, target: input.target, features: frame.features }), JSON.stringify(metrics), input.startedBy ?? null, model.sha256],
  );

  return {
    runId,
    modelUri: model.uri,
    modelSha256: model.sha256,
    modelBytes: model.bytes,
    validationUri: validation.uri,
    signature: linearSignature(pipeline),
    params,
    metrics,
  };
}

/** Re-scores the stored validation set with onnxruntime and compares with the trainer's probabilities. */
export async function verifyModelParity(artifacts: ArtifactStore, trained: Pick<TrainedModel, 'modelUri' | 'validationUri' | 'signature'>): Promise<ParityReport> {
  const model = await artifacts.get(trained.modelUri);
  const table = tableFromIPC(await artifacts.get(trained.validationUri));
  const n = table.numRows;
  const f = trained.signature.features.length;
  const X = new Float32Array(n * f);
  trained.signature.features.forEach(({ name }, j) => {
    const col = table.getChild(name)!.toArray() as Float32Array;
    for (let i = 0; i < n; i++) X[i * f + j] = col[i];
  });
  const p1 = table.getChild(TRAINER_PROBABILITY)!.toArray() as Float64Array;
  const expected = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    expected[i * 2] = 1 - p1[i];
    expected[i * 2 + 1] = p1[i];
  }
  return checkOnnxParity(model, trained.signature, X, expected, n);
}
