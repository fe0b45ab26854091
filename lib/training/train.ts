// Training runs and search trials on a dataset version: split, fit the pipeline (in a thread), export one ONNX
// graph, store the model and validation set, and track the run as an experiment.
import { makeVector, Table, tableToIPC, tableFromIPC, vectorFromArray, Utf8, type Vector } from 'apache-arrow';
import { loadDatasetTable } from '../data/datasets.js';
import type { DatasetVersion } from '../data/types.js';
import { ValidationError } from '../errors.js';
import { exportPipeline } from '../onnx/pipeline.js';
import { checkOnnxParity, type ParityReport } from '../onnx/parity.js';
import type { InputColumns } from '../onnx/session.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { recordRun, type Curves, type RunRecord } from './experiments.js';
import { checkMetric, defaultMetric, metricValue, standardMetrics, type FittedPipeline } from './fit.js';
import { buildFrame, type Task, type TrainingFrame } from './frame.js';
import { inlineRunner, type FitJob, type FitProgress, type FitRunner } from './jobs.js';
import { frameFeatureViews } from '../features/frame-lineage.js';
import { processLineage } from './lineage.js';
import { resolveParams, withParam } from './params.js';
import { kFold, splitRows, type Split } from './splits.js';
import type { TrialParams } from './search.js';
import type { ModelSignature, TrainingInput, TrainingParams } from './types.js';

export { resolveParams } from './params.js';

export interface TrainedModel {
  runId: string;
  modelUri: string;
  modelSha256: string;
  modelBytes: number;
  /**
   * Arrow IPC of the held-out rows: the raw feature columns, `__label` (class index into
   * signature.classes, or the regression target) and the trainer's outputs (`__trainer_p<k>` per class,
   * or `__trainer_prediction`). The parity check and the release gates read it.
   */
  validationUri: string;
  signature: ModelSignature;
  params: TrainingParams;
  metrics: Record<string, number>;
}

export interface TrainProgress {
  phase: 'loading' | 'fitting' | 'exporting' | 'scoring';
  iteration?: number;
  loss?: number;
  trialId?: string;
  fold?: number;
  /** Best search score so far (trials), as the workflow last knew it. */
  bestScore?: number;
}

export interface RunContext {
  onProgress?: (p: TrainProgress) => void;
  /** Where the CPU-heavy fit runs; default inline (activities pass the worker-thread runner). */
  runner?: FitRunner;
  signal?: AbortSignal;
}

/** Column of the validation artifact holding each row's true class index (or regression target). */
export const LABEL_COLUMN = '__label';
const trainerColumn = (k: number) => `__trainer_p${k}`;
const TRAINER_PREDICTION = '__trainer_prediction';

type Deps = { db: Db; artifacts: ArtifactStore };

/** The task a run solves: ridge regresses, logistic classifies, gbdt does what `input.task` says (default classification). */
export function taskOf(input: Pick<TrainingInput, 'task'>, params: Pick<TrainingParams, 'learner'>): Task {
  if (params.learner === 'ridge') return 'regression';
  if (params.learner === 'logistic') return 'classification';
  return input.task ?? 'classification';
}

async function loadFrame(deps: Deps, input: TrainingInput, params: TrainingParams): Promise<{ version: DatasetVersion; frame: TrainingFrame; split: Split }> {
  const { version, table } = await loadDatasetTable(deps, input.datasetVersionId);
  const timeColumn = input.split?.method === 'time' ? input.split.timeColumn : undefined;
  const frame = buildFrame(table, { target: input.target, task: taskOf(input, params), features: input.features, timeColumn });
  const split = splitRows(input.split, { n: frame.n, labels: frame.task === 'classification' ? frame.y : undefined, time: frame.time }, params);
  if (frame.task === 'classification') {
    const present = new Set(Array.from(split.train, (i) => frame.y[i]));
    if (present.size < 2) throw new ValidationError(`The training rows of this split hold a single class of ${JSON.stringify(input.target)}; use a stratified split or more data.`);
  }
  return { version, frame, split };
}

