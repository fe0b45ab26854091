// The quality profile of a dataset version, built on the monitoring profile's statistics so that
// training and drift monitoring read the same numbers (stored as jsonb with the version).
import type { RecordBatch, Table } from 'apache-arrow';
import { quantileOfSorted } from '../monitoring/binning.js';
import { buildCategoricalProfile, buildNumericProfile, type FeatureProfile } from '../monitoring/profile.js';
import { columnReader } from './column-reader.js';
import type { ColumnType } from './types.js';

export const DATASET_PROFILE_FORMAT = 1;
/** Named quantiles reported for numeric and timestamp columns. */
export const PROFILE_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
/** Categories listed by name (top-k) per text or boolean column. */
export const TOP_K = 20;
/** Bytes of numeric values one pass over the batches may hold (8 per row and column). */
const NUMERIC_PASS_BYTES = 128 * 2 ** 20;
/** Text or boolean columns counted per pass (each holds one entry per distinct value). */
const CATEGORICAL_PER_PASS = 2;

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  nullCount: number;
  distinctCount: number;
  /** Quantiles by level ("0.5": median); timestamps in ms. Absent for text and booleans. */
  quantiles?: Record<string, number>;
  /**
   * The monitoring profile of the column: numeric (count, min, max, mean, std, histogram as
   * binEdges/binCounts, quantile sketch) or categorical (top-k categoryCounts, otherCount).
   */
  stats: FeatureProfile;
}

export interface DatasetProfile {
  formatVersion: typeof DATASET_PROFILE_FORMAT;
  rowCount: number;
  columns: ColumnProfile[];
}

type ColumnSpec = { name: string; type: ColumnType };
const isNumeric = (type: ColumnType) => type === 'float64' || type === 'timestamp';

/** Profiles every column of a version's table. */
export function profileTable(table: Table, types: ColumnSpec[]): Promise<DatasetProfile> {
  return profileBatches(
    async function* () {
      yield* table.batches;
    },
    types,
    table.numRows,
  );
}

/**
 * Profiles a version read as record batches, a few columns per pass so memory holds at most
 * NUMERIC_PASS_BYTES of numbers (exact quantiles need every value) plus the distinct values of
 * CATEGORICAL_PER_PASS text columns. `read` is called once per pass and must yield `rowCount` rows.
 */
export async function profileBatches(read: () => AsyncIterable<RecordBatch>, types: ColumnSpec[], rowCount: number): Promise<DatasetProfile> {
  const profiles = new Map<string, ColumnProfile>();
  const numeric = types.filter((t) => isNumeric(t.type));
  const categorical = types.filter((t) => !isNumeric(t.type));
  const perPass = Math.max(1, Math.floor(NUMERIC_PASS_BYTES / (8 * Math.max(rowCount, 1))));
  while (numeric.length + categorical.length > 0) {
    const numbers = numeric.splice(0, perPass).map((spec) => ({ spec, values: new Float64Array(rowCount), present: 0, nulls: 0 }));
    const categories = categorical.splice(0, CATEGORICAL_PER_PASS).map((spec) => ({ spec, counts: new Map<string | boolean, number>(), nulls: 0 }));
    let rows = 0;
    for await (const batch of read()) {
      rows += batch.numRows;
      if (rows > rowCount) throw new Error(`profileBatches: the batches hold more than the ${rowCount} rows announced`);
      for (const col of numbers) {
        const get = columnReader(batch.getChild(col.spec.name));
        for (let i = 0; i < batch.numRows; i++) {
          const v = get(i) as number | null | undefined;
          if (v === null || v === undefined) col.nulls++;
          else col.values[col.present++] = Number(v);
        }
      }
      for (const col of categories) {
        const get = columnReader(batch.getChild(col.spec.name));
        for (let i = 0; i < batch.numRows; i++) {
          const v = get(i) as string | boolean | null | undefined;
          if (v === null || v === undefined) col.nulls++;
          else col.counts.set(v, (col.counts.get(v) ?? 0) + 1);
        }
      }
    }
    for (const col of numbers) profiles.set(col.spec.name, numericColumn(col.spec, col.values.subarray(0, col.present), col.nulls));
    for (const col of categories) profiles.set(col.spec.name, categoricalColumn(col.spec, col.counts, col.nulls, rowCount));
  }
  return { formatVersion: DATASET_PROFILE_FORMAT, rowCount, columns: types.map((t) => profiles.get(t.name)!) };
}

/** `values` are the column's non-null values (NaN and infinities included); sorted in place. */
function numericColumn({ name, type }: ColumnSpec, values: Float64Array, nullCount: number): ColumnProfile {
  // Sorted first: the monitoring profile sorts its own copy, which then takes about half as long, and its
  // result depends only on the values, not their order.
  values.sort();
  // The monitoring profile counts nulls and non-finite values as missing; it sees the non-finite ones itself.
  const stats = buildNumericProfile(values, undefined, name);
  stats.missingCount += nullCount;
  let distinctCount = 0;
  let sawNaN = false;
  let firstFinite = values.length;
  let endFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) sawNaN = true;
    else if (i === 0 || v !== values[i - 1]) distinctCount++;
    if (Number.isFinite(v)) {
      firstFinite = Math.min(firstFinite, i);
      endFinite = i + 1;
    }
  }
  if (sawNaN) distinctCount++;
  const finite = values.subarray(firstFinite, Math.max(firstFinite, endFinite));
  const quantiles = finite.length ? Object.fromEntries(PROFILE_QUANTILES.map((q) => [String(q), quantileOfSorted(finite, q)])) : {};
  return { name, type, nullCount, distinctCount, quantiles, stats };
}

function categoricalColumn({ name, type }: ColumnSpec, counts: Map<string | boolean, number>, nullCount: number, rows: number): ColumnProfile {
  // buildCategoricalProfile takes one value per row; repeating each distinct value keeps its exact
  // ranking while holding one pointer per row instead of one decoded string per row.
  const values: Array<string | boolean | null> = new Array(rows);
  let at = 0;
  for (const [value, n] of counts) values.fill(value, at, (at += n));
  values.fill(null, at);
  return { name, type, nullCount, distinctCount: counts.size, stats: buildCategoricalProfile(values, { maxCategories: TOP_K }) };
}
