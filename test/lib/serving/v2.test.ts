// The Open Inference Protocol mapping: metadata, request tensors -> rows (and every refusal), predictions -> outputs.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import type { ModelSignature } from '../../../lib/training/types.js';
import { rowsToMatrix } from '../../../lib/serving/predictor.js';
import { checkOutputSelection, datatypeFromOrt, flattenTensorData, predictionsToOutputs, readInferRequest, tensorMetadata, V2_MAX_ROWS } from '../../../lib/serving/v2.js';

// Two numeric features packed in `features`, one categorical column in its own string tensor.
const mixed: ModelSignature = {
  inputName: 'features',
  inputs: [
    { name: 'features', type: 'float', features: ['a', 'b'] },
    { name: 'region', type: 'string', features: ['region'] },
  ],
  features: [
    { name: 'a', type: 'float' },
    { name: 'b', type: 'float' },
    { name: 'region', type: 'string', categories: ['n', 's'] },
  ],
  outputs: { label: 'label', probabilities: 'probabilities' },
  classes: ['no', 'yes'],
};
const regressor: ModelSignature = {
  inputName: 'features',
  features: [{ name: 'x', type: 'float' }],
  outputs: { label: 'variable', probabilities: 'variable' },
  classes: ['prediction'],
  task: 'regression',
};

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a ValidationError');
};

describe('tensorMetadata', () => {
  it('maps onnxruntime types and symbolic dimensions, and names the features each input packs', () => {
    const m = tensorMetadata(mixed, {
      inputs: [
        { name: 'features', isTensor: true, type: 'float32', shape: ['N', 2] },
        { name: 'region', isTensor: true, type: 'string', shape: ['', 1] },
      ],
      outputs: [
        { name: 'label', isTensor: true, type: 'string', shape: [''] },
        { name: 'probabilities', isTensor: true, type: 'float32', shape: [7, 2] },
      ],
    });
    expect(m.inputs).toEqual([
      { name: 'features', datatype: 'FP32', shape: [-1, 2], parameters: { features: ['a', 'b'] } },
      { name: 'region', datatype: 'BYTES', shape: [-1, 1], parameters: { features: ['region'] } },
    ]);
    // The batch dimension is variable even when the graph fixed it.
    expect(m.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);
  });

  it('falls back to the signature when the session gives no shape', () => {
    const m = tensorMetadata(mixed, { inputs: [{ name: 'features', isTensor: true, type: 'float32', shape: [] }], outputs: [{ name: 'label', isTensor: true, type: 'int64' }] });
    expect(m.inputs[0].shape).toEqual([-1, 2]);
    expect(m.inputs[1]).toMatchObject({ datatype: 'BYTES', shape: [-1, 1] });
    expect(m.outputs).toEqual([{ name: 'label', datatype: 'INT64', shape: [-1] }]);
  });

  it('knows the protocol datatypes', () => {
    expect(['float32', 'float64', 'int64', 'int32', 'string', 'bool', 'uint8'].map(datatypeFromOrt)).toEqual(['FP32', 'FP64', 'INT64', 'INT32', 'BYTES', 'BOOL', 'UINT8']);
    expect(() => datatypeFromOrt('complex64')).toThrow(ValidationError);
  });
});

