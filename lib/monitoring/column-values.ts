// What counts as missing in a column, decided once for the training profile and the live window alike.

import { ValidationError } from '../errors.js';

/** A raw column as it comes from a dataset or the prediction log. */
export type RawValue = number | string | boolean | null | undefined;
export type RawColumn = ArrayLike<RawValue>;

export interface SplitNumbers {
  present: Float64Array;
  missingCount: number;
}

/**
 * Present numbers and how many are missing. null, undefined, NaN and ±Infinity are missing: none
 * of them has a place in a bin or a quantile, and JSON (the profile's home) cannot hold them.
 */
export function splitNumbers(values: RawColumn, column: string): SplitNumbers {
  const present = new Float64Array(values.length);
  let presentCount = 0;
  let missingCount = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      missingCount++;
    } else if (typeof value !== 'number') {
      throw new ValidationError(`column "${column}" is numeric but row ${i} holds ${typeof value} ${JSON.stringify(value)}; convert it to a number or declare the column categorical`);
    } else if (Number.isFinite(value)) {
      present[presentCount++] = value;
    } else {
      missingCount++;
    }
  }
  return { present: present.subarray(0, presentCount), missingCount };
}

/**
 * The category a value names, or null when missing (null or undefined). Numbers and booleans become
 * their string form, which is also what SQL's `->>` yields from jsonb; '' is a category, not missing.
 */
export function categoryKey(value: RawValue): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

export interface CategoryCounts {
  counts: Map<string, number>;
  missingCount: number;
}

/** Counts per category plus the missing count. */
export function countCategories(values: RawColumn): CategoryCounts {
  const counts = new Map<string, number>();
  let missingCount = 0;
  for (let i = 0; i < values.length; i++) {
    const key = categoryKey(values[i]);
    if (key === null) missingCount++;
    else counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { counts, missingCount };
}

/** Own-property lookup, so categories named "constructor" or "__proto__" read as plain keys. */
export function countOf(counts: Readonly<Record<string, number>>, key: string): number {
  return Object.hasOwn(counts, key) ? counts[key] : 0;
}
