// Batch scoring: the rows of a dataset version or of a Postgres query, scored by one model version in Arrow
// batches, written to a Postgres table and/or one Arrow IPC or Parquet file. Each batch is committed in one
// transaction: its progress marker (a batch_scoring_parts row, naming the scored part artifact when a file is
// wanted) and its rows in the output table. A retried or restarted run resumes after the last committed batch
// and never writes a row twice. Temporal-free: activities/batch-scoring.ts heartbeats through `onBatch`.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataType, makeData, makeVector, Precision, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type RecordBatch, type Vector } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { cast, CastFailure } from '../data/cast.js';
import { columnReader } from '../data/column-reader.js';
import { getDatasetVersion, readVersionBatches } from '../data/datasets.js';
import { arrowType } from '../data/ingest.js';
import { openSource, type OpenedSource, type RowBatch } from '../data/sources.js';
import type { ColumnType } from '../data/types.js';
import { DatasetSourceError, NotFoundError, ValidationError } from '../errors.js';
import { quoteIdent } from '../features/offline.js';
import { createSession, scoreColumns, type InputColumns, type Scores, type Session } from '../onnx/session.js';
import { getModelVersion, getVersionByAlias } from '../registry/registry.js';
import { ALIAS_PATTERN, PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import { parseArtifactUri, type ArtifactStore } from '../storage/artifacts.js';
import { CopyBinaryWriter } from '../storage/binary-copy.js';
import { supportsCopyFromStdin, withTransaction, type Db } from '../storage/db.js';
import type { ModelSignature } from '../training/types.js';

export const DEFAULT_BATCH_ROWS = 10_000;
export const MAX_BATCH_ROWS = 1_000_000;
/** The output column holding each row's 0-based position in the source (a query's rows in key order). */
export const ROW_INDEX_COLUMN = 'row_index';
/** The output table column naming the run that wrote the row (a table collects many runs, e.g. a schedule's). */
export const RUN_ID_COLUMN = 'run_id';
export const OUTPUT_FILE_FORMATS = ['arrow', 'parquet'] as const;
export type OutputFileFormat = (typeof OUTPUT_FILE_FORMATS)[number];
/** An output table: `name` or `schema.name`, lower-case, unquoted Postgres identifiers. */
export const OUTPUT_TABLE_PATTERN = '^[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?$';

export interface BatchScoringOutput {
  /** A Postgres table in mlcycle's database: created on first use, one row per scored row, keyed by (run_id, row_index). */
  table?: string;
  /** The result file's format; default `arrow` unless a table is named (then no file unless asked). */
  file?: OutputFileFormat;
}

export interface BatchScoringInput {
  /** The rows: a dataset version, or `query`, a read-only SELECT on mlcycle's database (exactly one). */
  datasetVersionId?: string;
  query?: string;
  modelName: string;
  /** The version to score with; or `alias` (default `production`), resolved once when the run is planned. */
  version?: number;
  alias?: string;
  /**
   * Source columns copied to the output next to the predictions (e.g. the entity id). A query's rows are read
   * in the order of these columns, which must identify a row, so a resumed run sees the rows in the same order.
   */
  keyColumns?: string[];
  /** Rows per batch (default 10 000): the unit of scoring, heartbeats and resumption. */
  batchRows?: number;
  /** Where predictions go (default: an Arrow IPC file). */
  output?: BatchScoringOutput;
  requestedBy?: string;
  /** The scoring activity's heartbeat timeout (default one minute); not taken over HTTP. Tests shorten it. */
  heartbeatTimeout?: string;
}

export interface KeyColumn {
  name: string;
  type: ColumnType;
}

/** Everything the scoring activities need, fixed when the run is planned (ids, URIs and SQL only). */
export interface BatchScoringPlan {
  runId: string;
  datasetVersionId: string | null;
  datasetUri: string | null;
  query: string | null;
  modelName: string;
  version: number;
  modelUri: string;
  modelSha256: string;
  keyColumns: KeyColumn[];
  batchRows: number;
  rows: number;
  batches: number;
  outputTable: string | null;
  outputFile: OutputFileFormat | null;
}

export interface BatchScoringResult {
  runId: string;
  modelName: string;
  version: number;
  datasetVersionId: string | null;
  rows: number;
  batches: number;
  outputTable: string | null;
  resultUri: string | null;
  resultSha256: string | null;
}

export type BatchScoringStatus = 'running' | 'completed' | 'failed';

export interface BatchScoringRun {
  id: string;
  status: BatchScoringStatus;
  modelName: string;
  version: number | null;
  alias: string | null;
  datasetVersionId: string | null;
  query: string | null;
  keyColumns: string[];
  batchRows: number;
  batches: number | null;
  batchesDone: number;
  rows: number | null;
  outputTable: string | null;
  outputFile: OutputFileFormat | null;
  resultUri: string | null;
  resultSha256: string | null;
  error: string | null;
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** The prediction columns a signature produces: `prediction` for a regressor, else `label` and `probability_<class>`. */
export function predictionColumns(signature: ModelSignature): string[] {
  if (signature.task === 'regression') return ['prediction'];
  return ['label', ...signature.classes.map((c) => `probability_${c}`)];
}

const FEATURE_TYPES: Record<'float' | 'string', ColumnType> = { float: 'float64', string: 'utf8' };

/** What the run writes: a table, a file or both; a file in Arrow IPC when nothing is said. */
export function resolveOutput(output: BatchScoringOutput | undefined): { table: string | null; file: OutputFileFormat | null } {
  const table = output?.table ?? null;
  const file = output?.file ?? (table === null ? 'arrow' : null);
  if (table !== null && !new RegExp(OUTPUT_TABLE_PATTERN).test(table)) {
    throw new ValidationError(`output.table ${JSON.stringify(table)} is not a table name: use lower-case letters, digits and _ (optionally schema.table).`);
  }
  if (file !== null && !OUTPUT_FILE_FORMATS.includes(file)) throw new ValidationError(`output.file must be one of ${OUTPUT_FILE_FORMATS.join(', ')} (got ${JSON.stringify(file)}).`);
  return { table, file };
}

function checkOneSource(input: BatchScoringInput): void {
  if ((input.datasetVersionId === undefined) === (input.query === undefined)) throw new ValidationError('Name the rows to score: either datasetVersionId or query.');
}

/**
 * Checks the request against its source and the model version and fixes the version (an alias is resolved
 * now, so a retry scores with the same model even if the alias moves). Unknown dataset, model or version:
 * NotFoundError; a bad query, columns that are missing, of the wrong type or clash with the output, or an
 * existing output table of another shape: ValidationError.
 */
export async function planBatchScoring(db: Db, runId: string, input: BatchScoringInput): Promise<BatchScoringPlan> {
  if (input.version !== undefined && input.alias !== undefined) throw new ValidationError('Name either a version or an alias, not both.');
  if (input.version !== undefined && (!Number.isInteger(input.version) || input.version < 1)) throw new ValidationError(`version must be a positive integer (got ${input.version}).`);
  if (input.alias !== undefined && !new RegExp(ALIAS_PATTERN).test(input.alias)) throw new ValidationError(`alias ${JSON.stringify(input.alias)} is not an alias name.`);
  checkOneSource(input);
  const batchRows = input.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_ROWS) throw new ValidationError(`batchRows must be an integer from 1 to ${MAX_BATCH_ROWS} (got ${batchRows}).`);
  const output = resolveOutput(input.output);
  const keyNames = input.keyColumns ?? [];
  if (new Set(keyNames).size !== keyNames.length) throw new ValidationError('keyColumns names a column twice.');

  // A trailing semicolon would end the subquery the query is wrapped in.
  const query = input.query === undefined ? null : input.query.trim().replace(/;+\s*$/, '');
  const source = query === null ? await describeDataset(db, input.datasetVersionId!) : await describeQuery(db, query, keyNames);
  const model: ModelVersion =
    input.version !== undefined ? await getModelVersion(db, input.modelName, input.version) : await getVersionByAlias(db, input.modelName, input.alias ?? PRODUCTION_ALIAS);
  if (source.rows === 0) throw new ValidationError(`${capitalized(source.name)} has no rows to score.`);
  const columns = new Map(source.columns.map((c) => [c.name, c.type]));
  const listed = source.columns.map((c) => `${c.name} (${c.type})`).join(', ');
  for (const f of model.signature.features) {
    const type = columns.get(f.name);
    if (type === undefined) throw new ValidationError(`${capitalized(source.name)} has no column ${JSON.stringify(f.name)}, which ${input.modelName} v${model.version} needs; its columns are ${listed}.`);
    if (type !== FEATURE_TYPES[f.type]) throw new ValidationError(`Column ${JSON.stringify(f.name)} of ${source.name} is ${type}; ${input.modelName} v${model.version} takes it as ${FEATURE_TYPES[f.type]}.`);
  }
  const outputs = new Set([ROW_INDEX_COLUMN, RUN_ID_COLUMN, ...predictionColumns(model.signature)]);
  const keyColumns: KeyColumn[] = [];
  for (const k of keyNames) {
    const type = columns.get(k);
    if (type === undefined) throw new ValidationError(`Key column ${JSON.stringify(k)} is not in ${source.name}; its columns are ${listed}.`);
    if (outputs.has(k)) throw new ValidationError(`Key column ${JSON.stringify(k)} has the name of an output column (${[...outputs].join(', ')}).`);
    keyColumns.push({ name: k, type });
  }
  if (output.table !== null) await checkOutputTable(db, output.table, outputTableColumns(keyColumns, model.signature));
  return {
    runId,
    datasetVersionId: source.datasetVersionId,
    datasetUri: source.datasetUri,
    query,
    modelName: input.modelName,
    version: model.version,
    modelUri: model.uri,
    modelSha256: model.sha256,
    keyColumns,
    batchRows,
    rows: source.rows,
    batches: Math.ceil(source.rows / batchRows),
    outputTable: output.table,
    outputFile: output.file,
  };
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface SourceDescription {
  name: string;
  columns: KeyColumn[];
  rows: number;
  datasetVersionId: string | null;
  datasetUri: string | null;
}

async function describeDataset(db: Db, id: string): Promise<SourceDescription> {
  const dataset = await getDatasetVersion(db, id);
  return { name: `dataset ${dataset.id}`, columns: dataset.columns, rows: dataset.rowCount, datasetVersionId: dataset.id, datasetUri: dataset.uri };
}

/** The query's columns (from its first row) and row count, read-only. A query needs key columns: they order its rows. */
async function describeQuery(db: Db, query: string, keyColumns: string[]): Promise<SourceDescription> {
  if (!query.trim()) throw new ValidationError('query is empty.');
  if (keyColumns.length === 0) {
    throw new ValidationError('A query source needs keyColumns: columns that identify a row. Rows are read in their order, so a resumed run reads them in the same order.');
  }
  let opened: OpenedSource;
  try {
    opened = await openSource('postgres:default', { db, query: `select * from (${query}) as q limit 1`, batchSize: 1 });
  } catch (err) {
    if (!(err instanceof DatasetSourceError)) throw err;
    // An empty result is reported as "no rows to score" once the model is known to fit; the rest is a bad query.
    if (/returned no rows/.test(err.message)) return { name: 'the query', columns: [], rows: 0, datasetVersionId: null, datasetUri: null };
    throw new ValidationError(err.message.replace('The Postgres source query failed on postgres:default', 'The query failed'));
  }
  await opened.close();
  const columns = opened.columns.map((c) => ({ name: c.name, type: c.type }));
  const names = columns.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ValidationError(`The query returns two columns named ${JSON.stringify(dup)}.`);
  // The extended protocol runs exactly one statement, so the query cannot end the read-only transaction.
  const { rows } = await readOnly(db, (c) => c.query<{ n: string }>({ text: `select count(*) as n from (${query}) as q`, queryMode: 'extended' } as pg.QueryConfig));
  return { name: 'the query', columns, rows: Number(rows[0].n), datasetVersionId: null, datasetUri: null };
}

async function readOnly<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('begin read only');
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }
}