function curvesOf(fit: FittedPipeline): Curves {
  const curves: Curves = { train_loss: fit.curve.map((p) => [p.step, p.loss]) };
  if (fit.curve.some((p) => p.validLoss !== undefined)) curves.validation_loss = fit.curve.filter((p) => p.validLoss !== undefined).map((p) => [p.step, p.validLoss!]);
  return curves;
}

/**
 * Runs a fit with its tracked run marked `running`, so the experiment shows it live, and marks the run
 * `cancelled` (the activity's signal aborted: the workflow or activity was cancelled, or the worker is
 * shutting down) or `failed` when the fit throws. A retried attempt overwrites the same row.
 */
async function trackedFit(db: Db, run: Omit<RunRecord, 'status'>, ctx: RunContext, job: FitJob, onProgress: (p: FitProgress) => void): Promise<FittedPipeline[]> {
  await recordRun(db, { ...run, status: 'running' });
  try {
    return await (ctx.runner ?? inlineRunner)(job, { signal: ctx.signal, onProgress });
  } catch (err) {
    // The fit's error is what the activity must report; failing to mark the run must not replace it.
    await recordRun(db, { ...run, status: ctx.signal?.aborted ? 'cancelled' : 'failed' }).catch(() => undefined);
    throw err;
  }
}

