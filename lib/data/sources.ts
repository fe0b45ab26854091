// Ingestion sources (CSV, Parquet, Arrow IPC file or stream, a Postgres query), all read in row batches.
import { redactPassword } from '../util/redact.js';
import { createReadStream, openAsBlob } from 'node:fs';
import { RecordBatchReader, tableFromIPC, type RecordBatch, type Schema } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { DatasetSourceError } from '../errors.js';
import type { Db } from '../storage/db.js';
import { canonicalArrowType } from './cast.js';
import { columnReader } from './column-reader.js';
import { existingFile, inferCsvType, readCsvBatches } from './csv.js';
import type { ColumnType, SourceFormat } from './types.js';

/** A batch of source rows: one accessor per source column, in `OpenedSource.columns` order. */
export interface RowBatch {
  numRows: number;
  columns: Array<{ get(row: number): unknown }>;
}

export interface SourceColumn {
  name: string;
  /** The column's type as the source declares it (CSV: inferred from the first batch). */
  type: ColumnType;
  /** The type of the values the batches hold (CSV cells are always utf8 text). */
  valueType: ColumnType;
}

export interface OpenedSource {
  format: SourceFormat;
  columns: SourceColumn[];
  batches: AsyncGenerator<RowBatch>;
  /** Releases the source (connection, cursor, file) whether or not its batches were read to the end; idempotent. */
  close(): Promise<void>;
}

export interface SourceOptions {
  query?: string;
  format?: SourceFormat;
  batchSize?: number;
  /** The mlcycle database, used for `postgres:default`. */
  db?: Db;
}

const DEFAULT_BATCH = 10_000;