// ---- The output table ----

const SQL_TYPES: Record<ColumnType, string> = { float64: 'double precision', utf8: 'text', bool: 'boolean', timestamp: 'timestamp with time zone' };

/** The output table's columns, in order, with their types as `format_type` spells them. */
export function outputTableColumns(keyColumns: KeyColumn[], signature: ModelSignature): Array<{ name: string; sqlType: string }> {
  const columns = [
    { name: RUN_ID_COLUMN, sqlType: 'text' },
    { name: ROW_INDEX_COLUMN, sqlType: 'bigint' },
    ...keyColumns.map((k) => ({ name: k.name, sqlType: SQL_TYPES[k.type] })),
  ];
  if (signature.task === 'regression') return [...columns, { name: 'prediction', sqlType: 'real' }];
  const stringLabels = signature.classes.some((c) => typeof c === 'string');
  return [...columns, { name: 'label', sqlType: stringLabels ? 'text' : 'double precision' }, ...signature.classes.map((c) => ({ name: `probability_${c}`, sqlType: 'real' }))];
}

function quoteTable(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

/** An existing output table must have exactly the columns this run writes (so nothing else is ever written into). */
async function checkOutputTable(db: Pick<Db, 'query'>, table: string, expected: Array<{ name: string; sqlType: string }>): Promise<'missing' | 'ok'> {
  const [schema] = table.includes('.') ? table.split('.') : [null];
  if (schema !== null) {
    const ns = await db.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (ns.rowCount === 0) throw new ValidationError(`output.table ${table}: schema ${schema} does not exist.`);
  }
  const { rows } = await db.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
     where attrelid = to_regclass($1) and attnum > 0 and not attisdropped order by attnum`,
    [quoteTable(table)],
  );
  if (rows.length === 0) return 'missing';
  const have = rows.map((r) => `${r.name} ${r.type}`).join(', ');
  const want = expected.map((c) => `${c.name} ${c.sqlType}`).join(', ');
  if (have !== want) throw new ValidationError(`output.table ${table} exists with columns (${have}); this run writes (${want}). Name another table.`);
  return 'ok';
}

/** Creates the output table if it is missing (keyed by run and row, so no row can be stored twice) and checks its shape. */
async function ensureOutputTable(db: Db, table: string, columns: Array<{ name: string; sqlType: string }>): Promise<void> {
  if ((await checkOutputTable(db, table, columns)) === 'ok') return;
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}${c.name === RUN_ID_COLUMN || c.name === ROW_INDEX_COLUMN ? ' not null' : ''}`);
  try {
    await db.query(`create table if not exists ${quoteTable(table)} (${defs.join(', ')}, primary key (${RUN_ID_COLUMN}, ${ROW_INDEX_COLUMN}))`);
  } catch (err) {
    // Two runs creating the same table at once: one wins (unique violation on the type name); the check below decides.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
  await checkOutputTable(db, table, columns);
}

// ---- COPY in Postgres's binary format (lib/storage/binary-copy.ts) ----

/**
 * Writes one column's value for row i in the binary form of the output table's column type (outputTableColumns):
 * utf8 -> text, integers -> bigint, float64 -> double precision, float32 -> real, bool -> boolean,
 * timestamp (ms) -> timestamptz.
 */
function binaryCells(vector: Vector, type: DataType): (w: CopyBinaryWriter, i: number) => void {
  const dense = vector.nullCount === 0 && vector.data.length === 1;
  const values = dense && (DataType.isFloat(type) || DataType.isInt(type)) && !DataType.isTimestamp(type) ? (vector.toArray() as ArrayLike<number>) : undefined;
  const read = columnReader(vector);
  const get = (i: number): unknown => (values ? values[i] : (read(i) ?? null));
  const orNull = (write: (w: CopyBinaryWriter, v: unknown) => void) => (w: CopyBinaryWriter, i: number) => {
    const v = get(i);
    if (v === null) w.null();
    else write(w, v);
  };
  if (DataType.isTimestamp(type)) return orNull((w, v) => w.timestamp(Number(v)));
  if (DataType.isFloat(type) && type.precision === Precision.SINGLE) return orNull((w, v) => w.float32(Number(v)));
  if (DataType.isFloat(type)) return orNull((w, v) => w.float64(Number(v)));
  if (DataType.isInt(type)) return orNull((w, v) => w.int64(v as number | bigint));
  if (DataType.isBool(type)) return orNull((w, v) => w.bool(Boolean(v)));
  return orNull((w, v) => w.text(String(v)));
}

/** The scored table as COPY BINARY data, each row prefixed with the run id, in chunks of `chunkRows` rows. */
function* binaryCopyChunks(runId: string, scored: Table, chunkRows = 2000): Generator<Buffer> {
  const cells = scored.schema.fields.map((f, i) => binaryCells(scored.getChildAt(i)!, f.type));
  const w = new CopyBinaryWriter();
  for (let from = 0; from < scored.numRows; from += chunkRows) {
    for (let i = from; i < Math.min(scored.numRows, from + chunkRows); i++) {
      w.row(cells.length + 1);
      w.text(runId);
      for (const cell of cells) cell(w, i);
    }
    yield w.take();
  }
  yield w.finish();
}

function jsonValue(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (DataType.isTimestamp(type)) return new Date(Number(v)).toISOString();
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

/** Writes a scored batch into the output table on `client` (inside the batch's transaction). */
async function writeTableRows(client: pg.PoolClient, table: string, runId: string, scored: Table, useCopy: boolean): Promise<void> {
  const names = [RUN_ID_COLUMN, ...scored.schema.fields.map((f) => f.name)];
  const columnList = names.map(quoteIdent).join(', ');
  if (useCopy) {
    await pipeline(Readable.from(binaryCopyChunks(runId, scored)), client.query(copyFrom(`copy ${quoteTable(table)} (${columnList}) from stdin with (format binary)`)));
    return;
  }
  // PGlite's wire server has no COPY FROM STDIN: batched INSERTs of JSON records, mapped onto the table's row type.
  const fields = scored.schema.fields.map((f, i) => ({ name: f.name, get: columnReader(scored.getChildAt(i)), type: f.type }));
  const chunk = 5000;
  for (let from = 0; from < scored.numRows; from += chunk) {
    const records = [];
    for (let i = from; i < Math.min(scored.numRows, from + chunk); i++) {
      const r: Record<string, unknown> = { [RUN_ID_COLUMN]: runId };
      for (const f of fields) r[f.name] = jsonValue(f.get(i), f.type);
      records.push(r);
    }
    await client.query(`insert into ${quoteTable(table)} (${columnList}) select ${columnList} from json_populate_recordset(null::${quoteTable(table)}, $1::json)`, [JSON.stringify(records)]);
  }
}

// ---- Scoring ----

/** Feature columns for scoring from an Arrow table (float64 -> float32 with NaN for null; utf8 -> string or null), as online rows give. */
export function arrowToColumns(table: Table, signature: ModelSignature): InputColumns {
  const out: InputColumns = {};
  const n = table.numRows;
  for (const f of signature.features) {
    const v = table.getChild(f.name);
    if (!v) throw new ValidationError(`The batch has no column ${JSON.stringify(f.name)}.`);
    if (f.type === 'string') {
      const get = columnReader(v);
      const col = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const x = get(i);
        col[i] = x === null ? null : String(x);
      }
      out[f.name] = col;
    } else {
      const col = new Float32Array(n);
      if (v.nullCount === 0) col.set(v.toArray() as Float64Array);
      else {
        const get = columnReader(v);
        for (let i = 0; i < n; i++) {
          const x = get(i);
          col[i] = x === null ? Number.NaN : Number(x);
        }
      }
      out[f.name] = col;
    }
  }
  return out;
}

/** A utf8 vector of n labels, each one of `classes`, built straight into offsets and bytes (a builder is slower). */
function labelVector(labels: ArrayLike<string | number>, classes: Array<string | number>): Vector {
  const encoder = new TextEncoder();
  const encoded = new Map(classes.map((c) => [String(c), encoder.encode(String(c))]));
  const n = labels.length;
  const valueOffsets = new Int32Array(n + 1);
  const parts = new Array<Uint8Array>(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const label = String(labels[i]);
    const bytes = encoded.get(label) ?? encoder.encode(label);
    parts[i] = bytes;
    size += bytes.length;
    valueOffsets[i + 1] = size;
  }
  const data = new Uint8Array(size);
  for (let i = 0; i < n; i++) data.set(parts[i], valueOffsets[i]);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets, data }));
}

