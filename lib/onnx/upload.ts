// Checks an ONNX model trained elsewhere against the signature it was uploaded with: it must load in
// onnxruntime, take exactly the declared inputs (names, element types, widths), produce the declared
// outputs as plain tensors (no ZipMap), and score a probe row into the declared number of columns.
import type onnxProto from 'onnx-proto';
import { ValidationError } from '../errors.js';
import { signatureInputs, type ModelSignature } from '../training/types.js';
import { onnx } from './builder.js';
import { createSession, scoreColumns, type InputColumns } from './session.js';

const ELEM_NAMES: Record<number, string> = { 1: 'float', 7: 'int64', 8: 'string', 11: 'double' };

function describeType(t: onnxProto.onnx.ITypeProto | null | undefined): { kind: 'tensor' | 'sequence' | 'map' | 'other'; elem?: string; dims?: Array<number | null> } {
  if (t?.tensorType) {
    const elem = ELEM_NAMES[t.tensorType.elemType ?? 0] ?? `type ${t.tensorType.elemType}`;
    const dims = (t.tensorType.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null));
    return { kind: 'tensor', elem, dims };
  }
  if (t?.sequenceType) return { kind: 'sequence' };
  if (t?.mapType) return { kind: 'map' };
  return { kind: 'other' };
}

/** Throws ValidationError naming the input or output that does not match; returns the model's declared inputs when it does. */
export async function checkUploadedModel(bytes: Uint8Array, signature: ModelSignature): Promise<void> {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ValidationError(`The upload is not an ONNX model (protobuf decoding failed: ${(err as Error).message}).`);
  }
  if (!model.graph) throw new ValidationError('The upload is not an ONNX model: it has no graph.');
  let session;
  try {
    session = await createSession(bytes);
  } catch (err) {
    throw new ValidationError(`onnxruntime cannot load the uploaded model: ${(err as Error).message}`);
  }
  try {
    const initializers = new Set((model.graph.initializer ?? []).map((i) => i.name));
    const graphInputs = (model.graph.input ?? []).filter((i) => !initializers.has(i.name));
    const declared = signatureInputs(signature);
    const featureNames = new Set(signature.features.map((f) => f.name));
    for (const input of declared) {
      for (const f of input.features) if (!featureNames.has(f)) throw new ValidationError(`signature input ${JSON.stringify(input.name)} packs ${JSON.stringify(f)}, which is not in signature.features.`);
      const actual = graphInputs.find((g) => g.name === input.name);
      if (!actual) throw new ValidationError(`signature input ${JSON.stringify(input.name)} is not an input of the model; its inputs are ${graphInputs.map((g) => JSON.stringify(g.name)).join(', ')}.`);
      const t = describeType(actual.type);
      if (t.kind !== 'tensor' || t.elem !== input.type) {
        throw new ValidationError(`Model input ${JSON.stringify(input.name)} is a ${t.kind === 'tensor' ? `${t.elem} tensor` : t.kind}; the signature declares ${input.type}.`);
      }
      const width = t.dims?.[1];
      if (t.dims && t.dims.length !== 2) throw new ValidationError(`Model input ${JSON.stringify(input.name)} has rank ${t.dims.length}; mlcycle feeds [N, features] tensors.`);
      if (width !== null && width !== undefined && width !== input.features.length) {
        throw new ValidationError(`Model input ${JSON.stringify(input.name)} takes ${width} columns; the signature packs ${input.features.length} (${input.features.join(', ')}) into it.`);
      }
    }
    for (const g of graphInputs) {
      if (!declared.some((d) => d.name === g.name)) throw new ValidationError(`Model input ${JSON.stringify(g.name)} is not declared in the signature.`);
    }
    for (const [role, name] of Object.entries(signature.outputs)) {
      const out = (model.graph.output ?? []).find((o) => o.name === name);
      if (!out) throw new ValidationError(`signature.outputs.${role} names ${JSON.stringify(name)}, which is not an output of the model; its outputs are ${(model.graph.output ?? []).map((o) => JSON.stringify(o.name)).join(', ')}.`);
      const t = describeType(out.type);
      if (t.kind !== 'tensor') throw new ValidationError(`Model output ${JSON.stringify(name)} is a ${t.kind} (ZipMap?); export plain tensors (skl2onnx: options={'zipmap': False}).`);
    }
    // Probe: one row of zeros and first categories must score into the declared columns.
    const columns: InputColumns = {};
    for (const f of signature.features) columns[f.name] = f.type === 'string' ? [f.categories?.[0] ?? ''] : Float32Array.of(0);
    let scores;
    try {
      scores = await scoreColumns(session, signature, columns, 1);
    } catch (err) {
      throw new ValidationError(`The uploaded model fails to score a row shaped by its signature: ${(err as Error).message}`);
    }
    const width = signature.task === 'regression' ? 1 : signature.classes.length;
    if (scores.probabilities.length !== width) {
      throw new ValidationError(`Output ${JSON.stringify(signature.outputs.probabilities)} gives ${scores.probabilities.length} values per row; the signature declares ${width} (${signature.classes.map((c) => JSON.stringify(c)).join(', ')}).`);
    }
    if (scores.labels.length !== 1) throw new ValidationError(`Output ${JSON.stringify(signature.outputs.label)} gives ${scores.labels.length} values for one row; expected 1.`);
  } finally {
    await session.release();
  }
}
