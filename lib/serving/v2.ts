// The Open Inference Protocol (KServe v2) in mlcycle's terms, pure: model metadata from a session's tensor
// metadata and the signature, request tensors -> feature rows (every problem named by input), and
// predictions -> response tensors. No Fastify, no onnxruntime: the route hands in plain descriptions.
import { ValidationError } from '../errors.js';
import { signatureInputs, type ModelSignature } from '../training/types.js';
import type { FeatureRow, Prediction } from './predictor.js';
import { isStorableText, STORABLE_TEXT } from '../util/storable-text.js';

/** The platform string KServe uses for ONNX models served by onnxruntime. */
export const V2_PLATFORM = 'onnx_onnxv1';
/** Rows one infer request may carry, as the v1 predict route. */
export const V2_MAX_ROWS = 1000;

export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

const ORT_TO_V2: Record<string, V2Datatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

/** An onnxruntime tensor type (`float32`, `int64`, `string`, ...) as a v2 datatype. */
export function datatypeFromOrt(type: string): V2Datatype {
  const d = ORT_TO_V2[type];
  if (!d) throw new ValidationError(`onnxruntime type ${JSON.stringify(type)} has no Open Inference Protocol datatype.`);
  return d;
}

/** What onnxruntime reports for one input or output (`session.inputMetadata` entries), as plain data. */
export interface OrtValueMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  /** Numbers are fixed sizes; strings (possibly empty) are symbolic, i.e. variable, dimensions. */
  shape?: ReadonlyArray<number | string>;
}

export interface V2TensorMetadata {
  name: string;
  datatype: V2Datatype;
  /** -1 marks a variable dimension. */
  shape: number[];
  /** Inputs: the signature features this tensor packs, in column order (mlcycle extension). */
  parameters?: { features: string[] };
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: typeof V2_PLATFORM;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

const dims = (shape: ReadonlyArray<number | string> | undefined): number[] | undefined =>
  shape && shape.length > 0 ? shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : undefined;

/**
 * A version's tensors as the protocol describes them. Inputs follow the signature's tensors (names, and
 * the features each packs); datatype and shape come from the session, or from the signature when the
 * session does not say (a float tensor [-1, width], a string tensor BYTES [-1, width]). Outputs are the
 * session's tensor outputs; the batch dimension is always -1.
 */
export function tensorMetadata(signature: ModelSignature, session: { inputs: OrtValueMetadata[]; outputs: OrtValueMetadata[] }): { inputs: V2TensorMetadata[]; outputs: V2TensorMetadata[] } {
  const byName = new Map(session.inputs.map((m) => [m.name, m]));
  const inputs = signatureInputs(signature).map((input): V2TensorMetadata => {
    const m = byName.get(input.name);
    const shape = dims(m?.shape) ?? [-1, input.features.length];
    shape[0] = -1;
    const datatype = m?.isTensor && m.type ? datatypeFromOrt(m.type) : input.type === 'string' ? 'BYTES' : 'FP32';
    return { name: input.name, datatype, shape, parameters: { features: [...input.features] } };
  });
  const k = signature.classes.length;
  const outputs = session.outputs
    .filter((m) => m.isTensor && m.type)
    .map((m): V2TensorMetadata => {
      const fallback = m.name === signature.outputs.probabilities ? [-1, k] : [-1];
      const shape = dims(m.shape) ?? fallback;
      shape[0] = -1;
      return { name: m.name, datatype: datatypeFromOrt(m.type!), shape };
    });
  return { inputs, outputs };
}

// ---- Infer requests ----

export interface V2RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
  parameters?: Record<string, unknown>;
}

export interface V2InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: V2RequestInput[];
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

export interface V2ResponseOutput {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  data: Array<number | string>;
}

const FLOAT_TYPES = new Set(['FP16', 'FP32', 'FP64']);

