// Exports a fitted preprocessing pipeline plus a model head as ONE ai.onnx.ml graph:
// per-column string inputs -> LabelEncoder / OneHotEncoder, a float input -> Concat -> Imputer -> Scaler,
// Concat of everything -> LinearClassifier / LinearRegressor (or a spliced-in model such as a tree ensemble).
import type { Preprocessor } from '../training/preprocess.js';
import type { ModelSignature, SignatureFeature, SignatureInput } from '../training/types.js';
import type onnxProto from 'onnx-proto';
import { encodeModel, INPUT_NAME, LABEL, node, onnx, ONNX_ML_DOMAIN, PREDICTION, PROBABILITIES, tensorInfo, type AttributeValue } from './builder.js';

const FLOAT_INPUT = INPUT_NAME;
const DESIGN = 'design';

export type ModelHead =
  | {
      kind: 'linear-classifier';
      /** Row-major rows x width: one row (binary, positive class, LOGISTIC) or one per class (SOFTMAX). */
      coefficients: number[];
      intercepts: number[];
      classes: Array<string | number>;
    }
  | { kind: 'linear-regressor'; coefficients: number[]; intercept: number }
  /** A model whose one float input [N, width] is the design matrix (e.g. an exported tree ensemble). */
  | { kind: 'onnx'; bytes: Uint8Array; task: 'classification' | 'regression'; classes: Array<string | number> };

/** The inputs the graph takes: the numeric columns as one float tensor, each categorical column as its own string tensor [N, 1]. */
function graphInputs(p: Preprocessor): SignatureInput[] {
  const numeric = p.floatColumns.filter((c) => c.kind === 'numeric').map((c) => c.name);
  const categorical = [...p.floatColumns.filter((c) => c.kind === 'ordinal').map((c) => c.name), ...p.oneHot.map((o) => o.name)];
  const taken = new Set([FLOAT_INPUT]);
  const inputs: SignatureInput[] = numeric.length > 0 ? [{ name: FLOAT_INPUT, type: 'float', features: numeric }] : [];
  for (const name of categorical) {
    let inputName = name;
    while (taken.has(inputName)) inputName = `${inputName}_input`;
    taken.add(inputName);
    inputs.push({ name: inputName, type: 'string', features: [name] });
  }
  return inputs;
}

/** The signature of an exported pipeline; `featureOrder` is the order the caller named the features in. */
export function pipelineSignature(p: Preprocessor, head: ModelHead, featureOrder: string[]): ModelSignature {
  const described = new Map<string, SignatureFeature>();
  for (const c of p.floatColumns) described.set(c.name, c.kind === 'numeric' ? { name: c.name, type: 'float' } : { name: c.name, type: 'string', categories: c.categories });
  for (const o of p.oneHot) described.set(o.name, { name: o.name, type: 'string', categories: o.categories });
  const regression = head.kind === 'linear-regressor' || (head.kind === 'onnx' && head.task === 'regression');
  return {
    inputName: FLOAT_INPUT,
    inputs: graphInputs(p),
    features: featureOrder.map((name) => described.get(name)!),
    outputs: regression ? { label: PREDICTION, probabilities: PREDICTION } : { label: LABEL, probabilities: PROBABILITIES },
    classes: regression ? [PREDICTION] : [...(head as { classes: Array<string | number> }).classes],
    task: regression ? 'regression' : 'classification',
  };
}

function labelAttrs(classes: Array<string | number>): Record<string, AttributeValue> {
  return typeof classes[0] === 'string' ? { classlabels_strings: classes as string[] } : { classlabels_ints: { ints: classes as number[] } };
}

