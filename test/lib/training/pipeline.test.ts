// Every learner through the whole pipeline: fit, export one ONNX graph, and onnxruntime agrees with the trainer.
import { describe, expect, it } from 'vitest';
import { decodeMetadata } from '../../../lib/onnx/builder.js';
import { exportPipeline } from '../../../lib/onnx/pipeline.js';
import { checkOnnxParity } from '../../../lib/onnx/parity.js';
import { createSession, scoreColumns, type InputColumns } from '../../../lib/onnx/session.js';
import { fitPipeline } from '../../../lib/training/fit.js';
import { buildFrame, type TrainingFrame } from '../../../lib/training/frame.js';
import { resolveParams } from '../../../lib/training/params.js';
import { randomSplit } from '../../../lib/training/splits.js';
import type { TrainingParams } from '../../../lib/training/types.js';
import { mixedTable } from './helpers.js';

const FEATURES = ['x1', 'color', 'x2'];

function columnsFor(frame: TrainingFrame, rows: Uint32Array): InputColumns {
  const out: InputColumns = {};
  for (const c of frame.columns) out[c.name] = c.kind === 'numeric' ? Float32Array.from(rows, (i) => c.values[i]) : Array.from(rows, (i) => c.values[i]);
  return out;
}

function run(classes: number, params: Partial<TrainingParams>, task: 'classification' | 'regression' = classes === 0 && params.learner !== 'logistic' ? 'regression' : 'classification') {
  const frame = buildFrame(mixedTable({ n: 500, seed: 7, classes }), { target: 'y', task, features: FEATURES });
  const split = randomSplit(frame.n, 0.3, 0, 11);
  const fit = fitPipeline(frame, split.train, split.validation, resolveParams(params));
  const exported = exportPipeline(fit.preprocessor, fit.head, FEATURES, { 'mlcycle.dataset_version': 'd@1' });
  return { frame, split, fit, ...exported };
}

const cases: Array<[string, number, Partial<TrainingParams>]> = [
  ['binary logistic, one-hot, mean imputation', 2, { learner: 'logistic' }],
  ['binary logistic, ordinal, median imputation, no scaling', 2, { learner: 'logistic', categorical: 'ordinal', impute: 'median', scaling: 'none' }],
  ['multinomial logistic (3 classes), one-hot', 3, { learner: 'logistic', C: 0.5 }],
  ['multinomial logistic (4 classes), ordinal, constant imputation', 4, { learner: 'logistic', categorical: 'ordinal', impute: 'constant', imputeConstant: -1 }],
  ['ridge regression, one-hot', 0, { learner: 'ridge', alpha: 2 }],
  ['ridge regression, ordinal, median imputation', 0, { learner: 'ridge', categorical: 'ordinal', impute: 'median' }],
  ['gbdt binary, one-hot, missing values routed by the trees', 2, { learner: 'gbdt', impute: 'none', scaling: 'none', gbdt: { numIterations: 30, maxLeaves: 8, minDataInLeaf: 5 } }],
  ['gbdt multiclass, ordinal', 3, { learner: 'gbdt', impute: 'none', scaling: 'none', categorical: 'ordinal', gbdt: { numIterations: 20, maxLeaves: 8 } }],
];

describe('pipeline export and parity', () => {
  it.each(cases)('%s: onnxruntime agrees with the trainer within 1e-5', async (_name, classes, params) => {
    const { frame, split, fit, bytes, signature } = run(classes, params);
    const report = await checkOnnxParity(bytes, signature, columnsFor(frame, split.validation), fit.predictions, split.validation.length);
    expect(report.rows).toBe(split.validation.length);
    if (classes > 0) expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    else expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5 * 200); // float32 outputs of a target around 100: relative 1e-5
    expect(fit.converged).toBe(true);
  });

  it('is deterministic: the same data, params and seed give identical bytes', () => {
    for (const [, classes, params] of cases) {
      expect(Buffer.from(run(classes, params).bytes).equals(Buffer.from(run(classes, params).bytes))).toBe(true);
    }
  });

  it('stores the input signature (names, types, categories) in the model metadata', () => {
    const { bytes, signature } = run(3, { learner: 'logistic' });
    const stored = JSON.parse(decodeMetadata(bytes)['mlcycle.signature']);
    expect(stored).toEqual(signature);
    expect(signature.features).toEqual([
      { name: 'x1', type: 'float' },
      { name: 'color', type: 'string', categories: ['amber', 'blue', 'green', 'red'] },
      { name: 'x2', type: 'float' },
    ]);
    expect(signature.inputs).toEqual([
      { name: 'features', type: 'float', features: ['x1', 'x2'] },
      { name: 'color', type: 'string', features: ['color'] },
    ]);
    expect(signature.classes).toEqual(['c0', 'c1', 'c2']);
    expect(signature.task).toBe('classification');
  });

  it('scores unknown and missing categories and missing numbers like the trainer (imputed / all-zero indicators)', async () => {
    const { fit, bytes, signature, frame } = run(2, { learner: 'logistic' });
    const session = await createSession(bytes);
    const columns: InputColumns = { x1: Float32Array.from([Number.NaN, 12]), x2: Float32Array.from([0.5, Number.NaN]), color: ['purple', null] };
    const { probabilities, labels } = await scoreColumns(session, signature, columns, 2);
    await session.release();
    // The trainer's view of the same rows: append them to the frame and transform.
    const extended: TrainingFrame = {
      ...frame,
      n: frame.n + 2,
      columns: frame.columns.map((c) =>
        c.kind === 'numeric'
          ? { ...c, values: Float64Array.from([...c.values, ...(c.name === 'x1' ? [Number.NaN, 12] : [0.5, Number.NaN])]) }
          : { ...c, values: [...c.values, 'purple', null] },
      ),
    };
    const { transform } = await import('../../../lib/training/preprocess.js');
    const X = transform(fit.preprocessor, extended.columns, Uint32Array.from([frame.n, frame.n + 1]));
    const head = fit.head as { coefficients: number[]; intercepts: number[] };
    for (let r = 0; r < 2; r++) {
      let z = head.intercepts[0];
      for (let j = 0; j < fit.preprocessor.width; j++) z += X[r * fit.preprocessor.width + j] * head.coefficients[j];
      expect(probabilities[r * 2 + 1]).toBeCloseTo(1 / (1 + Math.exp(-z)), 5);
      expect(labels[r]).toBe(z > 0 ? 'yes' : 'no');
    }
  });

  it('gbdt regression with standard-scaled inputs agrees with onnxruntime (relative 1e-5)', async () => {
    const { frame, split, fit, bytes, signature } = run(0, { learner: 'gbdt', gbdt: { numIterations: 25 } }, 'regression');
    const report = await checkOnnxParity(bytes, signature, columnsFor(frame, split.validation), fit.predictions, split.validation.length);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5 * 200);
    expect(signature.task).toBe('regression');
  });

  it('regressors expose one prediction column and the regression task', () => {
    const { signature } = run(0, { learner: 'ridge' });
    expect(signature).toMatchObject({ task: 'regression', outputs: { label: 'prediction', probabilities: 'prediction' }, classes: ['prediction'] });
  });

  it('refuses learner/task mismatches and impute "none" for linear learners, naming the parameter', () => {
    expect(() => run(0, { learner: 'logistic' }, 'regression')).toThrow(/logistic learner needs a categorical target/);
    expect(() => run(2, { learner: 'logistic', impute: 'none' })).toThrow(/params.impute "none"/);
  });
});