describe('flattenTensorData', () => {
  it('takes flat and nested row-major data', () => {
    expect(flattenTensorData('x', [2, 3], [1, 2, 3, 4, 5, 6])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(flattenTensorData('x', [2, 3], [[1, 2, 3], [4, 5, 6]])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(flattenTensorData('x', [1, 2, 1], [[[1], [2]]])).toEqual([1, 2]);
  });

  it('refuses data that does not fit the shape, naming the input and where', () => {
    expect(errorOf(() => flattenTensorData('x', [2, 3], [1, 2, 3]))).toMatch(/Input "x": shape \[2, 3\] holds 6 elements but data has 3/);
    // Same element count, wrong nesting.
    expect(errorOf(() => flattenTensorData('x', [2, 3], [[1, 2], [3, 4], [5, 6]]))).toMatch(/data should be an array of 2 .* is an array of 3/);
    expect(errorOf(() => flattenTensorData('x', [2, 1], [[1], 2]))).toMatch(/data\[1\] should be an array of 1/);
    expect(errorOf(() => flattenTensorData('x', [1, 1], [[[1]]]))).toMatch(/nested deeper/);
    expect(errorOf(() => flattenTensorData('x', [1], 5))).toMatch(/must be an array/);
  });
});

const requestToRows = (...args: Parameters<typeof readInferRequest>) => readInferRequest(...args).rows;

describe('readInferRequest: rows', () => {
  const tensors = [
    { name: 'features', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, null] },
    { name: 'region', shape: [2, 1], datatype: 'BYTES', data: [['n'], [null]] },
  ];

  it('reads the model tensors into rows, null as missing', () => {
    expect(requestToRows({ inputs: tensors }, mixed)).toEqual([
      { a: 1, b: 2, region: 'n' },
      { a: 3, b: null, region: null },
    ]);
  });

  it('takes one tensor per feature as well ([N] or [N, 1]), in any order, and FP64', () => {
    const rows = requestToRows(
      {
        inputs: [
          { name: 'region', shape: [2], datatype: 'BYTES', data: ['s', 'n'] },
          { name: 'b', shape: [2, 1], datatype: 'FP64', data: [[0.5], [1.5]] },
          { name: 'a', shape: [2], datatype: 'FP32', data: [7, 8] },
        ],
      },
      mixed,
    );
    expect(rows).toEqual([
      { a: 7, b: 0.5, region: 's' },
      { a: 8, b: 1.5, region: 'n' },
    ]);
  });

  it('gives an all-float signature the input matrix the predictor would build from the rows, and keys a row with an odd feature name', () => {
    const floats: ModelSignature = {
      inputName: 'features',
      features: [{ name: 'a', type: 'float' }, { name: 'b"\\ c', type: 'float' }, { name: 'd', type: 'float' }],
      outputs: { label: 'label', probabilities: 'probabilities' },
      classes: ['no', 'yes'],
    };
    const read = readInferRequest(
      {
        inputs: [
          { name: 'd', shape: [2], datatype: 'FP64', data: [0.1, null] },
          { name: 'a', shape: [2, 1], datatype: 'FP32', data: [[1], [2]] },
          { name: 'b"\\ c', shape: [2], datatype: 'FP32', data: [null, 4] },
        ],
      },
      floats,
    );
    expect(read.rows).toEqual([
      { a: 1, 'b"\\ c': null, d: 0.1 },
      { a: 2, 'b"\\ c': 4, d: null },
    ]);
    expect(read.matrix).toEqual(rowsToMatrix(read.rows, { signature: floats }));
    expect(readInferRequest({ inputs: tensors }, mixed).matrix).toBeUndefined();
  });

  it('refuses unknown, missing, duplicated and mistyped inputs with the reason', () => {
    expect(errorOf(() => requestToRows({ inputs: [...tensors, { name: 'zzz', shape: [2], datatype: 'FP32', data: [1, 2] }] }, mixed))).toMatch(/Unknown input "zzz": the model takes tensors features \[-1, 2\] FP32, region \[-1, 1\] BYTES/);
    expect(errorOf(() => requestToRows({ inputs: [tensors[0]] }, mixed))).toMatch(/Missing input for feature "region"/);
    expect(errorOf(() => requestToRows({ inputs: [...tensors, { name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] }] }, mixed))).toMatch(/Feature "a" is given twice \(inputs "features" and "a"\)/);
    expect(errorOf(() => requestToRows({ inputs: [{ ...tensors[0], datatype: 'INT64' }, tensors[1]] }, mixed))).toMatch(/Input "features" has datatype "INT64"; the model takes FP32/);
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { ...tensors[1], datatype: 'FP32' }] }, mixed))).toMatch(/Input "region" has datatype "FP32"; the model takes BYTES/);
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { ...tensors[1], data: [['n'], [3]] }] }, mixed))).toMatch(/Input "region": element 1 is 3; BYTES data must be strings/);
    expect(errorOf(() => requestToRows({ inputs: [{ ...tensors[0], data: [1, 'x', 3, 4] }, tensors[1]] }, mixed))).toMatch(/Input "features": element 1 is "x"/);
  });

  it('refuses a BYTES string Postgres could not store in the prediction log (U+0000, an unpaired surrogate), naming row and feature', () => {
    const refusal = (i: number) => `Input "region": element ${i} (row ${i}, feature "region") must be a string without U+0000 or unpaired UTF-16 surrogates.`;
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { ...tensors[1], data: [['n'], ['s\u0000']] }] }, mixed))).toBe(refusal(1));
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { ...tensors[1], shape: [2], data: ['\ud800', 'n'] }] }, mixed))).toBe(refusal(0));
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { name: 'region', shape: [2], datatype: 'BYTES', data: ['n', 'x\udfff'] }] }, mixed))).toBe(refusal(1));
    expect(requestToRows({ inputs: [tensors[0], { ...tensors[1], data: [['𝔘'], ['']] }] }, mixed).map((r) => r.region)).toEqual(['𝔘', '']);
  });

  it('refuses wrong shapes and disagreeing batch sizes', () => {
    expect(errorOf(() => requestToRows({ inputs: [{ ...tensors[0], shape: [4], data: [1, 2, 3, 4] }, tensors[1]] }, mixed))).toMatch(/Input "features" has shape \[4\]; the model takes \[N, 2\]/);
    expect(errorOf(() => requestToRows({ inputs: [{ ...tensors[0], shape: [1, 4] }, tensors[1]] }, mixed))).toMatch(/shape \[1, 4\]; the model takes \[N, 2\]/);
    expect(errorOf(() => requestToRows({ inputs: [{ ...tensors[0], shape: [2, -2] }, tensors[1]] }, mixed))).toMatch(/shape must be a non-empty array of non-negative integers/);
    expect(errorOf(() => requestToRows({ inputs: [tensors[0], { name: 'region', shape: [1, 1], datatype: 'BYTES', data: ['n'] }] }, mixed))).toMatch(/has 1 rows but an earlier input has 2/);
    expect(errorOf(() => requestToRows({ inputs: [{ name: 'x', shape: [V2_MAX_ROWS + 1, 1], datatype: 'FP32', data: new Array(V2_MAX_ROWS + 1).fill(1) }] }, regressor))).toMatch(/send 1 to 1000/);
    expect(errorOf(() => requestToRows({ inputs: [{ name: 'x', shape: [0, 1], datatype: 'FP32', data: [] }] }, regressor))).toMatch(/has 0 rows/);
  });
});

