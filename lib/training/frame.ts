// Turns a dataset's Arrow table into typed feature columns and labels for the learners, rejecting unusable input by name.
import { DataType, type Table } from 'apache-arrow';
import { ValidationError } from '../errors.js';

export type FeatureColumn =
  | { name: string; kind: 'numeric'; /** NaN marks a missing value. */ values: Float64Array }
  | { name: string; kind: 'categorical'; /** null marks a missing value. */ values: Array<string | null> };

export type Task = 'classification' | 'regression';

export interface TrainingFrame {
  n: number;
  columns: FeatureColumn[];
  task: Task;
  /** Classification: class index per row (into `classes`); regression: the target value. */
  y: Float64Array;
  /** Class labels, sorted; empty for regression. */
  classes: Array<string | number>;
  /** Time split column as epoch milliseconds (or plain numbers), when asked for. */
  time?: Float64Array;
}

/** Most classes a classification target may have; more usually means the target is numeric. */
export const MAX_CLASSES = 100;

/** Every float column except the target, in table order. */
export function defaultFeatures(table: Table, target: string, exclude: string[] = []): string[] {
  return table.schema.fields.filter((f) => f.name !== target && !exclude.includes(f.name) && DataType.isFloat(f.type)).map((f) => f.name);
}

/** A time value from a number or an ISO-8601 string; ValidationError names `what` when unparseable. */
export function parseTime(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new ValidationError(`${what} must be a number or an ISO-8601 date (got ${JSON.stringify(v)}).`);
}

function sortLabels(values: Iterable<string | number>): Array<string | number> {
  return [...values].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

export interface FrameOptions {
  target: string;
  task: Task;
  features?: string[];
  timeColumn?: string;
}

/** Builds the frame; rows with a missing target are dropped. Column and row problems are ValidationErrors naming them. */
export function buildFrame(table: Table, opts: FrameOptions): TrainingFrame {
  const { target, task } = opts;
  const names = table.schema.fields.map((f) => f.name);
  const fieldOf = (name: string) => table.schema.fields.find((x) => x.name === name);
  if (!names.includes(target)) {
    throw new ValidationError(`Target column ${JSON.stringify(target)} is not in the dataset; its columns are ${names.join(', ')}.`);
  }
  const features = opts.features ?? defaultFeatures(table, target, opts.timeColumn ? [opts.timeColumn] : []);
  if (features.length === 0) throw new ValidationError(`The dataset has no numeric columns besides the target ${JSON.stringify(target)} to train on; name features explicitly.`);
  for (const f of features) {
    const field = fieldOf(f);
    if (!field) throw new ValidationError(`Feature column ${JSON.stringify(f)} is not in the dataset; its columns are ${names.join(', ')}.`);
    if (f === target) throw new ValidationError(`The target ${JSON.stringify(target)} cannot also be a feature.`);
    if (!DataType.isFloat(field.type) && !DataType.isUtf8(field.type) && !DataType.isInt(field.type)) {
      throw new ValidationError(`Feature column ${JSON.stringify(f)} is ${field.type}; features must be numeric or utf8 (categorical).`);
    }
  }

  const targetField = fieldOf(target)!;
  const targetVector = table.getChild(target)!;
  const kept: number[] = [];
  const distinct = new Set<string | number>();
  for (let i = 0; i < table.numRows; i++) {
    const v = targetVector.get(i) as string | number | bigint | null;
    if (v === null) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new ValidationError(`Target ${JSON.stringify(target)} holds ${v} at row ${i}; targets must be finite (leave the cell empty to drop the row).`);
    }
    kept.push(i);
    if (task === 'classification') {
      distinct.add(typeof v === 'bigint' ? Number(v) : v);
      if (distinct.size > MAX_CLASSES) {
        throw new ValidationError(`Target ${JSON.stringify(target)} has more than ${MAX_CLASSES} distinct values; use a regression learner (ridge) for a numeric target.`);
      }
    }
  }
  const n = kept.length;
  if (n === 0) throw new ValidationError(`Target ${JSON.stringify(target)} has no values; every row is missing it.`);
  let classes: Array<string | number> = [];
  const y = new Float64Array(n);
  if (task === 'classification') {
    if (distinct.size < 2) {
      throw new ValidationError(`Target ${JSON.stringify(target)} has a single class (${[...distinct].map((v) => JSON.stringify(v)).join(', ')}); classification needs at least two.`);
    }
    classes = sortLabels(distinct);
    const index = new Map(classes.map((c, k) => [c, k]));
    kept.forEach((i, r) => {
      const v = targetVector.get(i) as string | number | bigint;
      y[r] = index.get(typeof v === 'bigint' ? Number(v) : v)!;
    });
  } else {
    if (!DataType.isFloat(targetField.type) && !DataType.isInt(targetField.type)) {
      throw new ValidationError(`Target ${JSON.stringify(target)} is ${targetField.type}; regression needs a numeric target.`);
    }
    kept.forEach((i, r) => {
      y[r] = Number(targetVector.get(i));
    });
  }

  const columns: FeatureColumn[] = features.map((name) => {
    const field = fieldOf(name)!;
    const vector = table.getChild(name)!;
    if (DataType.isUtf8(field.type)) {
      const values = kept.map((i) => vector.get(i) as string | null);
      const seen = new Set(values.filter((v) => v !== null));
      if (seen.size === 0) throw new ValidationError(`Feature column ${JSON.stringify(name)} is empty (every value is missing); drop it from features.`);
      if (seen.size === 1 && n > 1) throw new ValidationError(`Feature column ${JSON.stringify(name)} is constant (${JSON.stringify([...seen][0])}); it carries no information, drop it from features.`);
      return { name, kind: 'categorical' as const, values };
    }
    const values = new Float64Array(n);
    let first = Number.NaN;
    let varies = false;
    let present = 0;
    kept.forEach((i, r) => {
      const raw = vector.get(i) as number | bigint | null;
      if (raw === null) {
        values[r] = Number.NaN;
        return;
      }
      const v = Number(raw);
      if (!Number.isFinite(v)) {
        throw new ValidationError(`Feature column ${JSON.stringify(name)} holds ${v} at row ${i}; features must be finite numbers (leave the cell empty for a missing value).`);
      }
      values[r] = v;
      if (present++ === 0) first = v;
      else if (v !== first) varies = true;
    });
    if (present === 0) throw new ValidationError(`Feature column ${JSON.stringify(name)} is empty (every value is missing); drop it from features.`);
    if (!varies && n > 1) throw new ValidationError(`Feature column ${JSON.stringify(name)} is constant (${first}); it carries no information, drop it from features.`);
    return { name, kind: 'numeric' as const, values };
  });

  let time: Float64Array | undefined;
  if (opts.timeColumn) {
    const field = fieldOf(opts.timeColumn);
    if (!field) throw new ValidationError(`Time column ${JSON.stringify(opts.timeColumn)} is not in the dataset; its columns are ${names.join(', ')}.`);
    const vector = table.getChild(opts.timeColumn)!;
    time = Float64Array.from(kept, (i) => {
      const v = vector.get(i) as unknown;
      if (v === null) throw new ValidationError(`Time column ${JSON.stringify(opts.timeColumn)} is missing at row ${i}; a time split needs a time on every row.`);
      return parseTime(typeof v === 'bigint' ? Number(v) : v, `Time column ${JSON.stringify(opts.timeColumn)} at row ${i}`);
    });
  }
  return { n, columns, task, y, classes, time };
}
