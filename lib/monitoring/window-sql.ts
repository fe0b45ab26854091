// A window of the prediction log aggregated IN Postgres against a training profile: width_bucket over the
// profile's bin edges, percentile_cont at its sketch levels, GROUP BY for categories, and null counts.
// Only the aggregates (a few hundred numbers per column) come back to Node.
import type { Db } from '../storage/db.js';
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
  /** SQL expression over `inputs` / `outputs`; `$n` placeholders refer to `params`. */
  expr: string;
}

const PROBABILITY_PREFIX = 'probability:';

/** SQL expression for a column of the log; non-numbers in a numeric column read as missing, like NaN in the profile. */
function columnExpression(role: 'feature' | 'output', name: string, kind: FeatureProfile['kind'], param: (v: unknown) => string): string {
  let json: string;
  if (role === 'feature') json = `inputs -> ${param(name)}::text`;
  else if (name === PREDICTED_CLASS_COLUMN || name === PREDICTION_COLUMN) json = `outputs -> 'label'`;
  else if (name.startsWith(PROBABILITY_PREFIX)) json = `outputs -> 'probabilities' -> ${param(name.slice(PROBABILITY_PREFIX.length))}::text`;
  else json = `outputs -> ${param(name)}::text`;
  if (kind === 'numeric') return `case when jsonb_typeof(${json}) = 'number' then (${json})::text::float8 end`;
  // #>> '{}' is the text of any scalar (strings unquoted, numbers and booleans as written), null for json null.
  return `(${json}) #>> '{}'`;
}

/** The SQL and parameters that aggregate one window; exported for the benchmark and EXPLAIN. */
/**
 * Quantile sketches are taken over at most about this many rows of a larger window: a deterministic
 * sample by prediction id (hash), whose quantile error (~1/sqrt(n) = 0.3%) is far below the sketch's own
 * 1% resolution. Bin counts, missing counts and categories always use every row.
 */
export const SKETCH_SAMPLE_ROWS = 100_000;

export function windowAggregateQuery(profile: TrainingProfile, spec: WindowSpec, windowRows?: number): { text: string; values: unknown[]; columns: Column[] } {
  const values: unknown[] = [spec.modelName, spec.version, spec.start, spec.end];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  const columns: Column[] = [];
  for (const [name, p] of Object.entries(profile.features)) columns.push({ role: 'feature', name, profile: p, expr: columnExpression('feature', name, p.kind, param) });
  for (const [name, p] of Object.entries(profile.output?.columns ?? {})) columns.push({ role: 'output', name, profile: p, expr: columnExpression('output', name, p.kind, param) });
  const select = columns.length > 0 ? columns.map((c, i) => `${c.expr} as c${i}`).join(', ') : 'null as c0';
  const sampled = windowRows !== undefined && windowRows > SKETCH_SAMPLE_ROWS;
  const sample = sampled ? `(hashtext(id::text) & 65535) < ${param(Math.ceil((65536 * SKETCH_SAMPLE_ROWS) / windowRows))}` : 'true';
  const parts = [`select 'total' as part, -1 as col, null::text as key, count(*) as n, null::float8[] as q from w`];
  columns.forEach((c, i) => {
    const col = `c${i}`;
    if (c.profile.kind === 'numeric') {
      const edges = c.profile.binEdges;
      const bucket = edges.length > 0 ? `width_bucket(${col}, ${param(edges)}::float8[])::text` : `'0'`;
      parts.push(`select 'bin', ${i}, ${bucket}, count(*), null::float8[] from w where ${col} is not null group by 3`);
      const sketch = c.profile.quantiles.length > 0 ? `percentile_cont(${param(quantileLevels(c.profile.quantiles.length))}::float8[]) within group (order by ${col})${sampled ? ' filter (where s)' : ''}` : 'null::float8[]';
      parts.push(`select 'missing', ${i}, null, count(*) filter (where ${col} is null), ${sketch} from w`);
    } else {
      parts.push(`select 'cat', ${i}, ${col}, count(*), null::float8[] from w where ${col} is not null group by 3`);
      parts.push(`select 'missing', ${i}, null, count(*) filter (where ${col} is null), null::float8[] from w`);
    }
  });
  const text = `with w as materialized (
      select ${select}, ${sample} as s from predictions where model_name = $1 and version = $2 and at >= $3 and at < $4)
    ${parts.join('\n    union all ')}`;
  return { text, values, columns };
}

export interface SqlWindow {
  /** Logged predictions of the version in the window. */
  rows: number;
  aggregates: WindowAggregates;
}

/** Aggregates of one window of the prediction log, cut with the profile's own edges and levels. */
export async function aggregateWindowInSql(db: Db, profile: TrainingProfile, spec: WindowSpec): Promise<SqlWindow> {
  const count = await db.query<{ n: string }>('select count(*) as n from predictions where model_name = $1 and version = $2 and at >= $3 and at < $4', [spec.modelName, spec.version, spec.start, spec.end]);
  const { text, values, columns } = windowAggregateQuery(profile, spec, Number(count.rows[0].n));
  const { rows } = await db.query<{ part: string; col: number; key: string | null; n: string; q: number[] | null }>(text, values);
  const aggregates: FeatureWindowAggregate[] = columns.map((c) =>
    c.profile.kind === 'numeric'
      ? { kind: 'numeric', missingCount: 0, binCounts: new Array<number>(c.profile.binEdges.length + 1).fill(0), quantiles: null }
      : { kind: 'categorical', missingCount: 0, categoryCounts: {} },
  );
  let total = 0;
  for (const r of rows) {
    const n = Number(r.n);
    if (r.part === 'total') {
      total = n;
      continue;
    }
    const a = aggregates[r.col];
    if (r.part === 'missing') {
      a.missingCount = n;
      if (a.kind === 'numeric') a.quantiles = r.q ? r.q.map(Number) : null;
    } else if (r.part === 'bin' && a.kind === 'numeric') {
      a.binCounts[Number(r.key)] = n;
    } else if (r.part === 'cat' && a.kind === 'categorical') {
      // defineProperty keeps a category named "__proto__" an ordinary key.
      Object.defineProperty(a.categoryCounts, r.key!, { value: n, enumerable: true, writable: true, configurable: true });
    }
  }
  const features: Record<string, FeatureWindowAggregate> = {};
  const outputs: Record<string, FeatureWindowAggregate> = {};
  columns.forEach((c, i) => {
    (c.role === 'feature' ? features : outputs)[c.name] = aggregates[i];
  });
  return { rows: total, aggregates: { features, outputs } };
}