/** One scored part: row index, the key columns as stored, and the prediction columns (same schema for every part). */
export function scoredTable(batch: Table, firstRow: number, keyColumns: string[], signature: ModelSignature, scores: Scores): Table {
  const n = batch.numRows;
  const columns: Record<string, Vector> = {};
  const rowIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) rowIndex[i] = firstRow + i;
  columns[ROW_INDEX_COLUMN] = makeVector(rowIndex);
  // The key vectors as they are (a slice of the source shares its buffers); the writer copies only what the slice holds.
  for (const k of keyColumns) columns[k] = batch.getChild(k)!;
  const k = signature.classes.length;
  const column = (j: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = scores.probabilities[i * k + j];
    return makeVector(out);
  };
  if (signature.task === 'regression') {
    columns.prediction = column(0);
  } else {
    const stringLabels = signature.classes.some((c) => typeof c === 'string');
    columns.label = stringLabels ? labelVector(scores.labels, signature.classes) : makeVector(Float64Array.from(scores.labels, Number));
    signature.classes.forEach((c, j) => {
      columns[`probability_${c}`] = column(j);
    });
  }
  return new Table(columns);
}

/**
 * Where a (re)started attempt begins: at the heartbeat's `nextBatch`, checked against the committed parts
 * (a part below it that is missing is redone) and moved past parts committed after the last heartbeat that
 * reached the server (heartbeats are throttled; parts are the durable record).
 */
