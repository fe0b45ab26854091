// Fits a whole pipeline (preprocessing + learner) on some rows and scores others, as the ONNX graph will.
// Pure and synchronous: it runs inside a worker thread (lib/training/thread.ts) or directly in tests.
import { ValidationError } from '../errors.js';
import { higherIsBetter, isMetricName, METRICS, type MetricName } from '../evaluation/index.js';
import type { ModelHead } from '../onnx/pipeline.js';
import type { TrainingFrame } from './frame.js';
import { fitLogistic, fitMultinomial, predictLogistic, predictMultinomial } from './logistic.js';
import { designColumnNames, fitPreprocessor, transform, type Preprocessor } from './preprocess.js';
import { fitRidge, predictLinear } from './ridge.js';
import { fitGbdtHead } from './gbdt-head.js';
import type { TrainingParams } from './types.js';

export interface IterationPoint {
  step: number;
  /** Training objective (penalised loss for linear learners, mean loss for gbdt). */
  loss: number;
  /** Validation loss where the learner computes one per step (gbdt). */
  validLoss?: number;
}

export interface FittedPipeline {
  preprocessor: Preprocessor;
  head: ModelHead;
  /** Predictions on the scored rows as the graph computes them: n x K probabilities, or n predictions. */
  predictions: Float64Array;
  curve: IterationPoint[];
  iterations: number;
  converged: boolean;
}

/** The metric a search optimises by default. */
export function defaultMetric(frame: Pick<TrainingFrame, 'task' | 'classes'>): MetricName {
  if (frame.task === 'regression') return 'rmse';
  return frame.classes.length === 2 ? 'roc_auc' : 'log_loss';
}

function taskKind(frame: Pick<TrainingFrame, 'task' | 'classes'>) {
  return frame.task === 'regression' ? 'regression' : frame.classes.length === 2 ? 'binary' : 'multiclass';
}

/** Validates a metric name for the frame's task; returns whether higher is better. */
export function checkMetric(metric: string, frame: Pick<TrainingFrame, 'task' | 'classes'>): { name: MetricName; higherIsBetter: boolean } {
  if (!isMetricName(metric)) throw new ValidationError(`search.metric ${JSON.stringify(metric)} is not a known metric; use one of ${Object.keys(METRICS).join(', ')}.`);
  const tasks: readonly string[] = METRICS[metric].tasks;
  if (!tasks.includes(taskKind(frame))) throw new ValidationError(`search.metric ${metric} does not apply to a ${taskKind(frame)} task (it applies to ${tasks.join(', ')}).`);
  return { name: metric, higherIsBetter: higherIsBetter(metric) };
}