/**
 * Flattens `data` (flat, or nested row-major) for a tensor of `shape`. Nested data must follow the shape
 * level by level; flat data must hold exactly the shape's element count. Errors name the input.
 */
export function flattenTensorData(name: string, shape: number[], data: unknown): unknown[] {
  if (!Array.isArray(data)) throw new ValidationError(`Input ${JSON.stringify(name)}: data must be an array (flat or nested row-major).`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length === 0 || !Array.isArray(data[0])) {
    if (data.some(Array.isArray)) throw new ValidationError(`Input ${JSON.stringify(name)}: data mixes arrays and values at the top level.`);
    if (data.length !== count) {
      throw new ValidationError(`Input ${JSON.stringify(name)}: shape [${shape.join(', ')}] holds ${count} elements but data has ${data.length}.`);
    }
    return data;
  }
  const out: unknown[] = [];
  const walk = (node: unknown, level: number, where: string) => {
    if (level === shape.length) {
      if (Array.isArray(node)) throw new ValidationError(`Input ${JSON.stringify(name)}: data${where} is nested deeper than shape [${shape.join(', ')}].`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[level]) {
      throw new ValidationError(
        `Input ${JSON.stringify(name)}: data${where} should be an array of ${shape[level]} (shape [${shape.join(', ')}]) but is ${Array.isArray(node) ? `an array of ${node.length}` : JSON.stringify(node)}.`,
      );
    }
    node.forEach((child, i) => walk(child, level + 1, `${where}[${i}]`));
  };
  walk(data, 0, '');
  return out;
}

function checkShape(input: V2RequestInput): void {
  const { name, shape } = input;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValidationError(`Input ${JSON.stringify(name)}: shape must be a non-empty array of non-negative integers (got ${JSON.stringify(shape)}).`);
  }
}

type SignatureInput = ReturnType<typeof signatureInputs>[number];

interface SignatureLookups {
  tensors: SignatureInput[];
  tensorByName: Map<string, SignatureInput>;
  featureByName: Map<string, ModelSignature['features'][number]>;
  /** Column of each feature in the signature's order. */
  featureIndex: Map<string, number>;
  /** Builds one row from the values of each feature (in signature order): an object literal of the signature's keys. */
  makeRow: (values: unknown[][], at: readonly number[]) => FeatureRow;
  allFloat: boolean;
  /** The class values as the probabilities' keys. */
  classes: string[];
}

// Per signature (versions are immutable and the predictor keeps one object per version): built once, not per request.
const lookups = new WeakMap<ModelSignature, SignatureLookups>();

/**
 * A row with the signature's keys as one object literal: assigning 20 keys one by one goes through a megamorphic
 * keyed store per key. Keys are JSON-quoted, so any feature name is safe.
 */
function rowMaker(features: readonly string[]): SignatureLookups['makeRow'] {
  const fields = features.map((f, j) => `${JSON.stringify(f)}: v[${j}][at[${j}]]`).join(', ');
  return new Function('v', 'at', `return { ${fields} };`) as SignatureLookups['makeRow'];
}

function signatureLookups(signature: ModelSignature): SignatureLookups {
  let l = lookups.get(signature);
  if (!l) {
    const tensors = signatureInputs(signature);
    const names = signature.features.map((f) => f.name);
    l = {
      tensors,
      tensorByName: new Map(tensors.map((t) => [t.name, t])),
      featureByName: new Map(signature.features.map((f) => [f.name, f])),
      featureIndex: new Map(names.map((f, j) => [f, j])),
      makeRow: rowMaker(names),
      allFloat: signature.features.every((f) => f.type !== 'string'),
      classes: signature.classes.map(String),
    };
    lookups.set(signature, l);
  }
  return l;
}

function expectedInputs(signature: ModelSignature, tensors: SignatureInput[]): string {
  return `the model takes tensors ${tensors.map((t) => `${t.name} [-1, ${t.features.length}] ${t.type === 'string' ? 'BYTES' : 'FP32'}`).join(', ')}, or one tensor per feature (${signature.features.map((f) => f.name).join(', ')})`;
}