export function resumePoint(batches: number, committed: ReadonlySet<number>, heartbeatNext?: number): number {
  let start = Math.min(Math.max(0, heartbeatNext ?? 0), batches);
  for (let i = 0; i < start; i++) {
    if (!committed.has(i)) {
      start = i;
      break;
    }
  }
  while (start < batches && committed.has(start)) start++;
  return start;
}

export async function committedParts(db: Db, runId: string): Promise<Map<number, { uri: string | null; rows: number }>> {
  const { rows } = await db.query<{ batch_index: number; uri: string | null; rows: number }>('select batch_index, uri, rows from batch_scoring_parts where run_id = $1', [runId]);
  return new Map(rows.map((r) => [r.batch_index, { uri: r.uri, rows: r.rows }]));
}

interface SourceBatch {
  index: number;
  firstRow: number;
  table: Table;
}

/**
 * The dataset version's batches from `startBatch` on, read from its Arrow IPC file one record batch at a time (the
 * file's batches are ingestion's, so they are cut and joined to the run's batch size); memory holds about one batch.
 */
export async function* datasetBatches(artifacts: ArtifactStore, plan: BatchScoringPlan, startBatch: number): AsyncGenerator<SourceBatch> {
  let index = startBatch;
  let skip = startBatch * plan.batchRows;
  let seen = 0;
  let parts: RecordBatch[] = [];
  let held = 0;
  const cut = (): SourceBatch => {
    const batch = { index, firstRow: index * plan.batchRows, table: new Table(parts) };
    index++;
    parts = [];
    held = 0;
    return batch;
  };
  for await (const read of readVersionBatches(artifacts, plan.datasetUri!, { verify: true })) {
    seen += read.numRows;
    let rest = read;
    if (skip >= rest.numRows) {
      skip -= rest.numRows;
      continue;
    }
    if (skip > 0) {
      rest = rest.slice(skip);
      skip = 0;
    }
    while (rest.numRows > 0) {
      const take = Math.min(plan.batchRows - held, rest.numRows);
      parts.push(rest.slice(0, take));
      held += take;
      rest = rest.slice(take);
      if (held === plan.batchRows) yield cut();
    }
  }
  if (seen !== plan.rows) throw new ValidationError(`Dataset ${plan.datasetVersionId} has ${seen} rows; the run was planned for ${plan.rows}.`);
  if (held > 0) yield cut();
}

