// Row splits: random, stratified, time-based (train < t1 <= validation < t2 <= test) and k-fold. Deterministic for a seed.
import { ValidationError } from '../errors.js';
import { shuffledIndices } from '../util/random.js';
import { parseTime } from './frame.js';
import type { SplitSpec } from './types.js';

export interface Split {
  /** Row indices, ascending. */
  train: Uint32Array;
  validation: Uint32Array;
  /** Empty unless a test fraction or a time t2 was given. */
  test: Uint32Array;
}

const ascending = (rows: number[]) => Uint32Array.from(rows).sort();

function checkFractions(validationFraction: number, testFraction: number): void {
  if (!(validationFraction > 0 && validationFraction < 1)) throw new ValidationError(`split.validationFraction must be between 0 and 1 (got ${validationFraction}).`);
  if (!(testFraction >= 0 && testFraction < 1)) throw new ValidationError(`split.testFraction must be in [0, 1) (got ${testFraction}).`);
  if (!(validationFraction + testFraction < 1)) throw new ValidationError(`split.validationFraction + split.testFraction must leave rows to train on (got ${validationFraction + testFraction}).`);
}

function checkSizes(split: Split, n: number, what: string): Split {
  if (split.train.length < 2) throw new ValidationError(`The ${what} split leaves ${split.train.length} training rows of ${n}; at least 2 are needed.`);
  if (split.validation.length < 1) throw new ValidationError(`The ${what} split leaves no validation rows of ${n}; widen the validation part.`);
  return split;
}

/** A seeded shuffle cut into validation, test and train parts. */
export function randomSplit(n: number, validationFraction: number, testFraction: number, seed: number): Split {
  checkFractions(validationFraction, testFraction);
  const order = shuffledIndices(n, seed);
  const nv = Math.max(1, Math.round(n * validationFraction));
  const nt = testFraction > 0 ? Math.max(1, Math.round(n * testFraction)) : 0;
  return checkSizes(
    { validation: ascending([...order.subarray(0, nv)]), test: ascending([...order.subarray(nv, nv + nt)]), train: ascending([...order.subarray(nv + nt)]) },
    n,
    'random',
  );
}

/** Like randomSplit, but each class keeps its share in every part (labels are class indices). */
export function stratifiedSplit(labels: ArrayLike<number>, validationFraction: number, testFraction: number, seed: number): Split {
  checkFractions(validationFraction, testFraction);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  [...byClass.keys()].sort((a, b) => a - b).forEach((k, c) => {
    const rows = byClass.get(k)!;
    const order = shuffledIndices(rows.length, seed + 7919 * (c + 1));
    const nv = Math.round(rows.length * validationFraction);
    const nt = Math.round(rows.length * testFraction);
    order.forEach((o, r) => (r < nv ? validation : r < nv + nt ? test : train).push(rows[o]));
  });
  return checkSizes({ train: ascending(train), validation: ascending(validation), test: ascending(test) }, labels.length, 'stratified');
}

/** train: time < t1; validation: t1 <= time < t2; test: time >= t2 (no test part without t2). */
export function timeSplit(time: ArrayLike<number>, t1: number, t2 = Infinity): Split {
  if (!(t1 < t2)) throw new ValidationError(`split.t1 must come before split.t2.`);
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < time.length; i++) (time[i] < t1 ? train : time[i] < t2 ? validation : test).push(i);
  return checkSizes({ train: ascending(train), validation: ascending(validation), test: ascending(test) }, time.length, 'time');
}

/** Applies a split spec to a frame's rows. */
export function splitRows(spec: SplitSpec | undefined, rows: { n: number; labels?: ArrayLike<number>; time?: ArrayLike<number> }, defaults: { validationFraction: number; seed: number }): Split {
  const s = spec ?? { method: 'random' as const };
  if (s.method === 'time') {
    if (!rows.time) throw new ValidationError('A time split needs split.timeColumn.');
    return timeSplit(rows.time, parseTime(s.t1, 'split.t1'), s.t2 === undefined ? Infinity : parseTime(s.t2, 'split.t2'));
  }
  const vf = s.validationFraction ?? defaults.validationFraction;
  const tf = s.testFraction ?? 0;
  if (s.method === 'stratified') {
    if (!rows.labels) throw new ValidationError('A stratified split needs a classification target; use a random or time split for regression.');
    return stratifiedSplit(rows.labels, vf, tf, defaults.seed);
  }
  if (s.method === 'random') return randomSplit(rows.n, vf, tf, defaults.seed);
  throw new ValidationError(`split.method must be random, stratified or time (got ${JSON.stringify((s as { method: unknown }).method)}).`);
}

/**
 * k folds over `rows` (indices into the frame): fold i validates on every k-th row of a seeded shuffle
 * (stratified by class when labels are given) and trains on the rest.
 */
export function kFold(rows: ArrayLike<number>, k: number, seed: number, labels?: ArrayLike<number>): Array<{ train: Uint32Array; validation: Uint32Array }> {
  if (!Number.isInteger(k) || k < 2) throw new ValidationError(`cvFolds must be an integer >= 2 (got ${k}).`);
  if (rows.length < k) throw new ValidationError(`cvFolds is ${k} but there are only ${rows.length} training rows; use fewer folds.`);
  const order = shuffledIndices(rows.length, seed);
  let sequence = Array.from(order, (o) => rows[o]);
  // Stratify: deal each class's rows round-robin so every fold gets its share.
  if (labels) sequence = sequence.slice().sort((a, b) => labels[a] - labels[b] || 0);
  const folds: number[][] = Array.from({ length: k }, () => []);
  sequence.forEach((row, i) => folds[i % k].push(row));
  return folds.map((validation, i) => ({
    validation: ascending(validation),
    train: ascending(folds.flatMap((f, j) => (j === i ? [] : f))),
  }));
}