function concatRows(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function outputWidth(frame: TrainingFrame): number {
  return frame.task === 'regression' ? 1 : frame.classes.length;
}

/** Fits, exports and stores a model. Deterministic: same dataset, params and seed give the same model bytes. */
export async function trainModel(deps: Deps, runId: string, input: TrainingInput, ctx: RunContext = {}): Promise<TrainedModel> {
  const params = resolveParams(input.params);
  const onProgress = ctx.onProgress ?? (() => {});
  onProgress({ phase: 'loading' });
  const { version, frame, split } = await loadFrame(deps, input, params);
  const featureOrder = frame.columns.map((c) => c.name);
  const scoreRows = concatRows(split.validation, split.test);
  const recordedParams = { ...params, target: input.target, features: featureOrder, split: input.split ?? { method: 'random' } };
  const run = {
    id: runId,
    experiment: input.experiment ?? input.modelName,
    kind: 'training' as const,
    modelName: input.modelName,
    learner: params.learner,
    params: recordedParams,
    metrics: {},
    tags: input.tags,
    lineage: { datasetVersionId: version.id, datasetSha256: version.sha256, seed: params.seed, startedBy: input.startedBy ?? null },
  };
  onProgress({ phase: 'fitting', iteration: 0 });
  const [fit] = await trackedFit(deps.db, run, ctx, { frame, params, tasks: [{ trainRows: split.train, scoreRows }] }, (p) =>
    onProgress({ phase: 'fitting', iteration: p.point.step, loss: p.point.loss }),
  );
  const K = outputWidth(frame);
  const nv = split.validation.length;
  const validationPredictions = fit.predictions.subarray(0, nv * K);
  const yValidation = Float64Array.from(split.validation, (i) => frame.y[i]);
  const metrics: Record<string, number> = {
    ...standardMetrics(frame, yValidation, validationPredictions),
    validation_rows: nv,
    train_rows: split.train.length,
    iterations: fit.iterations,
    converged: fit.converged ? 1 : 0,
  };
  if (split.test.length > 0) {
    const yTest = Float64Array.from(split.test, (i) => frame.y[i]);
    for (const [k, v] of Object.entries(standardMetrics(frame, yTest, fit.predictions.subarray(nv * K)))) metrics[`test_${k}`] = v;
    metrics.test_rows = split.test.length;
  }

  onProgress({ phase: 'exporting' });
  // Only content-derived lineage goes into the bytes, so reruns produce identical models; the rest is tracked below.
  const { bytes, signature } = exportPipeline(fit.preprocessor, fit.head, featureOrder, { 'mlcycle.dataset_version': version.id, 'mlcycle.learner': params.learner });
  const model = await deps.artifacts.put(bytes);

  const columns: Record<string, Vector> = {};
  for (const column of frame.columns) {
    columns[column.name] =
      column.kind === 'numeric'
        ? makeVector(Float32Array.from(split.validation, (i) => column.values[i]))
        : vectorFromArray(Array.from(split.validation, (i) => column.values[i]), new Utf8());
  }
  if (frame.task === 'regression') {
    columns[LABEL_COLUMN] = makeVector(yValidation);
    columns[TRAINER_PREDICTION] = makeVector(Float64Array.from(validationPredictions));
  } else {
    columns[LABEL_COLUMN] = makeVector(Int32Array.from(yValidation));
    for (let k = 0; k < K; k++) columns[trainerColumn(k)] = makeVector(Float64Array.from({ length: nv }, (_, i) => validationPredictions[i * K + k]));
  }
  const validation = await deps.artifacts.put(tableToIPC(new Table(columns), 'file'));

  await deps.db.query(
    `insert into training_runs (id, model_name, dataset_version_id, params, metrics, status, started_by, model_sha256)
     values ($1, $2, $3, $4, $5, 'trained', $6, $7)
     on conflict (id) do update set params = excluded.params, metrics = excluded.metrics, status = 'trained',
       model_sha256 = excluded.model_sha256, updated_at = now()`,
    [runId, input.modelName, version.id, JSON.stringify(recordedParams), JSON.stringify(metrics), input.startedBy ?? null, model.sha256],
  );
  await recordRun(
    deps.db,
    {
      ...run,
      status: 'trained',
      metrics,
      artifacts: { model: model.uri, validation: validation.uri },
      lineage: { ...run.lineage, featureViews: await frameFeatureViews(deps.db, version.id), ...(await processLineage()) },
    },
    curvesOf(fit),
  );

  return { runId, modelUri: model.uri, modelSha256: model.sha256, modelBytes: model.bytes, validationUri: validation.uri, signature, params, metrics };
}

export interface TrialRequest {
  runId: string;
  trialId: string;
  input: TrainingInput;
  params: TrialParams;
  rung: number;
  /** Successive halving: the budget hyperparameter and its value for this rung. */
  budget?: { name: string; value: number };
  /** Best score so far, shown in heartbeats. */
  bestScore?: number;
}

export interface TrialOutcome {
  trialId: string;
  params: TrialParams;
  rung: number;
  metric: string;
  /** NaN when the metric has no value on the scored rows. */
  score: number;
  higherIsBetter: boolean;
  /** Standard metrics on the validation rows (or the fold average with cvFolds). */
  metrics: Record<string, number>;
  /** host:pid of the process that ran it. */
  executedBy: string;
}

/** The parameters a trial fits with: the run's params, the trial's draw, and the rung's budget. */
export function trialParams(req: Pick<TrialRequest, 'input' | 'params' | 'budget'>): TrainingParams {
  let p: Partial<TrainingParams> = { ...req.input.params };
  for (const [name, value] of Object.entries(req.params)) p = withParam(p, name, value);
  if (req.budget) p = withParam(p, req.budget.name, req.budget.value);
  return resolveParams(p);
}

/** One search trial: fits on the training rows and scores the validation rows (or k folds of the training rows). */
export async function runTrial(deps: Deps, req: TrialRequest, ctx: RunContext = {}): Promise<TrialOutcome> {
  const params = trialParams(req);
  const onProgress = ctx.onProgress ?? (() => {});
  onProgress({ phase: 'loading', trialId: req.trialId, bestScore: req.bestScore });
  const { version, frame, split } = await loadFrame(deps, req.input, params);
  const metric = checkMetric(req.input.search?.metric ?? defaultMetric(frame), frame);
  const folds = req.input.search?.cvFolds
    ? kFold(split.train, req.input.search.cvFolds, params.seed, frame.task === 'classification' ? frame.y : undefined).map((f) => ({ trainRows: f.train, scoreRows: f.validation }))
    : [{ trainRows: split.train, scoreRows: split.validation }];
  const run = {
    id: req.trialId,
    experiment: req.input.experiment ?? req.input.modelName,
    kind: 'trial' as const,
    parentRunId: req.runId,
    modelName: req.input.modelName,
    learner: params.learner,
    params: { ...req.params, ...(req.budget ? { [req.budget.name]: req.budget.value } : {}), rung: req.rung, cvFolds: req.input.search?.cvFolds ?? 0 },
    metrics: {},
    tags: req.input.tags,
    lineage: { datasetVersionId: version.id, seed: params.seed },
  };
  const fits = await trackedFit(deps.db, run, ctx, { frame, params, tasks: folds }, (p) =>
    onProgress({ phase: 'fitting', trialId: req.trialId, fold: p.task, iteration: p.point.step, loss: p.point.loss, bestScore: req.bestScore }),
  );
  const sums: Record<string, number> = {};
  const counts: Record<string, number> = {};
  let scoreSum = 0;
  let scoreCount = 0;
  fits.forEach((fit, i) => {
    const y = Float64Array.from(folds[i].scoreRows, (r) => frame.y[r]);
    for (const [k, v] of Object.entries(standardMetrics(frame, y, fit.predictions))) {
      sums[k] = (sums[k] ?? 0) + v;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    const s = metricValue(metric.name, y, fit.predictions);
    if (s !== undefined) {
      scoreSum += s;
      scoreCount++;
    }
  });
  const metrics = Object.fromEntries(Object.keys(sums).map((k) => [k, sums[k] / counts[k]]));
  const score = scoreCount === fits.length ? scoreSum / scoreCount : Number.NaN;
  const lineage = await processLineage();
  const executedBy = `${lineage.machine.hostname}:${lineage.machine.pid}`;
  await recordRun(
    deps.db,
    {
      ...run,
      status: 'finished',
      metrics: { ...metrics, ...(Number.isNaN(score) ? {} : { [`search_${metric.name}`]: score }) },
      lineage: { ...run.lineage, executedBy, ...lineage },
    },
    fits.length === 1 ? curvesOf(fits[0]) : {},
  );
  return { trialId: req.trialId, params: req.params, rung: req.rung, metric: metric.name, score, higherIsBetter: metric.higherIsBetter, metrics, executedBy };
}

/** Re-scores the stored validation set with onnxruntime and compares with the trainer's outputs. */
export async function verifyModelParity(artifacts: ArtifactStore, trained: Pick<TrainedModel, 'modelUri' | 'validationUri' | 'signature'>): Promise<ParityReport> {
  const model = await artifacts.get(trained.modelUri);
  const table = tableFromIPC(await artifacts.get(trained.validationUri));
  const n = table.numRows;
  const columns: InputColumns = {};
  for (const feature of trained.signature.features) {
    const vector = table.getChild(feature.name)!;
    columns[feature.name] = feature.type === 'string' ? Array.from({ length: n }, (_, i) => vector.get(i) as string | null) : (vector.toArray() as Float32Array);
  }
  let expected: Float64Array;
  if (trained.signature.task === 'regression') {
    expected = table.getChild(TRAINER_PREDICTION)!.toArray() as Float64Array;
  } else {
    const K = trained.signature.classes.length;
    expected = new Float64Array(n * K);
    for (let k = 0; k < K; k++) {
      const col = table.getChild(trainerColumn(k))!.toArray() as Float64Array;
      for (let i = 0; i < n; i++) expected[i * K + k] = col[i];
    }
  }
  return checkOnnxParity(model, trained.signature, columns, expected, n);
}