/** Opens the query's rows in key order from `firstRow` (and at most `limit` of them); undefined when there are none. */
async function openOrdered(db: Db, plan: BatchScoringPlan, firstRow: number, limit?: number): Promise<OpenedSource | undefined> {
  const order = plan.keyColumns.map((k) => quoteIdent(k.name)).join(', ');
  const sql = `select * from (${plan.query}) as q order by ${order} offset ${firstRow}${limit === undefined ? '' : ` limit ${limit}`}`;
  try {
    return await openSource('postgres:default', { db, query: sql, batchSize: plan.batchRows });
  } catch (err) {
    if (err instanceof DatasetSourceError && /returned no rows/.test(err.message)) return undefined;
    throw err;
  }
}

/**
 * The query's row batches from `firstRow` on. On Postgres: one server-side cursor in one read-only transaction (one
 * snapshot). On PGlite, whose wire server serves one transaction at a time across connections, a cursor held open
 * would block the batch commits for good; there each batch is its own statement (OFFSET/LIMIT in key order).
 */
async function* orderedRowBatches(db: Db, plan: BatchScoringPlan, firstRow: number, oneCursor: boolean): AsyncGenerator<{ source: OpenedSource; rows: RowBatch }> {
  if (oneCursor) {
    const source = await openOrdered(db, plan, firstRow);
    if (!source) return;
    try {
      for await (const rows of source.batches) yield { source, rows };
    } finally {
      await source.close();
    }
    return;
  }
  for (let from = firstRow; ; from += plan.batchRows) {
    const source = await openOrdered(db, plan, from, plan.batchRows);
    if (!source) return;
    let rows: RowBatch | undefined;
    try {
      rows = (await source.batches.next()).value ?? undefined;
    } finally {
      await source.close();
    }
    if (!rows) return;
    yield { source, rows };
    if (rows.numRows < plan.batchRows) return;
  }
}

