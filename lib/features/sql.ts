// The one SQL definition of a feature view's values at an anchor (entity, time): offline frames and the
// online table are both built from it, which is what makes them agree.
import { ValidationError } from '../errors.js';
import type { ColumnType } from '../data/types.js';
import type { Feature, FeatureView } from './declaration.js';
import { entityText, type StagedTable } from './staging.js';

export type FeatureValueType = 'float64' | ColumnType;

export interface FeatureColumn {
  name: string;
  /** SQL over the chosen source row `r<k>` and the window aggregates `g<k>`. */
  expr: string;
  type: FeatureValueType;
}

export interface FeatureJoin {
  /** `left join lateral` clauses, to follow a FROM that defines `anchor` with `entity_id` text and `ts` timestamptz (or an anchor alias given). */
  joins: string;
  columns: FeatureColumn[];
  /** The chosen source row's event time (null: missing). */
  eventTimeExpr: string;
}

function float8(n: number): string {
  if (!Number.isFinite(n)) throw new ValidationError(`Feature constant ${n} is not a finite number.`);
  return `'${String(n)}'::float8`;
}

function text(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sourceColumn(view: FeatureView, staged: StagedTable, name: string, expect?: ColumnType[]): { column: string; type: ColumnType } {
  const c = staged.columns.get(name);
  if (!c) throw new ValidationError(`Feature view ${view.name}: column ${JSON.stringify(name)} is not in dataset ${view.source.dataset} (has ${[...staged.columns.keys()].join(', ')}).`);
  if (expect && !expect.includes(c.type)) throw new ValidationError(`Feature view ${view.name}: column ${JSON.stringify(name)} is ${c.type}; this feature needs ${expect.join(' or ')}.`);
  return c;
}

export interface JoinOptions {
  /** Alias suffix, so several views can join one anchor set. */
  k: number;
  /** Alias of the anchor relation (columns entity_id, ts). */
  anchor: string;
  /** Apply the view's TTL counted back from the anchor time (offline). Online applies it on read instead. */
  ttl: boolean;
  /** Only source rows whose created time is <= the anchor time. */
  createdTimeGuard: boolean;
}

/**
 * Per anchor: the latest source row of the entity with event time <= the anchor time (and within TTL,
 * and created by then, when asked), and windowed aggregates over the entity's rows with event time in
 * [row time - window, row time]. No such row: every feature is missing.
 */
export function featureJoin(view: FeatureView, staged: StagedTable, opts: JoinOptions): FeatureJoin {
  const { k, anchor } = opts;
  const s = staged.table;
  const entity = entityText(`s.${sourceColumn(view, staged, view.entity.joinKey, ['float64', 'utf8']).column}`);
  const et = `s.${sourceColumn(view, staged, view.source.eventTime, ['timestamp']).column}`;
  let guard = '';
  if (opts.createdTimeGuard) {
    if (!view.source.createdTime) throw new ValidationError(`Feature view ${view.name} declares no source.createdTime; the created-time guard needs one.`);
    guard = ` and s.${sourceColumn(view, staged, view.source.createdTime, ['timestamp']).column} <= ${anchor}.ts`;
  }
  const ttl = opts.ttl ? ` and ${et} >= ${anchor}.ts - interval '${view.ttlSeconds} seconds'` : '';
  const r = `r${k}`;
  const g = `g${k}`;
  const rowCols = new Set<string>();
  const rowCol = (name: string) => {
    const c = sourceColumn(view, staged, name).column;
    rowCols.add(c);
    return `${r}.${c}`;
  };
  const columns: FeatureColumn[] = [];
  const aggs: string[] = [];
  let maxWindow = 0;
  for (const f of view.features) columns.push(featureColumn(view, staged, f, r, g, rowCol, aggs, (w) => (maxWindow = Math.max(maxWindow, w))));
  const rowSelect = [`${et} as event_time`, ...[...rowCols.keys()].map((c) => `s.${c}`)];
  let joins =
    `left join lateral (select ${rowSelect.join(', ')} from ${s} s where ${entity} = ${anchor}.entity_id and ${et} <= ${anchor}.ts${ttl}${guard} ` +
    `order by ${et} desc, s.row_no desc limit 1) ${r} on true`;
  if (aggs.length > 0) {
    joins +=
      `\nleft join lateral (select ${aggs.join(', ')} from ${s} s where ${r}.event_time is not null and ${entity} = ${anchor}.entity_id ` +
      `and ${et} <= ${r}.event_time and ${et} >= ${r}.event_time - interval '${maxWindow} seconds'${guard}) ${g} on true`;
  }
  return { joins, columns, eventTimeExpr: `${r}.event_time` };
}

function featureColumn(
  view: FeatureView,
  staged: StagedTable,
  f: Feature,
  r: string,
  g: string,
  rowCol: (name: string) => string,
  aggs: string[],
  window: (seconds: number) => void,
): FeatureColumn {
  switch (f.kind) {
    case 'value': {
      const type = sourceColumn(view, staged, f.column).type;
      return { name: f.name, expr: rowCol(f.column), type };
    }
    case 'scale':
      sourceColumn(view, staged, f.column, ['float64']);
      return { name: f.name, expr: `((${rowCol(f.column)} - ${float8(f.center)}) / ${float8(f.scale)})`, type: 'float64' };
    case 'bucket':
      sourceColumn(view, staged, f.column, ['float64']);
      return { name: f.name, expr: `width_bucket(${rowCol(f.column)}, array[${f.boundaries.map(float8).join(', ')}]::float8[])::float8`, type: 'float64' };
    case 'encode':
      sourceColumn(view, staged, f.column, ['utf8']);
      return { name: f.name, expr: `(array_position(array[${f.categories.map(text).join(', ')}]::text[], ${rowCol(f.column)}) - 1)::float8`, type: 'float64' };
    case 'aggregate': {
      window(f.windowSeconds);
      const et = `s.${sourceColumn(view, staged, view.source.eventTime).column}`;
      const inWindow = `${et} >= ${r}.event_time - interval '${f.windowSeconds} seconds'`;
      const alias = `a_${aggs.length}`;
      let agg: string;
      if (f.fn === 'count') {
        const arg = f.column ? `s.${sourceColumn(view, staged, f.column).column}` : '*';
        agg = `count(${arg}) filter (where ${inWindow})::float8`;
      } else {
        const c = `s.${sourceColumn(view, staged, f.column!, ['float64']).column}`;
        const fn = f.fn === 'mean' ? 'avg' : f.fn;
        agg = `${fn}(${c}) filter (where ${inWindow})::float8`;
      }
      aggs.push(`${agg} as ${alias}`);
      // No source row at all: missing, not a count of 0.
      return { name: f.name, expr: `case when ${r}.event_time is null then null else ${g}.${alias} end`, type: 'float64' };
    }
  }
}

/**
 * Indexes a staged source on (entity key text, event time) so each LATERAL lookup is an index scan,
 * not a scan of the whole source per anchor, and refreshes its statistics.
 */
export async function indexStagedSource(client: { query(sql: string): Promise<unknown> }, view: FeatureView, staged: StagedTable): Promise<void> {
  const key = sourceColumn(view, staged, view.entity.joinKey, ['float64', 'utf8']);
  const et = sourceColumn(view, staged, view.source.eventTime, ['timestamp']).column;
  const keyExpr = key.type === 'utf8' ? key.column : `(${entityText(key.column)})`;
  await client.query(`create index on ${staged.table} (${keyExpr}, ${et})`);
  await client.query(`analyze ${staged.table}`);
}
