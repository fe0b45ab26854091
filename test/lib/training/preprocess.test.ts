// Preprocessing steps by hand, and the frame's refusals of unusable columns and targets.
import { Float64, makeVector, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildFrame, type FeatureColumn } from '../../../lib/training/frame.js';
import { fitPreprocessor, transform } from '../../../lib/training/preprocess.js';

const num = (values: number[]): FeatureColumn => ({ name: 'a', kind: 'numeric', values: Float64Array.from(values) });
const cat = (values: Array<string | null>): FeatureColumn => ({ name: 'c', kind: 'categorical', values });
const base = { imputeConstant: 0, scaling: 'none' as const, categorical: 'onehot' as const, maxCategories: 10 };
const all = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

describe('fitPreprocessor / transform', () => {
  it('imputes with the mean, the median or a constant of the training rows', () => {
    const col = num([1, 2, Number.NaN, 10]);
    expect(fitPreprocessor([col], all(4), { ...base, impute: 'mean' }).floatColumns[0].impute).toBeCloseTo(13 / 3, 6);
    expect(fitPreprocessor([col], all(4), { ...base, impute: 'median' }).floatColumns[0].impute).toBe(2);
    const p = fitPreprocessor([col], all(4), { ...base, impute: 'constant', imputeConstant: -7 });
    expect(Array.from(transform(p, [col], all(4)))).toEqual([1, 2, -7, 10]);
    // Only training rows count: the median of rows 0 and 3.
    expect(fitPreprocessor([col], Uint32Array.from([0, 3]), { ...base, impute: 'median' }).floatColumns[0].impute).toBe(5.5);
  });

  it('standardises to zero mean and unit variance on the training rows', () => {
    const col = num([1, 2, 3, 4]);
    const p = fitPreprocessor([col], all(4), { ...base, impute: 'mean', scaling: 'standard' });
    const z = Array.from(transform(p, [col], all(4)));
    expect(z.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 6);
    expect(z.reduce((s, v) => s + v * v, 0) / 4).toBeCloseTo(1, 6);
  });

  it('one-hot encodes with zeros for unknown and missing, keeping the most frequent categories', () => {
    const col = cat(['b', 'a', 'b', null, 'c', 'b', 'a']);
    const p = fitPreprocessor([col], all(5), { ...base, impute: 'mean', maxCategories: 2 });
    expect(p.oneHot[0].categories).toEqual(['a', 'b']);
    expect(Array.from(transform(p, [col], Uint32Array.from([0, 1, 3, 4])))).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('ordinal encodes as the category index, imputing unknown and missing', () => {
    const col = cat(['b', 'a', 'c', null]);
    const p = fitPreprocessor([col], all(4), { ...base, impute: 'constant', imputeConstant: 9, categorical: 'ordinal' });
    expect(p.floatColumns[0]).toMatchObject({ kind: 'ordinal', categories: ['a', 'b', 'c'] });
    expect(Array.from(transform(p, [col], all(4)))).toEqual([1, 0, 2, 9]);
  });
});

describe('buildFrame refusals', () => {
  const table = (cols: Record<string, Array<number | null> | Array<string | null>>) =>
    new Table(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, typeof v.find((x) => x !== null) === 'string' ? vectorFromArray(v as string[], new Utf8()) : vectorFromArray(v as number[], new Float64())])));
  it('names an empty, a constant or a non-finite column, and a single-class target', () => {
    expect(() => buildFrame(table({ a: [null, null, null], y: ['x', 'y', 'x'] }), { target: 'y', task: 'classification', features: ['a'] })).toThrow(/"a" is empty/);
    expect(() => buildFrame(table({ a: [3, 3, null], y: ['x', 'y', 'x'] }), { target: 'y', task: 'classification', features: ['a'] })).toThrow(/"a" is constant/);
    expect(() => buildFrame(table({ a: [1, Number.POSITIVE_INFINITY, 2], y: ['x', 'y', 'x'] }), { target: 'y', task: 'classification', features: ['a'] })).toThrow(/"a" holds Infinity at row 1/);
    expect(() => buildFrame(table({ a: [1, 2, 3], y: ['x', 'x', 'x'] }), { target: 'y', task: 'classification', features: ['a'] })).toThrow(/single class/);
    expect(() => buildFrame(new Table({ a: makeVector(Float64Array.from([1, 2])), y: makeVector(Float64Array.from([1, Number.NaN])) }), { target: 'y', task: 'regression', features: ['a'] })).toThrow(/targets must be finite/);
    expect(() => buildFrame(table({ a: [1, 2, 3], y: ['x', 'y', 'x'] }), { target: 'y', task: 'regression', features: ['a'] })).toThrow(/regression needs a numeric target/);
  });
});