/**
 * The query's batches from `startBatch` on, in key order, skipping the committed rows in SQL, each cast to Arrow
 * columns. The count must still be the planned one: rows that come or go during the run would shift the batches,
 * so that fails the run rather than score a row twice or never.
 */
async function* queryBatches(db: Db, plan: BatchScoringPlan, columns: KeyColumn[], startBatch: number, oneCursor: boolean): AsyncGenerator<SourceBatch> {
  const changed = (n: number) => new DatasetSourceError(`The query now returns ${n} rows; the run was planned for ${plan.rows}. Its rows changed during the run; start a new run.`);
  let b = startBatch;
  for await (const { source, rows } of orderedRowBatches(db, plan, startBatch * plan.batchRows, oneCursor)) {
    const from = b * plan.batchRows;
    const expected = Math.min(plan.batchRows, plan.rows - from);
    if (b >= plan.batches || rows.numRows !== expected) throw changed(from + rows.numRows);
    const at = new Map(source.columns.map((c, i) => [c.name, { index: i, from: c.valueType }]));
    const vectors: Record<string, Vector> = {};
    for (const c of columns) {
      const src = at.get(c.name);
      if (!src) throw new DatasetSourceError(`The query no longer returns column ${JSON.stringify(c.name)}.`);
      const values = new Array<unknown>(rows.numRows);
      const get = rows.columns[src.index];
      for (let i = 0; i < rows.numRows; i++) {
        const value = cast(get.get(i), src.from, c.type);
        if (value instanceof CastFailure) throw new DatasetSourceError(`Query row ${from + i}, column ${JSON.stringify(c.name)}: ${value.reason}.`);
        values[i] = value;
      }
      vectors[c.name] = vectorFromArray(values, arrowType(c.type));
    }
    yield { index: b, firstRow: from, table: new Table(vectors) };
    b++;
  }
  if (b < plan.batches) throw changed(b * plan.batchRows);
}

/** Rows per onnxruntime call: as fast per row as bigger calls, and short enough to let pending I/O run between them. */
const SCORE_SLICE_ROWS = 2048;

/**
 * Scores a batch in slices of SCORE_SLICE_ROWS. onnxruntime-node's `run` holds the event loop while it scores, so
 * one call per batch would stall the previous batch's commit (file writes, fsync, COPY) until the batch is done;
 * between slices those steps move on, and the commit overlaps the scoring.
 */
async function scoreInSlices(session: Session, signature: ModelSignature, batch: Table): Promise<Scores> {
  const n = batch.numRows;
  if (n <= SCORE_SLICE_ROWS) return scoreColumns(session, signature, arrowToColumns(batch, signature), n);
  const width = signature.classes.length;
  const labels = new Array<string | number>(n);
  const probabilities = new Float32Array(n * width);
  for (let from = 0; from < n; from += SCORE_SLICE_ROWS) {
    const slice = batch.slice(from, Math.min(n, from + SCORE_SLICE_ROWS));
    const scores = await scoreColumns(session, signature, arrowToColumns(slice, signature), slice.numRows);
    for (let i = 0; i < slice.numRows; i++) labels[from + i] = scores.labels[i];
    probabilities.set(scores.probabilities.subarray(0, slice.numRows * width), from * width);
  }
  return { labels, probabilities };
}

