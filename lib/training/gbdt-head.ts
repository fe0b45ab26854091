// The gbdt learner (lib/training/gbdt) behind the pipeline: fits on the design matrix, exports its tree ensemble for splicing.
import { ValidationError } from '../errors.js';
import type { ModelHead } from '../onnx/pipeline.js';
import { exportTreeEnsemble } from '../onnx/tree-ensemble.js';
import type { TrainingFrame } from './frame.js';
import { fitGbdt, predictProbabilities, predictRaw, type GbdtParams } from './gbdt/index.js';
import type { IterationPoint } from './fit.js';
import { GBDT_PARAM_NAMES } from './params.js';
import type { TrainingParams } from './types.js';

export function gbdtParamsFor(frame: Pick<TrainingFrame, 'task' | 'classes'>, params: TrainingParams): Partial<GbdtParams> & Pick<GbdtParams, 'objective'> {
  const given = params.gbdt ?? {};
  for (const key of Object.keys(given)) {
    if (!(GBDT_PARAM_NAMES as readonly string[]).includes(key)) throw new ValidationError(`Unknown hyperparameter params.gbdt.${key}.`);
  }
  const objective = frame.task === 'regression' ? 'regression' : frame.classes.length === 2 ? 'binary' : 'multiclass';
  return { ...given, objective, seed: params.seed, ...(objective === 'multiclass' ? { numClasses: frame.classes.length } : {}) };
}

export function fitGbdtHead(
  frame: TrainingFrame,
  Xtrain: Float64Array,
  ytrain: Float64Array,
  n: number,
  Xscore: Float64Array,
  yscore: Float64Array,
  m: number,
  designColumns: string[],
  params: TrainingParams,
  record: (p: IterationPoint) => void,
): { head: ModelHead; predictions: Float64Array; iterations: number } {
  const gp = gbdtParamsFor(frame, params);
  const f = designColumns.length;
  const model = fitGbdt(
    { X: Xtrain, y: ytrain, n, f },
    gp,
    {
      // Early stopping watches the scored (validation) rows; labels are only needed when it is on.
      validation: (gp.earlyStoppingRounds ?? 0) > 0 ? { X: Xscore, y: yscore, n: m, f } : undefined,
      onIteration: (step, loss, validLoss) => record({ step, loss, validLoss }),
    },
  );
  const classes = frame.task === 'regression' ? undefined : [...frame.classes];
  const bytes = exportTreeEnsemble(model, { features: designColumns, classes });
  const predictions = frame.task === 'regression' ? predictRaw(model, Xscore, m) : predictProbabilities(model, Xscore, m);
  return {
    head: { kind: 'onnx', bytes, task: frame.task, classes: classes ?? ['prediction'] },
    predictions: Float64Array.from(predictions),
    iterations: model.rounds,
  };
}
