// Exports a fitted imputer + standard scaler + logistic regression as one ai.onnx.ml graph.
import type { ModelSignature } from '../training/types.js';
import { encodeModel, INPUT_NAME, LABEL, node, ONNX_ML_DOMAIN, PROBABILITIES, tensorInfo } from './builder.js';

export interface LinearPipeline {
  features: string[];
  /** Per-feature value that replaces a missing (NaN) input. */
  imputeValues: number[];
  mean: number[];
  scale: number[];
  /** Coefficients on the scaled features, positive class. */
  coefficients: number[];
  intercept: number;
  classes: [string | number, string | number];
}

export function linearSignature(p: LinearPipeline): ModelSignature {
  return {
    inputName: INPUT_NAME,
    features: p.features.map((name) => ({ name, type: 'float' })),
    outputs: { label: LABEL, probabilities: PROBABILITIES },
    classes: [...p.classes],
  };
}

/** Encodes the pipeline; the signature travels in metadata_props under `mlcycle.signature`. */
export function exportLinearClassifier(p: LinearPipeline, metadata: Record<string, unknown> = {}): Uint8Array {
  const stringLabels = typeof p.classes[0] === 'string';
  // ONNX Scaler computes (x - offset) * scale.
  const nodes = [
    node('Imputer', [INPUT_NAME], ['imputed'], { imputed_value_floats: { floats: p.imputeValues }, replaced_value_float: Number.NaN }, ONNX_ML_DOMAIN),
    node('Scaler', ['imputed'], ['scaled'], { offset: { floats: p.mean }, scale: { floats: p.scale.map((s) => 1 / s) } }, ONNX_ML_DOMAIN),
    node(
      'LinearClassifier',
      ['scaled'],
      [LABEL, PROBABILITIES],
      {
        coefficients: { floats: p.coefficients },
        intercepts: { floats: [p.intercept] },
        post_transform: 'LOGISTIC',
        ...(stringLabels ? { classlabels_strings: p.classes as string[] } : { classlabels_ints: { ints: p.classes as number[] } }),
      },
      ONNX_ML_DOMAIN,
    ),
  ];
  return encodeModel({
    graphName: 'mlcycle_logistic_regression',
    nodes,
    inputs: [tensorInfo(INPUT_NAME, 'float', [-1, p.features.length])],
    outputs: [tensorInfo(LABEL, stringLabels ? 'string' : 'int64', [-1]), tensorInfo(PROBABILITIES, 'float', [-1, 2])],
    metadata: { ...metadata, 'mlcycle.signature': linearSignature(p) },
  });
}
