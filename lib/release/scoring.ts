// Scoring an evaluation set through a model's signature (float and string inputs), robustness probe rows,
// single-row latency and permutation importance, for the release gates and report.
import type ort from 'onnxruntime-node';
import type { Table } from 'apache-arrow';
import { ValidationError } from '../errors.js';
import { feedsFromColumns, type Session } from '../onnx/session.js';
import type { ModelSignature } from '../training/types.js';
import { seededRandom } from '../util/random.js';
import { PROBE_EXTREME, PROBE_MISSING, PROBE_UNSEEN } from './gates.js';

/** Feature values by column: numbers (NaN = missing) for float features, strings (null = missing) for string ones. */
export type FeatureColumns = Record<string, Float64Array | Array<string | null>>;

/** A category no training set contains, for the unseen-categories probe. */
export const UNSEEN_CATEGORY = '__mlcycle_unseen_category__';

/** Reads the signature's feature columns from an evaluation table; a missing column is a ValidationError. */
export function featureColumns(table: Table, signature: ModelSignature): FeatureColumns {
  const out: FeatureColumns = {};
  for (const f of signature.features) {
    const col = table.getChild(f.name);
    if (!col) {
      const names = table.schema.fields.map((x) => x.name).join(', ');
      throw new ValidationError(`The evaluation set has no column ${JSON.stringify(f.name)} the model needs; its columns are ${names}.`);
    }
    if (f.type === 'string') {
      out[f.name] = Array.from({ length: table.numRows }, (_, i) => {
        const v = col.get(i) as unknown;
        return v === null || v === undefined ? null : String(v);
      });
    } else {
      const values = new Float64Array(table.numRows);
      for (let i = 0; i < table.numRows; i++) {
        const v = col.get(i) as unknown;
        values[i] = v === null || v === undefined ? Number.NaN : Number(v);
      }
      out[f.name] = values;
    }
  }
  return out;
}

export function rowCount(columns: FeatureColumns): number {
  const first = Object.values(columns)[0];
  return first ? first.length : 0;
}

/** Rows `rows` of every column, in that order. */
export function takeRows(columns: FeatureColumns, rows: ArrayLike<number>): FeatureColumns {
  const out: FeatureColumns = {};
  for (const [name, values] of Object.entries(columns)) {
    if (values instanceof Float64Array) out[name] = Float64Array.from(rows, (i) => values[i]);
    else out[name] = Array.from(rows, (i) => values[i]);
  }
  return out;
}

/** Concatenates column sets with the same columns. */
export function concatRows(parts: FeatureColumns[]): FeatureColumns {
  const out: FeatureColumns = {};
  for (const name of Object.keys(parts[0] ?? {})) {
    const first = parts[0][name];
    if (first instanceof Float64Array) {
      const all = new Float64Array(parts.reduce((n, p) => n + p[name].length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p[name] as Float64Array, at);
        at += p[name].length;
      }
      out[name] = all;
    } else {
      out[name] = parts.flatMap((p) => p[name] as Array<string | null>);
    }
  }
  return out;
}

/** The ONNX input tensors for rows [start, end) of the columns (lib/onnx packs them per the signature). */
export function buildFeeds(signature: ModelSignature, columns: FeatureColumns, start: number, end: number): Record<string, ort.Tensor> {
  const slice: FeatureColumns = {};
  for (const [name, values] of Object.entries(columns)) slice[name] = values instanceof Float64Array ? values.subarray(start, end) : values.slice(start, end);
  return feedsFromColumns(signature, slice, end - start);
}

/** Width of one output row: the number of classes, or 1 for a regressor. */
export function outputWidth(signature: ModelSignature): number {
  return signature.task === 'regression' ? 1 : signature.classes.length;
}

/**
 * Scores every row in batches and returns the probabilities output, row-major n x classes
 * (a regressor's n predictions). `onBatch` runs after each batch (heartbeats).
 */
export async function scoreColumns(
  session: Session,
  signature: ModelSignature,
  columns: FeatureColumns,
  options: { batchSize?: number; onBatch?: (done: number, total: number) => void } = {},
): Promise<Float64Array> {
  const n = rowCount(columns);
  const width = outputWidth(signature);
  const out = new Float64Array(n * width);
  const batch = options.batchSize ?? 2048;
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    const result = await session.run(buildFeeds(signature, columns, start, end));
    const data = result[signature.outputs.probabilities].data as ArrayLike<number>;
    if (data.length !== (end - start) * width) {
      throw new ValidationError(`The model returned ${data.length} values for ${end - start} rows; its signature promises ${width} per row.`);
    }
    for (let i = 0; i < data.length; i++) out[start * width + i] = Number(data[i]);
    options.onBatch?.(end, n);
  }
  return out;
}