describe('predictionsToOutputs', () => {
  const predictions = [
    { label: 'no', probabilities: { no: 0.75, yes: 0.25 } },
    { label: 'yes', probabilities: { no: 0.125, yes: 0.875 } },
  ];
  const meta = [
    { name: 'label', datatype: 'BYTES' as const, shape: [-1] },
    { name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 2] },
  ];

  it('gives the label [N] and the probabilities [N, K] in class order', () => {
    expect(predictionsToOutputs(predictions, mixed, meta)).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['no', 'yes'] },
      { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.75, 0.25, 0.125, 0.875] },
    ]);
    expect(predictionsToOutputs(predictions, mixed, meta, ['probabilities']).map((o) => o.name)).toEqual(['probabilities']);
  });

  it('gives a regressor its one output once, [N, 1]', () => {
    const out = predictionsToOutputs([{ label: 2.5, probabilities: { prediction: 2.5 } }], regressor, [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }]);
    expect(out).toEqual([{ name: 'variable', datatype: 'FP32', shape: [1, 1], data: [2.5] }]);
  });

  it('refuses outputs the model does not have', () => {
    expect(errorOf(() => checkOutputSelection(mixed, ['label', 'scores']))).toMatch(/Unknown output "scores"; the model's outputs are label, probabilities/);
  });
});