/** One metric by name; undefined where it has no value on these rows (e.g. ROC AUC with one class present). */
export function metricValue(name: MetricName, yTrue: ArrayLike<number>, predictions: Float64Array): number | undefined {
  try {
    const v = (METRICS[name].compute as (y: ArrayLike<number>, p: ArrayLike<number>, o: object) => number)(yTrue, predictions, {});
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The standard validation metrics of a task (those defined on these rows). */
export function standardMetrics(frame: Pick<TrainingFrame, 'task' | 'classes'>, yTrue: ArrayLike<number>, predictions: Float64Array): Record<string, number> {
  const kind = taskKind(frame);
  const names: MetricName[] =
    kind === 'regression' ? ['rmse', 'mae', 'r2'] : kind === 'binary' ? ['accuracy', 'f1', 'log_loss', 'brier', 'roc_auc'] : ['accuracy', 'f1_macro', 'log_loss', 'brier', 'roc_auc'];
  const out: Record<string, number> = {};
  for (const name of names) {
    const v = metricValue(name, yTrue, predictions);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * Fits preprocessing and the learner on `trainRows`, and predicts `scoreRows` with float32-rounded
 * parameters exactly as the exported graph will. Deterministic.
 */
export function fitPipeline(
  frame: TrainingFrame,
  trainRows: Uint32Array,
  scoreRows: Uint32Array,
  params: TrainingParams,
  onIteration: (point: IterationPoint) => void = () => {},
): FittedPipeline {
  if (params.learner !== 'gbdt' && params.impute === 'none') {
    throw new ValidationError(`params.impute "none" leaves missing values in place, which only the gbdt learner accepts; use mean, median or constant for ${params.learner}.`);
  }
  if (params.learner === 'ridge' && frame.task !== 'regression') throw new ValidationError('The ridge learner needs a numeric target (regression).');
  if (params.learner === 'logistic' && frame.task !== 'classification') throw new ValidationError('The logistic learner needs a categorical target (classification).');
  const preprocessor = fitPreprocessor(frame.columns, trainRows, params);
  const d = preprocessor.width;
  const Xtrain = transform(preprocessor, frame.columns, trainRows);
  const Xscore = transform(preprocessor, frame.columns, scoreRows);
  const ytrain = Float64Array.from(trainRows, (i) => frame.y[i]);
  const curve: IterationPoint[] = [];
  const record = (point: IterationPoint) => {
    curve.push(point);
    onIteration(point);
  };
  const n = trainRows.length;
  const m = scoreRows.length;
  const f32 = (v: ArrayLike<number>) => Array.from(Float32Array.from(v));

  if (params.learner === 'ridge') {
    const fit = fitRidge(Xtrain, ytrain, n, d, params.alpha);
    record({ step: 1, loss: fit.trainMse });
    const head = { kind: 'linear-regressor' as const, coefficients: f32(fit.coefficients), intercept: Math.fround(fit.intercept) };
    const predictions = predictLinear(Xscore, m, d, { coefficients: Float64Array.from(head.coefficients), intercept: head.intercept });
    return { preprocessor, head, predictions, curve, iterations: 1, converged: true };
  }

  if (params.learner === 'logistic') {
    const K = frame.classes.length;
    const classes = [...frame.classes];
    if (!classes.every((c) => typeof c === 'string') && !classes.every((c) => Number.isInteger(c))) {
      throw new ValidationError(`Class labels must be all strings or all integers for ONNX; got ${JSON.stringify(classes.slice(0, 10))}.`);
    }
    if (K === 2) {
      const y01 = Uint8Array.from(ytrain);
      const fit = fitLogistic(Xtrain, y01, n, d, { C: params.C, maxIterations: params.maxIterations, onIteration: (step, loss) => record({ step, loss }) });
      const head = { kind: 'linear-classifier' as const, coefficients: f32(fit.coefficients), intercepts: [Math.fround(fit.intercept)], classes };
      const p1 = predictLogistic(Xscore, m, d, { coefficients: Float64Array.from(head.coefficients), intercept: head.intercepts[0] });
      const predictions = new Float64Array(m * 2);
      p1.forEach((p, i) => {
        predictions[i * 2] = 1 - p;
        predictions[i * 2 + 1] = p;
      });
      return { preprocessor, head, predictions, curve, iterations: fit.iterations, converged: fit.converged };
    }
    const fit = fitMultinomial(Xtrain, ytrain, n, d, K, { C: params.C, maxIterations: params.maxIterations, onIteration: (step, loss) => record({ step, loss }) });
    const head = { kind: 'linear-classifier' as const, coefficients: f32(fit.coefficients), intercepts: f32(fit.intercepts), classes };
    const predictions = predictMultinomial(Xscore, m, d, { coefficients: Float64Array.from(head.coefficients), intercepts: Float64Array.from(head.intercepts), classes: K });
    return { preprocessor, head, predictions, curve, iterations: fit.iterations, converged: fit.converged };
  }

  const gb = fitGbdtHead(frame, Xtrain, ytrain, n, Xscore, Float64Array.from(scoreRows, (i) => frame.y[i]), m, designColumnNames(preprocessor), params, record);
  return { preprocessor, head: gb.head, predictions: gb.predictions, curve, iterations: gb.iterations, converged: true };
}