export interface ScoreProgress {
  batchIndex: number;
  /** Batches committed so far (this one included): the next attempt starts here at the earliest. */
  nextBatch: number;
  batches: number;
  rows: number;
}

export interface ScoreOptions {
  /** `nextBatch` from the previous attempt's last heartbeat, if any. */
  heartbeatNext?: number;
  /** Called once the resume point is known, before any scoring. */
  onStart?: (info: { startBatch: number; committed: number }) => void;
  /** Called after each batch is committed (part stored and recorded). */
  onBatch?: (progress: ScoreProgress) => void;
  signal?: AbortSignal;
}

/**
 * Scores every batch not yet committed: reads the source in `batchRows` batches from the resume point, scores
 * each with the plan's model (bytes verified against its sha256), stores the scored part when a file is wanted
 * (content-addressed, so a redone batch writes the same bytes), then commits in one transaction the part row
 * and the batch's rows in the output table (COPY; batched INSERT on PGlite). A batch another attempt committed
 * meanwhile is left as it is. Returns the batches scored now.
 */
export async function scoreBatches(deps: { db: Db; artifacts: ArtifactStore }, plan: BatchScoringPlan, options: ScoreOptions = {}): Promise<{ startBatch: number; scored: number }> {
  const committed = await committedParts(deps.db, plan.runId);
  const startBatch = resumePoint(plan.batches, new Set(committed.keys()), options.heartbeatNext);
  options.onStart?.({ startBatch, committed: committed.size });
  if (startBatch >= plan.batches) return { startBatch, scored: 0 };
  if (parseArtifactUri(plan.modelUri) !== plan.modelSha256) throw new ValidationError(`Model ${plan.modelName} v${plan.version}: artifact ${plan.modelUri} is not sha256 ${plan.modelSha256}.`);
  const { signature } = await getModelVersion(deps.db, plan.modelName, plan.version);
  if (plan.outputTable !== null) await ensureOutputTable(deps.db, plan.outputTable, outputTableColumns(plan.keyColumns, signature));
  // PGlite: no COPY FROM STDIN, and one transaction at a time across connections (see orderedRowBatches).
  const realPostgres = await supportsCopyFromStdin(deps.db);
  const useCopy = plan.outputTable !== null && realPostgres;
  const needed = [...signature.features.map((f) => ({ name: f.name, type: FEATURE_TYPES[f.type] })), ...plan.keyColumns.filter((k) => !signature.features.some((f) => f.name === k.name))];
  const batches = plan.query !== null ? queryBatches(deps.db, plan, needed, startBatch, realPostgres) : datasetBatches(deps.artifacts, plan, startBatch);
  const session = await createSession(await deps.artifacts.get(plan.modelUri));
  const keyNames = plan.keyColumns.map((k) => k.name);
  const commit = async (index: number, part: Table) => {
    const stored = plan.outputFile !== null ? await deps.artifacts.put(tableToIPC(part, 'file')) : null;
    await withTransaction(deps.db, async (client) => {
      // The part row first: a concurrent attempt on the same batch waits on its key, then finds it committed.
      const claimed = await client.query(
        'insert into batch_scoring_parts (run_id, batch_index, uri, rows) values ($1, $2, $3, $4) on conflict (run_id, batch_index) do nothing',
        [plan.runId, index, stored?.uri ?? null, part.numRows],
      );
      if (claimed.rowCount === 1 && plan.outputTable !== null) await writeTableRows(client, plan.outputTable, plan.runId, part, useCopy);
    });
    options.onBatch?.({ batchIndex: index, nextBatch: index + 1, batches: plan.batches, rows: part.numRows });
  };
  // Batch b is stored and committed (I/O: fsync, COPY) while batch b + 1 is read and scored (CPU); commits stay in
  // batch order, one at a time, so the committed batches are always a prefix.
  let committing: Promise<void> | undefined;
  let scored = 0;
  try {
    for await (const batch of batches) {
      options.signal?.throwIfAborted();
      const scores = await scoreInSlices(session, signature, batch.table);
      const part = scoredTable(batch.table, batch.firstRow, keyNames, signature, scores);
      await committing;
      committing = commit(batch.index, part);
      // Handled here so a failure while the next batch scores is not an unhandled rejection; the next await throws it.
      committing.catch(() => {});
      scored++;
    }
    await committing;
  } finally {
    await committing?.catch(() => {});
    await batches.return(undefined);
    await session.release().catch(() => {});
  }
  return { startBatch, scored };
}

/** The result file's bytes: the parts joined in batch order, as Arrow IPC or Parquet. */
function encodeResult(result: Table, format: OutputFileFormat): Uint8Array {
  if (format === 'arrow') return tableToIPC(result, 'file');
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(result, 'stream')));
}