/** An infer request's inputs read against a signature: the feature rows, and for an all-float signature the same values as its input matrix. */
export interface InferInput {
  rows: FeatureRow[];
  /** Row-major, NaN for missing; what the predictor would build from `rows`. Absent when a feature is a string. */
  matrix?: Float32Array;
}

/**
 * Turns an infer request's tensors into feature rows for the signature. Each input is either one of the
 * model's tensors (by name, shape [N, width]) or a single feature (by feature name, shape [N] or [N, 1]),
 * so columnar clients can send one tensor per column. Float features take FP16/FP32/FP64 numbers or null
 * (missing), string features BYTES strings or null; a string with U+0000 or an unpaired surrogate is refused, as
 * the prediction log could not store it. Every input must agree on N (1..V2_MAX_ROWS); wrong names, shapes,
 * datatypes, values and missing features are ValidationErrors naming the input. For an all-float signature the
 * same values come back as the input matrix too, read from the tensors directly.
 */
export function readInferRequest(request: Pick<V2InferRequest, 'inputs'>, signature: ModelSignature): InferInput {
  const { tensors, tensorByName, featureByName, featureIndex, makeRow, allFloat } = signatureLookups(signature);
  const k = signature.features.length;
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) throw new ValidationError(`The request has no inputs; ${expectedInputs(signature, tensors)}.`);
  // Per feature (signature order): the flat data of the input that carries it, its offset in a row, and the row stride.
  const valuesOf: unknown[][] = new Array(k);
  const columnOf: number[] = new Array(k);
  const strideOf: number[] = new Array(k);
  const inputOf: string[] = new Array(k);
  const inputs = request.inputs;
  let n: number | undefined;
  for (let x = 0; x < inputs.length; x++) {
    const input = inputs[x];
    const name = input.name;
    for (let prior = 0; prior < x; prior++) if (inputs[prior].name === name) throw new ValidationError(`Input ${JSON.stringify(name)} appears twice.`);
    checkShape(input);
    const tensor = tensorByName.get(name);
    const feature = tensor ? undefined : featureByName.get(name);
    if (!tensor && !feature) throw new ValidationError(`Unknown input ${JSON.stringify(name)}: ${expectedInputs(signature, tensors)}.`);
    const type = tensor ? tensor.type : feature!.type;
    const width = tensor ? tensor.features.length : 1;
    const wanted = type === 'string' ? 'BYTES' : 'FP32';
    const okType = type === 'string' ? input.datatype === 'BYTES' : FLOAT_TYPES.has(input.datatype);
    if (!okType) throw new ValidationError(`Input ${JSON.stringify(name)} has datatype ${JSON.stringify(input.datatype)}; the model takes ${wanted}${type === 'float' ? ' (or FP64/FP16, converted)' : ''}.`);
    // A one-column tensor (or a single feature) may also come as a vector [N].
    const shapeOk = (input.shape.length === 2 && input.shape[1] === width) || (input.shape.length === 1 && width === 1);
    if (!shapeOk) {
      throw new ValidationError(`Input ${JSON.stringify(name)} has shape [${input.shape.join(', ')}]; the model takes ${width === 1 ? '[N, 1] or [N]' : `[N, ${width}]`}.`);
    }
    const rows = input.shape[0];
    if (rows < 1 || rows > V2_MAX_ROWS) throw new ValidationError(`Input ${JSON.stringify(name)} has ${rows} rows; send 1 to ${V2_MAX_ROWS} per request.`);
    if (n !== undefined && rows !== n) throw new ValidationError(`Input ${JSON.stringify(name)} has ${rows} rows but an earlier input has ${n}; every input needs the same batch size.`);
    n = rows;
    const values = flattenTensorData(name, input.shape, input.data);
    const features = tensor ? tensor.features : [name];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const bad = type === 'string' ? v !== null && typeof v !== 'string' : v !== null && (typeof v !== 'number' || !Number.isFinite(v));
      if (bad) {
        throw new ValidationError(`Input ${JSON.stringify(name)}: element ${i} is ${JSON.stringify(v)}; ${type === 'string' ? 'BYTES data must be strings (null for missing)' : 'data must be finite numbers (null for missing)'}.`);
      }
      if (type === 'string' && v !== null && !isStorableText(v as string)) {
        throw new ValidationError(`Input ${JSON.stringify(name)}: element ${i} (row ${Math.floor(i / width)}, feature ${JSON.stringify(features[i % width])}) must be ${STORABLE_TEXT}.`);
      }
    }
    for (let column = 0; column < features.length; column++) {
      const j = featureIndex.get(features[column])!;
      if (inputOf[j] !== undefined) throw new ValidationError(`Feature ${JSON.stringify(features[column])} is given twice (inputs ${JSON.stringify(inputOf[j])} and ${JSON.stringify(name)}).`);
      inputOf[j] = name;
      valuesOf[j] = values;
      columnOf[j] = column;
      strideOf[j] = width;
    }
  }
  const missing = signature.features.filter((f, j) => inputOf[j] === undefined).map((f) => f.name);
  if (missing.length > 0) throw new ValidationError(`Missing input for feature${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')}; ${expectedInputs(signature, tensors)}.`);
  const rows: FeatureRow[] = new Array(n!);
  // Row i of feature j sits at at[j] = its column + i * its input's width; `at` walks down the rows.
  const at = columnOf;
  const matrix = allFloat ? new Float32Array(n! * k) : undefined;
  for (let i = 0, o = 0; i < n!; i++) {
    rows[i] = makeRow(valuesOf, at);
    for (let j = 0; j < k; j++, o++) {
      if (matrix) {
        const v = valuesOf[j][at[j]] as number | null;
        matrix[o] = v === null ? Number.NaN : v;
      }
      at[j] += strideOf[j];
    }
  }
  return matrix ? { rows, matrix } : { rows };
}