/** The format a URI names by its scheme or extension; unknown extensions read as CSV. */
export function detectFormat(uri: string, declared?: SourceFormat): SourceFormat {
  if (declared) return declared;
  if (/^postgres(ql)?:/i.test(uri)) return 'postgres';
  const lower = uri.toLowerCase().replace(/[?#].*$/, '');
  if (/\.(parquet|pq)$/.test(lower)) return 'parquet';
  if (/\.(arrow|arrows|feather|ipc)$/.test(lower)) return 'arrow';
  return 'csv';
}

/** Hides a password in a source URI before it is stored or reported. */
export function redactUri(uri: string): string {
  if (!/^postgres(ql)?:\/\//i.test(uri)) return uri;
  return redactPassword(uri) ?? 'postgres://(unparseable URL)';
}

/**
 * Opens a source and reads its first batch (to know the columns). Fails with a DatasetSourceError
 * naming the source for a missing, unreadable, malformed or empty one.
 */
export async function openSource(uri: string, options: SourceOptions = {}): Promise<OpenedSource> {
  const format = detectFormat(uri, options.format);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const opened =
    format === 'csv' ? await openCsv(uri, batchSize)
    : format === 'parquet' ? await openArrowBatches(format, uri, parquetBatches(uri, batchSize))
    : format === 'arrow' ? await openArrowBatches(format, uri, arrowIpcBatches(uri))
    : await openPostgres(uri, options, batchSize);
  return opened;
}

async function openCsv(uri: string, batchSize: number): Promise<OpenedSource> {
  const gen = readCsvBatches(uri, batchSize);
  const first = await gen.next();
  if (first.done) throw new DatasetSourceError(`CSV source ${uri} has no rows.`);
  const b = first.value;
  const columns = b.header.map((name, i) => ({ name, type: inferCsvType(b.columns[i]), valueType: 'utf8' as const }));
  const toRows = (batch: typeof b): RowBatch => ({ numRows: batch.numRows, columns: batch.columns.map((col) => ({ get: (i: number) => col[i] })) });
  async function* all(): AsyncGenerator<RowBatch> {
    yield toRows(b);
    for await (const next of gen) yield toRows(next);
  }
  const batches = all();
  return { format: 'csv', columns, batches, close: async () => void (await batches.return(undefined), await gen.return(undefined)) };
}

async function* parquetBatches(uri: string, batchSize: number): AsyncGenerator<RecordBatch> {
  const file = await existingFile(uri, 'Parquet');
  let parquet: ParquetFile;
  try {
    parquet = await ParquetFile.fromFile(await openAsBlob(file));
  } catch (err) {
    throw new DatasetSourceError(`${file} is not a readable Parquet file: ${errorText(err)}`);
  }
  try {
    const stream = (await parquet.stream({ batchSize })) as unknown as AsyncIterable<{ intoIPCStream(): Uint8Array }>;
    for await (const wasmBatch of stream) {
      // One Arrow JS batch per wasm batch; intoIPCStream frees the wasm copy.
      for (const batch of tableFromIPC(wasmBatch.intoIPCStream()).batches) yield batch;
    }
  } catch (err) {
    if (err instanceof DatasetSourceError) throw err;
    throw new DatasetSourceError(`Cannot read Parquet ${file}: ${errorText(err)}`);
  } finally {
    parquet.free();
  }
}

async function* arrowIpcBatches(uri: string): AsyncGenerator<RecordBatch> {
  const file = await existingFile(uri, 'Arrow IPC');
  try {
    // Detects file or stream format from the leading bytes; reads batch by batch either way.
    const reader = await RecordBatchReader.from(createReadStream(file));
    for await (const batch of reader) yield batch;
  } catch (err) {
    throw new DatasetSourceError(`Cannot read Arrow IPC ${file} (expected an Arrow IPC file or stream): ${errorText(err)}`);
  }
}

function schemaColumns(uri: string, schema: Schema): SourceColumn[] {
  return schema.fields.map((f) => {
    const type = canonicalArrowType(f);
    if (!type) {
      throw new DatasetSourceError(
        `Column ${JSON.stringify(f.name)} of ${uri} has type ${String(f.type)}, which ingestion cannot store; ` +
          'use numbers, text, booleans, dates or timestamps (or cast it in the source).',
      );
    }
    return { name: f.name, type, valueType: type };
  });
}

async function openArrowBatches(format: SourceFormat, uri: string, gen: AsyncGenerator<RecordBatch>): Promise<OpenedSource> {
  let first = await gen.next();
  while (!first.done && first.value.numRows === 0) first = await gen.next();
  if (first.done) throw new DatasetSourceError(`${format === 'parquet' ? 'Parquet' : 'Arrow IPC'} source ${uri} has no rows.`);
  const columns = schemaColumns(uri, first.value.schema);
  const names = columns.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new DatasetSourceError(`${uri} has two columns named ${JSON.stringify(dup)}.`);
  const toRows = (batch: RecordBatch): RowBatch => ({ numRows: batch.numRows, columns: names.map((_, i) => ({ get: columnReader(batch.getChildAt(i)) })) });
  const head = first.value;
  async function* all(): AsyncGenerator<RowBatch> {
    yield toRows(head);
    for await (const next of gen) if (next.numRows > 0) yield toRows(next);
  }
  const batches = all();
  return { format, columns, batches, close: async () => void (await batches.return(undefined), await gen.return(undefined)) };
}

const PG_FLOAT = new Set([20, 21, 23, 26, 700, 701, 1700]);
const PG_BOOL = 16;
const PG_TIME = new Set([1082, 1114, 1184]);
// date and timestamp-without-zone arrive as text and are read as UTC, not the worker's local zone.
const RAW_TEXT = new Set([1082, 1114]);

function pgColumnType(oid: number): ColumnType {
  if (PG_FLOAT.has(oid)) return 'float64';
  if (oid === PG_BOOL) return 'bool';
  if (PG_TIME.has(oid)) return 'timestamp';
  return 'utf8';
}

async function openPostgres(uri: string, options: SourceOptions, batchSize: number): Promise<OpenedSource> {
  const where = redactUri(uri);
  if (!options.query?.trim()) throw new DatasetSourceError(`A Postgres source (${where}) needs a query.`);
  let client: pg.PoolClient | pg.Client;
  let release: () => Promise<void>;
  if (/^postgres(ql)?:default$/i.test(uri)) {
    if (!options.db) throw new DatasetSourceError('postgres:default needs the mlcycle database, which this caller did not pass.');
    const c = await options.db.connect();
    client = c;
    release = async () => c.release();
  } else {
    const c = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
    } catch (err) {
      throw new DatasetSourceError(`Cannot connect to the Postgres source ${where}: ${errorText(err)}`);
    }
    client = c;
    release = () => c.end();
  }
  const types = {
    getTypeParser: (oid: number, format?: string) => (RAW_TEXT.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')),
  };
  let cursor: Cursor | undefined;
  const read = (n: number) =>
    new Promise<{ rows: unknown[][]; fields: Array<{ name: string; dataTypeID: number }> }>((resolve, reject) => {
      cursor!.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as unknown as unknown[][], fields: (result?.fields ?? []) as never })));
    });
  let first: Awaited<ReturnType<typeof read>>;
  try {
    // Read-only: an ingestion query cannot change the source.
    await client.query('begin read only');
    cursor = client.query(new Cursor(options.query, [], { rowMode: 'array', types } as never));
    first = await read(batchSize);
  } catch (err) {
    await client.query('rollback').catch(() => {});
    await release();
    throw new DatasetSourceError(`The Postgres source query failed on ${where}: ${errorText(err)}`);
  }
  if (first.rows.length === 0) {
    await client.query('rollback').catch(() => {});
    await release();
    throw new DatasetSourceError(`The Postgres source query on ${where} returned no rows.`);
  }
  const columns = first.fields.map((f) => ({ name: f.name, type: pgColumnType(f.dataTypeID), valueType: pgColumnType(f.dataTypeID) }));
  const toRows = (rows: unknown[][]): RowBatch => ({
    numRows: rows.length,
    columns: columns.map((_, c) => ({ get: (i: number) => rows[i][c] })),
  });
  async function* all(): AsyncGenerator<RowBatch> {
    try {
      let rows = first.rows;
      while (rows.length > 0) {
        yield toRows(rows);
        if (rows.length < batchSize) break;
        try {
          rows = (await read(batchSize)).rows;
        } catch (err) {
          throw new DatasetSourceError(`Reading the Postgres source ${where} failed: ${errorText(err)}`);
        }
      }
    } finally {
      await close();
    }
  }
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => cursor!.close(() => resolve()));
    await client.query('rollback').catch(() => {});
    await release();
  }
  return { format: 'postgres', columns, batches: all(), close };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