/**
 * Checks that every batch is committed, joins the parts (when a file is wanted) in batch order into one file,
 * and marks the run completed. Idempotent: the parts are deterministic, so the result has the same sha256
 * however often it is assembled.
 */
export async function assembleResult(deps: { db: Db; artifacts: ArtifactStore }, plan: BatchScoringPlan): Promise<BatchScoringResult> {
  const parts = await committedParts(deps.db, plan.runId);
  let rows = 0;
  for (let b = 0; b < plan.batches; b++) {
    const part = parts.get(b);
    if (!part) throw new Error(`Batch scoring run ${plan.runId}: batch ${b} of ${plan.batches} has no committed part.`);
    rows += part.rows;
  }
  if (rows !== plan.rows) throw new Error(`Batch scoring run ${plan.runId}: the parts hold ${rows} rows, not ${plan.rows}.`);
  let stored: { uri: string; sha256: string } | null = null;
  if (plan.outputFile !== null) {
    const tables: Table[] = [];
    for (let b = 0; b < plan.batches; b++) {
      const uri = parts.get(b)!.uri;
      if (uri === null) throw new Error(`Batch scoring run ${plan.runId}: batch ${b} was committed without its scored part.`);
      tables.push(tableFromIPC(await deps.artifacts.get(uri)));
    }
    stored = await deps.artifacts.put(encodeResult(new Table(tables.flatMap((t) => t.batches)), plan.outputFile));
  }
  await deps.db.query(
    `update batch_scoring_runs set status = 'completed', result_uri = $2, result_sha256 = $3, rows = $4, error = null, finished_at = coalesce(finished_at, now())
     where id = $1`,
    [plan.runId, stored?.uri ?? null, stored?.sha256 ?? null, plan.rows],
  );
  return {
    runId: plan.runId,
    modelName: plan.modelName,
    version: plan.version,
    datasetVersionId: plan.datasetVersionId,
    rows: plan.rows,
    batches: plan.batches,
    outputTable: plan.outputTable,
    resultUri: stored?.uri ?? null,
    resultSha256: stored?.sha256 ?? null,
  };
}

// ---- Run records ----

/** Records the run as running (idempotent: a retry or a re-run of the same id keeps the one row). */
export async function startRun(db: Db, runId: string, input: BatchScoringInput): Promise<void> {
  checkOneSource(input);
  const output = resolveOutput(input.output);
  await db.query(
    `insert into batch_scoring_runs (id, model_name, model_version, model_alias, dataset_version_id, source_query, key_columns, batch_rows, output_table, output_file, status, requested_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running', $11) on conflict (id) do nothing`,
    [
      runId,
      input.modelName,
      input.version ?? null,
      input.version === undefined ? (input.alias ?? PRODUCTION_ALIAS) : null,
      input.datasetVersionId ?? null,
      input.query ?? null,
      input.keyColumns ?? [],
      input.batchRows ?? DEFAULT_BATCH_ROWS,
      output.table,
      output.file,
      input.requestedBy ?? null,
    ],
  );
}

export async function recordPlan(db: Db, plan: BatchScoringPlan): Promise<void> {
  await db.query('update batch_scoring_runs set model_version = $2, batches = $3, rows = $4 where id = $1', [plan.runId, plan.version, plan.batches, plan.rows]);
}

export async function failRun(db: Db, runId: string, error: string): Promise<void> {
  await db.query(`update batch_scoring_runs set status = 'failed', error = $2, finished_at = now() where id = $1 and status <> 'completed'`, [runId, error]);
}

interface RunRow {
  id: string;
  status: BatchScoringStatus;
  model_name: string;
  model_version: number | null;
  model_alias: string | null;
  dataset_version_id: string | null;
  source_query: string | null;
  key_columns: string[];
  batch_rows: number;
  batches: number | null;
  batches_done: number;
  rows: string | null;
  output_table: string | null;
  output_file: OutputFileFormat | null;
  result_uri: string | null;
  result_sha256: string | null;
  error: string | null;
  requested_by: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export async function getRun(db: Db, runId: string): Promise<BatchScoringRun> {
  const { rows } = await db.query<RunRow>(
    `select r.*, (select count(*)::int from batch_scoring_parts p where p.run_id = r.id) as batches_done from batch_scoring_runs r where r.id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r) throw new NotFoundError(`Batch scoring run ${runId} does not exist.`);
  return {
    id: r.id,
    status: r.status,
    modelName: r.model_name,
    version: r.model_version,
    alias: r.model_alias,
    datasetVersionId: r.dataset_version_id,
    query: r.source_query,
    keyColumns: r.key_columns,
    batchRows: r.batch_rows,
    batches: r.batches,
    batchesDone: r.batches_done,
    rows: r.rows === null ? null : Number(r.rows),
    outputTable: r.output_table,
    outputFile: r.output_file,
    resultUri: r.result_uri,
    resultSha256: r.result_sha256,
    error: r.error,
    requestedBy: r.requested_by,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}
