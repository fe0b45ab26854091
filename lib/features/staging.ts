// Staging: a dataset version's Arrow rows copied into a Postgres table so joins and windows run as
// SQL: COPY FROM STDIN where the server takes it, else (the embedded PGlite) batched `unnest` inserts.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Table } from 'apache-arrow';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ColumnSchema, ColumnType } from '../data/types.js';
import { supportsCopyFromStdin } from '../storage/db.js';

export const STAGING_BATCH_ROWS = 5_000;
/** Rows per chunk handed to the COPY stream. */
const COPY_CHUNK_ROWS = 10_000;

const PG_TYPES: Record<ColumnType, string> = { float64: 'float8', utf8: 'text', bool: 'boolean', timestamp: 'timestamptz' };

export function pgType(type: ColumnType): string {
  return PG_TYPES[type];
}

export interface StagedTable {
  /** Unquoted table name (letters, digits, `_`). */
  table: string;
  /** Source column name -> staged column (`c_<i>`) and its type; row order is kept in `row_no` (0-based). */
  columns: Map<string, { column: string; type: ColumnType }>;
  rows: number;
}

/** A unique name for a staging or output table. */
export function scratchName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

function cell(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'timestamp') {
    const ms = typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : Number(v);
    return new Date(ms).toISOString();
  }
  if (type === 'float64') return typeof v === 'bigint' ? Number(v) : v;
  if (type === 'bool') return Boolean(v);
  return String(v);
}

/** A value in COPY's text format: `\N` for null, backslash escapes for the separators. */
function copyText(type: ColumnType, v: unknown): string {
  const c = cell(type, v);
  if (c === null) return '\\N';
  if (type === 'bool') return c ? 't' : 'f';
  if (type === 'utf8') return (c as string).replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
  return Object.is(c, -0) ? '-0' : String(c);
}

/**
 * Creates `table` (unlogged, so staging costs no WAL) with `row_no` and one column per schema column,
 * and loads the Arrow rows: one COPY on Postgres, inserts of STAGING_BATCH_ROWS rows on PGlite.
 */
export async function stageArrowTable(client: pg.ClientBase, table: string, arrow: Table, schema: ColumnSchema[]): Promise<StagedTable> {
  const columns = new Map<string, { column: string; type: ColumnType }>();
  schema.forEach((c, i) => columns.set(c.name, { column: `c_${i}`, type: c.type }));
  const defs = schema.map((c, i) => `c_${i} ${pgType(c.type)}`);
  await client.query(`create unlogged table ${table} (row_no bigint not null, ${defs.join(', ')})`);
  const vectors = schema.map((c) => arrow.getChild(c.name));
  const names = ['row_no', ...schema.map((_, i) => `c_${i}`)].join(', ');
  if (await supportsCopyFromStdin(client)) {
    const chunks = function* () {
      for (let start = 0; start < arrow.numRows; start += COPY_CHUNK_ROWS) {
        const end = Math.min(arrow.numRows, start + COPY_CHUNK_ROWS);
        let text = '';
        for (let r = start; r < end; r++) {
          text += String(r);
          for (let j = 0; j < schema.length; j++) text += '\t' + copyText(schema[j].type, vectors[j]?.get(r));
          text += '\n';
        }
        yield text;
      }
    };
    await pipeline(Readable.from(chunks()), client.query(copyFrom(`copy ${table} (${names}) from stdin`)));
    return { table, columns, rows: arrow.numRows };
  }
  const casts = ['bigint[]', ...schema.map((c) => `${pgType(c.type)}[]`)];
  const sql = `insert into ${table} (${names}) select * from unnest(${casts.map((t, i) => `$${i + 1}::${t}`).join(', ')})`;
  for (let start = 0; start < arrow.numRows; start += STAGING_BATCH_ROWS) {
    const end = Math.min(arrow.numRows, start + STAGING_BATCH_ROWS);
    const params: unknown[][] = [Array.from({ length: end - start }, (_, k) => start + k)];
    schema.forEach((c, j) => {
      const vec = vectors[j];
      const values: unknown[] = new Array(end - start);
      for (let r = start; r < end; r++) values[r - start] = cell(c.type, vec?.get(r));
      params.push(values);
    });
    await client.query(sql, params);
  }
  return { table, columns, rows: arrow.numRows };
}

/** The text form of an entity key: float8::text prints integers as JavaScript's String() does. */
export function entityText(expr: string): string {
  return `(${expr})::text`;
}