/** The outputs an infer request gets: `selected` (checked: unknown names are a ValidationError), else all. */
export function checkOutputSelection(signature: ModelSignature, selected?: string[]): string[] {
  const { label, probabilities } = signature.outputs;
  const available = label === probabilities ? [probabilities] : [label, probabilities];
  for (const name of selected ?? []) {
    if (!available.includes(name)) throw new ValidationError(`Unknown output ${JSON.stringify(name)}; the model's outputs are ${available.join(', ')}.`);
  }
  return selected ?? available;
}

/**
 * The response tensors for scored rows: the label output [N] (or the rank the session reports) and the
 * probabilities [N, classes] in class order; a regressor's single output once, [N, 1]. `selected` keeps
 * only the named outputs (unknown names are a ValidationError).
 */
export function predictionsToOutputs(predictions: Prediction[], signature: ModelSignature, outputs: V2TensorMetadata[], selected?: string[]): V2ResponseOutput[] {
  const n = predictions.length;
  const { probabilities } = signature.outputs;
  const classes = signatureLookups(signature).classes;
  const c = classes.length;
  return checkOutputSelection(signature, selected).map((name): V2ResponseOutput => {
    const m = outputs.find((o) => o.name === name);
    if (name === probabilities) {
      const data = new Array<number>(n * c);
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) data[i * c + k] = predictions[i].probabilities[classes[k]];
      return { name, datatype: m?.datatype ?? 'FP32', shape: [n, c], data };
    }
    const datatype = m?.datatype ?? (predictions.some((p) => typeof p.label === 'string') ? 'BYTES' : 'INT64');
    const shape = m && m.shape.length === 2 ? [n, m.shape[1] === -1 ? 1 : m.shape[1]] : [n];
    return { name, datatype, shape, data: predictions.map((p) => p.label) };
  });
}
