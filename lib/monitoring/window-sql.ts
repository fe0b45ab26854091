// A window of the prediction log aggregated IN Postgres against a training profile: width_bucket over the
// profile's bin edges, percentile_cont at its sketch levels, GROUP BY for categories, and null counts.
// Only the aggregates (a few hundred numbers per column) come back to Node.
import type { Db } from '../storage/db.js';
import { withTransaction } from '../storage/db.js';
import { quantileLevels } from './binning.js';
import { PREDICTED_CLASS_COLUMN, PREDICTION_COLUMN, type FeatureProfile, type TrainingProfile } from './profile.js';
import type { FeatureWindowAggregate, WindowAggregates } from './window.js';

export interface WindowSpec {
  modelName: string;
  /** Rows of one version: the profile belongs to that version. */
  version: number;
  start: Date;
  end: Date;
}

interface Column {
  role: 'feature' | 'output';
  name: string;
  profile: FeatureProfile;
}

interface Statement {
  text: string;
  values: unknown[];
}

const PROBABILITY_PREFIX = 'probability:';

/**
 * Quantile sketches are taken over at most about this many rows of a larger window: a deterministic
 * sample by prediction id (hash), whose quantile error (~1/sqrt(n) = 0.3%) is far below the sketch's own
 * 1% resolution. Bin counts, missing counts and categories always use every row.
 */
export const SKETCH_SAMPLE_ROWS = 100_000;

const WINDOW = 'model_name = $1 and version = $2 and at >= $3 and at < $4';

function columnsOf(profile: TrainingProfile): Column[] {
  return [
    ...Object.entries(profile.features).map(([name, p]) => ({ role: 'feature' as const, name, profile: p })),
    ...Object.entries(profile.output?.columns ?? {}).map(([name, p]) => ({ role: 'output' as const, name, profile: p })),
  ];
}

/** Parameters of a statement over the window: `$1`..`$4` are the window, `param` adds the rest. */
function parameters(spec: WindowSpec): { values: unknown[]; param: (v: unknown) => string } {
  const values: unknown[] = [spec.modelName, spec.version, spec.start, spec.end];
  return {
    values,
    param: (v) => {
      values.push(v);
      return `$${values.length}`;
    },
  };
}

/** The jsonb value of a column of the log. */
function jsonOf(c: Column, param: (v: unknown) => string): string {
  if (c.role === 'feature') return `inputs -> ${param(c.name)}::text`;
  if (c.name === PREDICTED_CLASS_COLUMN || c.name === PREDICTION_COLUMN) return `outputs -> 'label'`;
  if (c.name.startsWith(PROBABILITY_PREFIX)) return `outputs -> 'probabilities' -> ${param(c.name.slice(PROBABILITY_PREFIX.length))}::text`;
  return `outputs -> ${param(c.name)}::text`;
}

/** A numeric column as float8; non-numbers read as missing, like NaN in the profile. */
function numberOf(c: Column, param: (v: unknown) => string): string {
  const json = jsonOf(c, param);
  return `case when jsonb_typeof(${json}) = 'number' then (${json})::float8 end`;
}

export interface WindowQueries {
  /** Rows of the window (`n`) and, per numeric column, `b<i>`: its bin counts as digits in base `windowRows + 1`. */
  bins: Statement;
  /** Per numeric column with a sketch, `s<i>`: percentile_cont at the profile's levels over the sample. */
  sketches: Statement | null;
  /** Per categorical column: rows `(key, n)`, key null for the missing count. */
  categories: Array<Statement & { column: number }>;
  columns: Column[];
  /** The base `bins` writes its counts in, which decoding them must use too. */
  base: bigint;
}

/**
 * The statements that aggregate one window of `windowRows` rows; exported for the benchmark and EXPLAIN.
 *
 * Profiled on 1M rows x 10 features (docs/monitoring.md): reading a value out of `inputs` (jsonb `->`, the
 * type check, the float8 cast) is the cost, so each value is read once and in parallel workers. That rules
 * out a CTE (its consumers run serially in the leader) and `count(*) filter (where bucket = k)` per bin
 * (Postgres would read the value again for every filter). Instead each numeric column is one aggregate
 * that parallelises, `sum(B^bucket)` (B^k looked up in a parameter array) with B = windowRows + 1: no bin
 * can hold B rows, so the sum is the bin counts written as the digits of a base-B number, exact in
 * `numeric`. Missing counts are the rows minus the bin counts (width_bucket is null exactly when the value is).
 */
