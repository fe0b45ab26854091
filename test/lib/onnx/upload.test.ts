// Bring-your-own-model checks on a real scikit-learn model converted with skl2onnx (test/fixtures/models).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { createSession, scoreColumns } from '../../../lib/onnx/session.js';
import { checkUploadedModel } from '../../../lib/onnx/upload.js';
import type { ModelSignature } from '../../../lib/training/types.js';

const dir = new URL('../../fixtures/models/', import.meta.url);
const bytes = new Uint8Array(readFileSync(new URL('iris-logreg.onnx', dir)));
const fixture = JSON.parse(readFileSync(new URL('iris-logreg.json', dir), 'utf8')) as {
  signature: Omit<ModelSignature, 'inputName'>;
  rows: Array<Record<string, number>>;
  labels: string[];
  probabilities: number[][];
};
const signature: ModelSignature = { ...fixture.signature, inputName: fixture.signature.inputs![0].name };

describe('checkUploadedModel', () => {
  it('accepts the skl2onnx model with its signature, and scores like scikit-learn', async () => {
    await checkUploadedModel(bytes, signature);
    const session = await createSession(bytes);
    const columns = Object.fromEntries(signature.features.map((f) => [f.name, Float32Array.from(fixture.rows, (r) => r[f.name])]));
    const { labels, probabilities } = await scoreColumns(session, signature, columns, fixture.rows.length);
    await session.release();
    expect(labels).toEqual(fixture.labels);
    fixture.probabilities.flat().forEach((p, i) => expect(Math.abs(probabilities[i] - p)).toBeLessThan(1e-5));
  });

  it('refuses what does not load or does not match, naming the input or output', async () => {
    const wrong = async (s: Partial<ModelSignature>, b = bytes) => {
      const err = await checkUploadedModel(b, { ...signature, ...s }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      return (err as Error).message;
    };
    expect(await wrong({}, new TextEncoder().encode('not a model at all'))).toMatch(/not an ONNX model|cannot load/);
    expect(await wrong({ inputs: [{ name: 'float_input', type: 'float', features: signature.inputs![0].features }] })).toContain('"float_input" is not an input of the model');
    expect(await wrong({ inputs: [{ name: 'X', type: 'float', features: ['sepal_length', 'sepal_width', 'petal_length'] }] })).toMatch(/takes 4 columns; the signature packs 3/);
    expect(await wrong({ inputs: [{ name: 'X', type: 'string', features: signature.inputs![0].features }] })).toMatch(/"X" is a float tensor; the signature declares string/);
    expect(await wrong({ outputs: { label: 'output_label', probabilities: 'output_probability' } })).toMatch(/signature.outputs.label names "output_label"/);
    expect(await wrong({ classes: ['a', 'b'] })).toMatch(/gives 3 values per row; the signature declares 2/);
  });
});