/** Encodes preprocessing + head. Deterministic bytes; the signature travels in metadata_props under `mlcycle.signature`. */
export function exportPipeline(p: Preprocessor, head: ModelHead, featureOrder: string[], metadata: Record<string, unknown> = {}): { bytes: Uint8Array; signature: ModelSignature } {
  const signature = pipelineSignature(p, head, featureOrder);
  const inputs = signature.inputs!;
  const inputOf = new Map(inputs.flatMap((i) => i.features.map((f) => [f, i.name] as const)));
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];

  // Float block: the numeric input, then ordinal codes, imputed and scaled together.
  const floatParts: string[] = [];
  if (inputs[0]?.name === FLOAT_INPUT && inputs[0].type === 'float') floatParts.push(FLOAT_INPUT);
  for (const c of p.floatColumns.filter((x) => x.kind === 'ordinal')) {
    const out = `ordinal_${floatParts.length}`;
    nodes.push(
      node('LabelEncoder', [inputOf.get(c.name)!], [out], {
        keys_strings: c.categories!,
        values_floats: { floats: c.categories!.map((_, k) => k) },
        default_float: Number.NaN,
      }, ONNX_ML_DOMAIN),
    );
    floatParts.push(out);
  }
  const designParts: string[] = [];
  if (floatParts.length > 0) {
    let block = floatParts[0];
    if (floatParts.length > 1) {
      nodes.push(node('Concat', floatParts, ['float_block'], { axis: 1 }));
      block = 'float_block';
    }
    if (p.floatColumns.some((c) => c.impute !== null)) {
      nodes.push(
        node('Imputer', [block], ['imputed'], { imputed_value_floats: { floats: p.floatColumns.map((c) => c.impute ?? Number.NaN) }, replaced_value_float: Number.NaN }, ONNX_ML_DOMAIN),
      );
      block = 'imputed';
    }
    if (p.floatColumns.some((c) => c.offset !== 0 || c.multiplier !== 1)) {
      nodes.push(node('Scaler', [block], ['scaled'], { offset: { floats: p.floatColumns.map((c) => c.offset) }, scale: { floats: p.floatColumns.map((c) => c.multiplier) } }, ONNX_ML_DOMAIN));
      block = 'scaled';
    }
    designParts.push(block);
  }
  p.oneHot.forEach((o, i) => {
    // OneHotEncoder adds a trailing axis ([N, 1] -> [N, 1, K]); Flatten makes it [N, K]. zeros=1: unknown -> all zeros.
    nodes.push(node('OneHotEncoder', [inputOf.get(o.name)!], [`onehot_${i}`], { cats_strings: o.categories, zeros: 1 }, ONNX_ML_DOMAIN));
    nodes.push(node('Flatten', [`onehot_${i}`], [`onehot_flat_${i}`], { axis: 1 }));
    designParts.push(`onehot_flat_${i}`);
  });
  let design = designParts[0];
  if (designParts.length > 1) {
    nodes.push(node('Concat', designParts, [DESIGN], { axis: 1 }));
    design = DESIGN;
  }

  let outputs: onnxProto.onnx.IValueInfoProto[];
  let graphName: string;
  if (head.kind === 'linear-classifier') {
    const binary = head.classes.length === 2 && head.coefficients.length === p.width;
    nodes.push(
      node('LinearClassifier', [design], [LABEL, PROBABILITIES], {
        coefficients: { floats: head.coefficients },
        intercepts: { floats: head.intercepts },
        post_transform: binary ? 'LOGISTIC' : 'SOFTMAX',
        ...labelAttrs(head.classes),
      }, ONNX_ML_DOMAIN),
    );
    outputs = [tensorInfo(LABEL, typeof head.classes[0] === 'string' ? 'string' : 'int64', [-1]), tensorInfo(PROBABILITIES, 'float', [-1, head.classes.length])];
    graphName = binary ? 'mlcycle_logistic_regression' : 'mlcycle_multinomial_logistic_regression';
  } else if (head.kind === 'linear-regressor') {
    nodes.push(node('LinearRegressor', [design], [PREDICTION], { coefficients: { floats: head.coefficients }, intercepts: { floats: [head.intercept] }, targets: 1 }, ONNX_ML_DOMAIN));
    outputs = [tensorInfo(PREDICTION, 'float', [-1, 1])];
    graphName = 'mlcycle_ridge_regression';
  } else {
    const inner = onnx.ModelProto.decode(head.bytes).graph!;
    const innerInput = inner.input![0].name!;
    for (const n of inner.node ?? []) nodes.push({ ...n, input: (n.input ?? []).map((x) => (x === innerInput ? design : x)) });
    initializers.push(...(inner.initializer ?? []));
    outputs = inner.output ?? [];
    graphName = inner.name ?? 'mlcycle_pipeline';
  }

  const bytes = encodeModel({
    graphName,
    nodes,
    inputs: inputs.map((i) => tensorInfo(i.name, i.type, [-1, i.features.length])),
    outputs,
    initializers,
    metadata: { ...metadata, 'mlcycle.signature': signature },
  });
  return { bytes, signature };
}
