// Preprocessing steps fitted on training rows: imputation, standard scaling, one-hot and ordinal encoding.
// Parameters are kept as float32 values and applied with float32 rounding, exactly as the ONNX graph does.
import { ValidationError } from '../errors.js';
import type { FeatureColumn } from './frame.js';
import type { CategoricalEncoding, ImputeStrategy, Scaling } from './types.js';

/** A column of the float block (numeric features first, then ordinal-encoded ones): a numeric feature, or a categorical one as its category index. Applied as impute, then (x - offset) * multiplier. */
export interface FloatColumnStep {
  name: string;
  kind: 'numeric' | 'ordinal';
  /** Ordinal: category -> index; unknown and missing become NaN, then imputed. */
  categories?: string[];
  /** Value replacing NaN; null leaves NaN in place (learners that route missing values themselves). */
  impute: number | null;
  offset: number;
  multiplier: number;
}

export interface OneHotStep {
  name: string;
  /** One indicator column per category; unknown and missing rows are all zeros. */
  categories: string[];
}

export interface Preprocessor {
  floatColumns: FloatColumnStep[];
  oneHot: OneHotStep[];
  /** Width of the design matrix: float columns, then every one-hot block. */
  width: number;
}

export interface PreprocessOptions {
  impute: ImputeStrategy;
  imputeConstant: number;
  scaling: Scaling;
  categorical: CategoricalEncoding;
  maxCategories: number;
}

/** Categories by training frequency (ties by name), capped; then sorted by name so the layout reads naturally. */
function categoriesOf(values: Array<string | null>, rows: ArrayLike<number>, max: number): string[] {
  const counts = new Map<string, number>();
  for (let r = 0; r < rows.length; r++) {
    const v = values[rows[r]];
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const byFrequency = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return byFrequency
    .slice(0, max)
    .map(([c]) => c)
    .sort();
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** The float-block value of one cell before imputation (ordinal codes for categoricals; NaN = missing or unknown). */
function rawFloat(column: FeatureColumn, row: number, index?: Map<string, number>): number {
  if (column.kind === 'numeric') return Math.fround(column.values[row]);
  const v = column.values[row];
  const code = v === null ? undefined : index!.get(v);
  return code === undefined ? Number.NaN : code;
}

/** Fits every step on `rows` (indices into the columns). Deterministic. */
export function fitPreprocessor(columns: FeatureColumn[], rows: ArrayLike<number>, opts: PreprocessOptions): Preprocessor {
  if (!Number.isInteger(opts.maxCategories) || opts.maxCategories < 1) throw new ValidationError(`params.maxCategories must be a positive integer (got ${opts.maxCategories}).`);
  if (opts.impute === 'constant' && !Number.isFinite(opts.imputeConstant)) throw new ValidationError(`params.imputeConstant must be a finite number (got ${opts.imputeConstant}).`);
  const floatColumns: FloatColumnStep[] = [];
  const oneHot: OneHotStep[] = [];
  for (const column of columns) {
    if (column.kind === 'categorical' && opts.categorical === 'onehot') {
      oneHot.push({ name: column.name, categories: categoriesOf(column.values, rows, opts.maxCategories) });
      continue;
    }
    const categories = column.kind === 'categorical' ? categoriesOf(column.values, rows, opts.maxCategories) : undefined;
    const index = categories ? new Map(categories.map((c, k) => [c, k])) : undefined;
    const present: number[] = [];
    for (let r = 0; r < rows.length; r++) {
      const v = rawFloat(column, rows[r], index);
      if (!Number.isNaN(v)) present.push(v);
    }
    if (present.length === 0) throw new ValidationError(`Feature column ${JSON.stringify(column.name)} has no values in the training rows; drop it or change the split.`);
    let impute: number | null;
    if (opts.impute === 'none') impute = null;
    else if (opts.impute === 'constant') impute = opts.imputeConstant;
    else if (opts.impute === 'median') impute = median(present.slice().sort((a, b) => a - b));
    else impute = present.reduce((s, v) => s + v, 0) / present.length;
    const imp32 = impute === null ? null : Math.fround(impute);
    let offset = 0;
    let multiplier = 1;
    if (opts.scaling === 'standard') {
      // Moments of the column as the model sees it: after imputation (missing rows count at the imputed value).
      let sum = 0;
      let count = 0;
      for (let r = 0; r < rows.length; r++) {
        let v = rawFloat(column, rows[r], index);
        if (Number.isNaN(v)) {
          if (imp32 === null) continue;
          v = imp32;
        }
        sum += v;
        count++;
      }
      const mean = sum / count;
      let sq = 0;
      for (let r = 0; r < rows.length; r++) {
        let v = rawFloat(column, rows[r], index);
        if (Number.isNaN(v)) {
          if (imp32 === null) continue;
          v = imp32;
        }
        sq += (v - mean) ** 2;
      }
      const std = Math.sqrt(sq / count);
      offset = Math.fround(mean);
      multiplier = Math.fround(std > 0 ? 1 / std : 1);
    }
    floatColumns.push({ name: column.name, kind: column.kind === 'numeric' ? 'numeric' : 'ordinal', categories, impute: imp32, offset, multiplier });
  }
  // Numeric columns first, then ordinal codes: the graph concatenates its float input with the encoded columns in that order.
  floatColumns.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'numeric' ? -1 : 1));
  const width = floatColumns.length + oneHot.reduce((s, o) => s + o.categories.length, 0);
  return { floatColumns, oneHot, width };
}

/**
 * The design matrix (row-major rows.length x width) for `rows`, computed as the ONNX graph computes it:
 * float32 inputs, float32 impute, (x - offset) * multiplier rounded to float32, then 0/1 indicators.
 */
export function transform(p: Preprocessor, columns: FeatureColumn[], rows: ArrayLike<number>): Float64Array {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const n = rows.length;
  const out = new Float64Array(n * p.width);
  p.floatColumns.forEach((step, j) => {
    const column = byName.get(step.name)!;
    const index = step.categories ? new Map(step.categories.map((c, k) => [c, k])) : undefined;
    for (let r = 0; r < n; r++) {
      let v = rawFloat(column, rows[r], index);
      if (Number.isNaN(v) && step.impute !== null) v = step.impute;
      out[r * p.width + j] = Math.fround(Math.fround(v - step.offset) * step.multiplier);
    }
  });
  let base = p.floatColumns.length;
  for (const step of p.oneHot) {
    const column = byName.get(step.name)!;
    if (column.kind !== 'categorical') throw new Error(`one-hot step ${step.name} over a numeric column`);
    const index = new Map(step.categories.map((c, k) => [c, k]));
    for (let r = 0; r < n; r++) {
      const v = column.values[rows[r]];
      const k = v === null ? undefined : index.get(v);
      if (k !== undefined) out[r * p.width + base + k] = 1;
    }
    base += step.categories.length;
  }
  return out;
}

/** Names of the design-matrix columns (one-hot columns as `name=category`), for reports. */
export function designColumnNames(p: Preprocessor): string[] {
  return [...p.floatColumns.map((c) => c.name), ...p.oneHot.flatMap((o) => o.categories.map((c) => `${o.name}=${c}`))];
}
