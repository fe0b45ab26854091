// Typed helpers over the ONNX protobuf schema (onnx-proto): attributes, nodes, value infos, models.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;

export const ONNX_ML_DOMAIN = 'ai.onnx.ml';
/** Opsets we emit; onnxruntime-node 1.2x supports both. */
export const OPSET = { default: 17, ml: 3 } as const;

/** Graph input/output names shared by every exported model (the signature points at these). */
export const INPUT_NAME = 'features';
export const LABEL = 'label';
export const PROBABILITIES = 'probabilities';
/** Regression output, shape [N, 1]. */
export const PREDICTION = 'prediction';

export type AttributeValue = number | string | number[] | string[] | { floats: number[] } | { ints: number[] };

const A = onnx.AttributeProto.AttributeType;

/**
 * Builds an AttributeProto. Plain numbers are INT when integral; use
 * `{ floats: [...] }` / `{ ints: [...] }` where the operator expects a list type.
 */
export function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: A.INT, i: value } : { name, type: A.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') {
      return { name, type: A.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
    }
    throw new Error(`attribute ${name}: give numeric lists as { floats } or { ints } so the ONNX type is explicit`);
  }
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  return { name, type: A.INTS, ints: value.ints };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttributeValue> = {},
  domain = '',
): onnxProto.onnx.INodeProto {
  return {
    opType,
    domain,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

type ElemType = 'float' | 'int64' | 'string';
const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
};

/** A tensor value info; `-1` (or a string) marks a variable dimension. */
export function tensorInfo(name: string, elem: ElemType, dims: Array<number | string>): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'string' || d < 0 ? { dimParam: typeof d === 'string' ? d : 'N' } : { dimValue: d })) },
      },
    },
  };
}

export interface ModelSpec {
  graphName: string;
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  /** Stored as metadata_props; values that are not strings are JSON-encoded. */
  metadata: Record<string, unknown>;
  docString?: string;
}

/** Serialises a model. Deterministic: the same spec always gives the same bytes. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'mlcycle',
    producerVersion: '1',
    docString: spec.docString ?? '',
    opsetImport: [
      { domain: '', version: OPSET.default },
      { domain: ONNX_ML_DOMAIN, version: OPSET.ml },
    ],
    graph: { name: spec.graphName, node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] },
    metadataProps: Object.entries(spec.metadata)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads metadata_props back from model bytes (used to recover a signature from an uploaded model). */
export function decodeMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
