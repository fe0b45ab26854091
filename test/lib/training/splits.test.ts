// Splits: random, stratified, time-based and k-fold partitions, and their refusals.
import { describe, expect, it } from 'vitest';
import { kFold, randomSplit, splitRows, stratifiedSplit, timeSplit } from '../../../lib/training/splits.js';

const union = (...parts: Uint32Array[]) => parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);

describe('splits', () => {
  it('random: disjoint parts of the requested sizes covering every row, fixed by the seed', () => {
    const s = randomSplit(100, 0.2, 0.1, 1);
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([70, 20, 10]);
    expect(union(s.train, s.validation, s.test)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(randomSplit(100, 0.2, 0.1, 1)).toEqual(s);
    expect(Array.from(randomSplit(100, 0.2, 0.1, 2).validation)).not.toEqual(Array.from(s.validation));
  });

  it('stratified: each class keeps its share in validation', () => {
    const labels = Array.from({ length: 200 }, (_, i) => (i < 160 ? 0 : i < 190 ? 1 : 2));
    const s = stratifiedSplit(labels, 0.25, 0, 3);
    const count = (rows: Uint32Array, k: number) => Array.from(rows).filter((i) => labels[i] === k).length;
    expect([count(s.validation, 0), count(s.validation, 1), count(s.validation, 2)]).toEqual([40, 8, 3]);
    expect(union(s.train, s.validation)).toHaveLength(200);
  });

  it('time: train < t1 <= validation < t2 <= test', () => {
    const time = [5, 1, 9, 3, 7, 2, 8];
    const s = timeSplit(time, 3, 8);
    expect(Array.from(s.train).map((i) => time[i])).toEqual([1, 2]);
    expect(Array.from(s.validation).map((i) => time[i]).sort()).toEqual([3, 5, 7]);
    expect(Array.from(s.test).map((i) => time[i]).sort()).toEqual([8, 9]);
    const iso = splitRows({ method: 'time', timeColumn: 'day', t1: '2024-01-03' }, { n: 4, time: [0, 1, 2, 3].map((d) => Date.UTC(2024, 0, 1 + d)) }, { validationFraction: 0.2, seed: 1 });
    expect([iso.train.length, iso.validation.length, iso.test.length]).toEqual([2, 2, 0]);
    expect(() => timeSplit(time, 100)).toThrow(/no validation rows/);
    expect(() => splitRows({ method: 'time', timeColumn: 'day', t1: 'not a date' }, { n: 1, time: [1] }, { validationFraction: 0.2, seed: 1 })).toThrow(/split.t1/);
  });

  it('k-fold: every row validates exactly once; stratified folds share the classes; too few rows is refused', () => {
    const rows = Uint32Array.from({ length: 23 }, (_, i) => i * 2);
    const folds = kFold(rows, 5, 7);
    expect(folds).toHaveLength(5);
    expect(union(...folds.map((f) => f.validation))).toEqual(Array.from(rows));
    for (const f of folds) expect(union(f.train, f.validation)).toEqual(Array.from(rows));
    const labels = Array.from({ length: 46 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    for (const f of kFold(rows, 3, 7, labels)) expect(Array.from(f.validation).filter((i) => labels[i] === 1).length).toBeGreaterThanOrEqual(3);
    expect(() => kFold(Uint32Array.from([1, 2]), 3, 1)).toThrow(/only 2 training rows/);
  });
});
