// The quality profile of a dataset version, built on the monitoring profile's statistics so that
// training and drift monitoring read the same numbers (stored as jsonb with the version).
import type { Table } from 'apache-arrow';
import { quantileOfSorted } from '../monitoring/binning.js';
import { buildCategoricalProfile, buildNumericProfile, type FeatureProfile } from '../monitoring/profile.js';
import type { ColumnType } from './types.js';

export const DATASET_PROFILE_FORMAT = 1;
/** Named quantiles reported for numeric and timestamp columns. */
export const PROFILE_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
/** Categories listed by name (top-k) per text or boolean column. */
export const TOP_K = 20;

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

/** Profiles every column of a version's table. */
export function profileTable(table: Table, types: Array<{ name: string; type: ColumnType }>): DatasetProfile {
  const columns = types.map(({ name, type }): ColumnProfile => {
    const vector = table.getChild(name);
    const n = table.numRows;
    const values: Array<number | string | boolean | null> = new Array(n);
    for (let i = 0; i < n; i++) values[i] = (vector?.get(i) ?? null) as number | string | boolean | null;
    const distinct = new Set<unknown>();
    let nullCount = 0;
    for (const v of values) {
      if (v === null) nullCount++;
      else distinct.add(v);
    }
    if (type === 'float64' || type === 'timestamp') {
      const stats = buildNumericProfile(values as Array<number | null>, undefined, name);
      const sorted = Float64Array.from(values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))).sort();
      const quantiles = sorted.length ? Object.fromEntries(PROFILE_QUANTILES.map((q) => [String(q), quantileOfSorted(sorted, q)])) : {};
      return { name, type, nullCount, distinctCount: distinct.size, quantiles, stats };
    }
    return { name, type, nullCount, distinctCount: distinct.size, stats: buildCategoricalProfile(values, { maxCategories: TOP_K }) };
  });
  return { formatVersion: DATASET_PROFILE_FORMAT, rowCount: table.numRows, columns };
}