export function windowAggregateQueries(profile: TrainingProfile, spec: WindowSpec, windowRows: number): WindowQueries {
  const columns = columnsOf(profile);
  const base = BigInt(windowRows) + 1n;

  const bins = parameters(spec);
  const maxBins = Math.max(1, ...columns.map((c) => (c.profile.kind === 'numeric' ? c.profile.binEdges.length + 1 : 1)));
  const powers = bins.param(Array.from({ length: maxBins }, (_, k) => (base ** BigInt(k)).toString()));
  const binSums = columns.flatMap((c, i) => {
    if (c.profile.kind !== 'numeric') return [];
    const value = numberOf(c, bins.param);
    // With no edges (a profile without values) there is one bin, 0.
    const bucket = c.profile.binEdges.length > 0 ? `width_bucket(${value}, ${bins.param(c.profile.binEdges)}::float8[])` : `case when ${value} is not null then 0 end`;
    return [`sum((${powers}::numeric[])[${bucket} + 1]) as b${i}`];
  });
  const binsText = `select count(*) as n${binSums.map((s) => `, ${s}`).join('')} from predictions where ${WINDOW}`;

  // percentile_cont cannot be split across workers, but the sample's values can be read there: the CTE's
  // scan runs in parallel and the leader only sorts the (at most ~SKETCH_SAMPLE_ROWS) sampled values.
  const sketch = parameters(spec);
  const sample = windowRows > SKETCH_SAMPLE_ROWS ? ` and (hashtext(id::text) & 65535) < ${sketch.param(Math.ceil((65536 * SKETCH_SAMPLE_ROWS) / windowRows))}` : '';
  const sketched = columns.flatMap((c, i) => (c.profile.kind === 'numeric' && c.profile.quantiles.length > 0 ? [{ c, i, levels: c.profile.quantiles.length }] : []));
  const sampleValues = sketched.map(({ c, i }) => `${numberOf(c, sketch.param)} as v${i}`);
  const percentiles = sketched.map(({ i, levels }) => `percentile_cont(${sketch.param(quantileLevels(levels))}::float8[]) within group (order by v${i}) as s${i}`);
  const sketchText = `with sample as materialized (select ${sampleValues.join(', ')} from predictions where ${WINDOW}${sample}) select ${percentiles.join(', ')} from sample`;

  const categories = columns.flatMap((c, i) => {
    if (c.profile.kind !== 'categorical') return [];
    const s = parameters(spec);
    // #>> '{}' is the text of any scalar (strings unquoted, numbers and booleans as written), null for json null.
    return [{ text: `select (${jsonOf(c, s.param)}) #>> '{}' as key, count(*) as n from predictions where ${WINDOW} group by 1`, values: s.values, column: i }];
  });

  return {
    bins: { text: binsText, values: bins.values },
    sketches: sketched.length > 0 ? { text: sketchText, values: sketch.values } : null,
    categories,
    columns,
    base,
  };
}

/** Bin counts from their base-`base` encoding (least significant digit = bin 0). */
function decodeBins(sum: string | null, base: bigint, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  let rest = sum === null ? 0n : BigInt(sum);
  for (let k = 0; k < bins && rest > 0n; k++) {
    counts[k] = Number(rest % base);
    rest /= base;
  }
  return counts;
}

export interface SqlWindow {
  /** Logged predictions of the version in the window. */
  rows: number;
  aggregates: WindowAggregates;
}

/** Aggregates of one window of the prediction log, cut with the profile's own edges and levels. */
export async function aggregateWindowInSql(db: Db, profile: TrainingProfile, spec: WindowSpec): Promise<SqlWindow> {
  return withTransaction(db, async (client) => {
    // One snapshot: the row count that sizes the encoding and the sample is the count every statement sees.
    await client.query('set transaction isolation level repeatable read');
    // JIT compiles every per-column expression in every parallel worker: seconds of compiling for a
    // query that runs in about as long without it (measured, docs/monitoring.md).
    await client.query('set local jit = off');
    const count = await client.query<{ n: string }>(`select count(*) as n from predictions where ${WINDOW}`, parameters(spec).values);
    const rows = Number(count.rows[0].n);
    const queries = windowAggregateQueries(profile, spec, rows);
    const binRow = (await client.query<Record<string, string | null>>(queries.bins.text, queries.bins.values)).rows[0];
    const sketchRow = queries.sketches ? (await client.query<Record<string, number[] | null>>(queries.sketches.text, queries.sketches.values)).rows[0] : {};
    const features: Record<string, FeatureWindowAggregate> = {};
    const outputs: Record<string, FeatureWindowAggregate> = {};
    for (const [i, c] of queries.columns.entries()) {
      let aggregate: FeatureWindowAggregate;
      if (c.profile.kind === 'numeric') {
        const binCounts = decodeBins(binRow[`b${i}`], queries.base, c.profile.binEdges.length + 1);
        const sketch = sketchRow[`s${i}`];
        aggregate = { kind: 'numeric', missingCount: rows - binCounts.reduce((a, b) => a + b, 0), binCounts, quantiles: sketch ? sketch.map(Number) : null };
      } else {
        const q = queries.categories.find((s) => s.column === i)!;
        const categoryCounts: Record<string, number> = {};
        let missingCount = 0;
        for (const r of (await client.query<{ key: string | null; n: string }>(q.text, q.values)).rows) {
          if (r.key === null) missingCount = Number(r.n);
          // defineProperty keeps a category named "__proto__" an ordinary key.
          else Object.defineProperty(categoryCounts, r.key, { value: Number(r.n), enumerable: true, writable: true, configurable: true });
        }
        aggregate = { kind: 'categorical', missingCount, categoryCounts };
      }
      (c.role === 'feature' ? features : outputs)[c.name] = aggregate;
    }
    return { rows, aggregates: { features, outputs } };
  });
}