/**
 * Edge-case rows built from up to `baseRows` evaluation rows:
 * - missing_values: each feature missing alone, and every feature missing at once;
 * - extreme_values: each float feature at +/- 1e6 times its largest observed magnitude (at least 1e6);
 * - unseen_categories: each string feature set to a category no training set has (empty without string features).
 */
export function robustnessProbeRows(signature: ModelSignature, columns: FeatureColumns, baseRows = 20): Record<string, FeatureColumns> {
  const n = Math.min(baseRows, rowCount(columns));
  const base = takeRows(columns, Array.from({ length: n }, (_, i) => i));
  const variant = (edit: (cols: FeatureColumns) => void): FeatureColumns => {
    const copy = takeRows(base, Array.from({ length: n }, (_, i) => i));
    edit(copy);
    return copy;
  };
  const setAll = (cols: FeatureColumns, name: string, value: number | string | null) => {
    const col = cols[name];
    if (col instanceof Float64Array) col.fill(typeof value === 'number' ? value : Number.NaN);
    else col.fill(typeof value === 'string' ? value : null);
  };
  const missing: FeatureColumns[] = signature.features.map((f) => variant((c) => setAll(c, f.name, null)));
  missing.push(variant((c) => signature.features.forEach((f) => setAll(c, f.name, null))));

  const extreme: FeatureColumns[] = [];
  for (const f of signature.features) {
    const col = columns[f.name];
    if (!(col instanceof Float64Array)) continue;
    let largest = 1;
    for (const v of col) if (Number.isFinite(v)) largest = Math.max(largest, Math.abs(v));
    const big = Math.min(largest * 1e6, 1e30);
    extreme.push(variant((c) => setAll(c, f.name, big)), variant((c) => setAll(c, f.name, -big)));
  }
  const unseen: FeatureColumns[] = signature.features
    .filter((f) => f.type === 'string')
    .map((f) => variant((c) => setAll(c, f.name, UNSEEN_CATEGORY)));

  const probes: Record<string, FeatureColumns> = {};
  probes[PROBE_MISSING] = concatRows(missing);
  if (extreme.length > 0) probes[PROBE_EXTREME] = concatRows(extreme);
  if (unseen.length > 0) probes[PROBE_UNSEEN] = concatRows(unseen);
  return probes;
}

/**
 * Times `samples` single-row `session.run` calls (after a warm-up) over the first rows,
 * with the input tensors built beforehand: the number is onnxruntime's, not the feed building's.
 */
export async function singleRowLatencies(session: Session, signature: ModelSignature, columns: FeatureColumns, samples: number, onProgress?: () => void): Promise<number[]> {
  const n = rowCount(columns);
  if (n === 0) return [];
  const feeds = Array.from({ length: Math.min(n, 64) }, (_, i) => buildFeeds(signature, columns, i, i + 1));
  for (let i = 0; i < 10; i++) await session.run(feeds[i % feeds.length]);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await session.run(feeds[i % feeds.length]);
    latencies.push(performance.now() - t0);
    if (i % 100 === 99) onProgress?.();
  }
  return latencies;
}

/**
 * Permutation importance: how much `loss` (lower is better) grows when one feature's values are
 * shuffled across rows (seeded, so the same inputs give the same numbers).
 */
export async function permutationImportance(
  session: Session,
  signature: ModelSignature,
  columns: FeatureColumns,
  loss: (outputs: Float64Array) => number,
  options: { seed?: number; onFeature?: () => void } = {},
): Promise<Array<{ feature: string; importance: number }>> {
  const base = loss(await scoreColumns(session, signature, columns));
  const n = rowCount(columns);
  const out: Array<{ feature: string; importance: number }> = [];
  for (const f of signature.features) {
    const rand = seededRandom((options.seed ?? 0) + out.length);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const shuffled = { ...columns, [f.name]: takeRows({ x: columns[f.name] }, order).x };
    const value = loss(await scoreColumns(session, signature, shuffled));
    out.push({ feature: f.name, importance: value - base });
    options.onFeature?.();
  }
  return out;
}
