// Turns a dataset's Arrow table into a numeric design matrix and binary labels for the learners.
import { DataType, type Table } from 'apache-arrow';
import { ValidationError } from '../errors.js';

export interface TrainingFrame {
  features: string[];
  /** Row-major n x f; NaN marks a missing value. */
  X: Float64Array;
  /** Class index per row (0 or 1), in `classes` order. */
  y: Uint8Array;
  classes: [string | number, string | number];
  n: number;
}

/** Every numeric column except the target, in table order. */
export function defaultFeatures(table: Table, target: string): string[] {
  return table.schema.fields.filter((f) => f.name !== target && DataType.isFloat(f.type)).map((f) => f.name);
}

export function buildFrame(table: Table, target: string, requested?: string[]): TrainingFrame {
  const names = table.schema.fields.map((f) => f.name);
  if (!names.includes(target)) {
    throw new ValidationError(`Target column ${JSON.stringify(target)} is not in the dataset; its columns are ${names.join(', ')}.`);
  }
  const features = requested ?? defaultFeatures(table, target);
  if (features.length === 0) throw new ValidationError(`The dataset has no numeric columns besides the target ${JSON.stringify(target)} to train on.`);
  for (const f of features) {
    const field = table.schema.fields.find((x) => x.name === f);
    if (!field) throw new ValidationError(`Feature column ${JSON.stringify(f)} is not in the dataset; its columns are ${names.join(', ')}.`);
    if (f === target) throw new ValidationError(`The target ${JSON.stringify(target)} cannot also be a feature.`);
    if (!DataType.isFloat(field.type)) {
      throw new ValidationError(`Feature column ${JSON.stringify(f)} is ${field.type}; the logistic regression learner takes numeric features only.`);
    }
  }

  // get() honours the validity bitmap; toArray() would turn nulls into zeros.
  const targetVector = table.getChild(target)!;
  const keptRows: number[] = [];
  const distinct = new Set<string | number>();
  for (let i = 0; i < table.numRows; i++) {
    const v = targetVector.get(i) as string | number | null;
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) continue;
    keptRows.push(i);
    distinct.add(v);
  }
  if (distinct.size !== 2) {
    throw new ValidationError(
      `Target ${JSON.stringify(target)} must have exactly two distinct values for binary classification; found ${distinct.size}` +
        (distinct.size <= 10 ? ` (${[...distinct].map((v) => JSON.stringify(v)).join(', ')})` : '') + '.',
    );
  }
  const classes = [...distinct].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)))) as [
    string | number,
    string | number,
  ];
  const n = keptRows.length;
  const f = features.length;
  const X = new Float64Array(n * f);
  const y = new Uint8Array(n);
  const cols = features.map((name) => table.getChild(name)!);
  for (let r = 0; r < n; r++) {
    const i = keptRows[r];
    y[r] = targetVector.get(i) === classes[1] ? 1 : 0;
    for (let j = 0; j < f; j++) {
      const v = cols[j].get(i) as number | null;
      X[r * f + j] = v === null ? Number.NaN : v;
    }
  }
  return { features, X, y, classes, n };
}
