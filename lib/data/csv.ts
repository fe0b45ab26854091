// Reads a CSV file (header row, quoted fields, optional gzip, strict UTF-8) in row batches, and
// infers column types from the first batch.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { Bool, Float64, Table, TimestampMillisecond, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { DatasetSourceError } from '../errors.js';
import { castValue } from './cast.js';
import type { ColumnSchema, ColumnType } from './types.js';

/** Turns an absolute path or file:// URL into a path; anything else is a user error. */
export function localPathFromUri(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (path.isAbsolute(uri)) return uri;
  throw new DatasetSourceError(`Source ${JSON.stringify(uri)} must be an absolute path or a file:// URL readable by the worker.`);
}

/** Checks that a local source file exists and is a file; returns its path. */
export async function existingFile(uri: string, kind: string): Promise<string> {
  const file = localPathFromUri(uri);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new DatasetSourceError(`${kind} file not found: ${file}. Check the path; it must be readable by the worker process.`);
  if (!info.isFile()) throw new DatasetSourceError(`${kind} source is not a file: ${file}`);
  return file;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** float64 when every present value is a number, else utf8 (also for a column with no values). */
export function inferCsvType(values: ArrayLike<string | null>): ColumnType {
  let sawValue = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) continue;
    sawValue = true;
    if (!NUMBER.test(v)) return 'utf8';
  }
  return sawValue ? 'float64' : 'utf8';
}

/** A batch of CSV rows: one array of raw cells (null for empty) per column. */
export interface CsvBatch {
  header: string[];
  columns: Array<Array<string | null>>;
  numRows: number;
  /** 1-based data row number of the batch's first row. */
  firstRow: number;
}

/** Decodes bytes as strict UTF-8, failing with the line where an invalid byte sequence sits. */
function strictUtf8(file: string): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done) {
      try {
        const text = decoder.decode(chunk, { stream: true });
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
        done(null, text);
      } catch {
        // Find the first bad sequence in this chunk to name its line.
        let at = 0;
        const probe = new TextDecoder('utf-8', { fatal: true });
        for (let end = 1; end <= chunk.length; end++) {
          try {
            probe.decode(chunk.subarray(at, end), { stream: true });
            at = end;
          } catch {
            break;
          }
        }
        let badLine = line;
        for (let i = 0; i < at; i++) if (chunk[i] === 0x0a) badLine++;
        done(new DatasetSourceError(`${file} is not valid UTF-8: invalid byte sequence on line ${badLine}. Re-encode the file as UTF-8.`));
      }
    },
    flush(done) {
      try {
        decoder.decode();
        done();
      } catch {
        done(new DatasetSourceError(`${file} is not valid UTF-8: it ends inside a multi-byte character (line ${line}).`));
      }
    },
  });
}

/**
 * Streams the file in batches of `batchSize` rows; empty fields become nulls. Memory holds one
 * batch at a time. Fails with file and line for a missing file, an empty file, a header without
 * rows, a ragged row, invalid UTF-8 or bad gzip.
 */
export async function* readCsvBatches(uri: string, batchSize = 10_000): AsyncGenerator<CsvBatch> {
  const file = await existingFile(uri, 'CSV');
  let input: NodeJS.ReadableStream = createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(createGunzip());
  const utf8 = strictUtf8(file);
  const parser = parse({ bom: true, relax_column_count: false, skip_empty_lines: true, trim: true });
  input.on('error', (err) => utf8.destroy(err));
  utf8.on('error', (err) => parser.destroy(err));
  input.pipe(utf8).pipe(parser);

  let header: string[] | undefined;
  let columns: Array<Array<string | null>> = [];
  let rows = 0;
  let batchRows = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        const blank = header.findIndex((h) => h === '');
        if (blank >= 0) throw new DatasetSourceError(`CSV header of ${file} has an empty column name at position ${blank + 1}.`);
        const dup = header.find((h, i) => header!.indexOf(h) !== i);
        if (dup !== undefined) throw new DatasetSourceError(`CSV header of ${file} repeats the column name ${JSON.stringify(dup)}.`);
        columns = header.map(() => []);
        continue;
      }
      for (let c = 0; c < record.length; c++) columns[c].push(record[c] === '' ? null : record[c]);
      rows++;
      batchRows++;
      if (batchRows === batchSize) {
        yield { header, columns, numRows: batchRows, firstRow: rows - batchRows + 1 };
        columns = header.map(() => []);
        batchRows = 0;
      }
    }
  } catch (err) {
    parser.destroy();
    if (err instanceof DatasetSourceError) throw err;
    const e = err as Error & { code?: string };
    if (e.code === 'Z_DATA_ERROR') throw new DatasetSourceError(`${file} ends in .gz but is not valid gzip: ${e.message}`);
    throw new DatasetSourceError(`Cannot parse CSV ${file}: ${e.message}`);
  }
  if (!header) throw new DatasetSourceError(`CSV file ${file} is empty; it needs a header row and at least one data row.`);
  if (rows === 0) throw new DatasetSourceError(`CSV file ${file} has a header but no data rows.`);
  if (batchRows > 0) yield { header, columns, numRows: batchRows, firstRow: rows - batchRows + 1 };
}

export interface CsvReadResult {
  table: Table;
  columns: ColumnSchema[];
}

const ARROW_TYPES = { float64: () => new Float64(), utf8: () => new Utf8(), bool: () => new Bool(), timestamp: () => new TimestampMillisecond() };

/**
 * Reads a whole (small) CSV into one Arrow table with types inferred over all rows. Ingestion
 * streams with `readCsvBatches` instead; this is for callers that want a table in one go.
 */
export async function readCsv(uri: string): Promise<CsvReadResult> {
  let header: string[] = [];
  let all: Array<Array<string | null>> = [];
  for await (const batch of readCsvBatches(uri)) {
    if (all.length === 0) {
      header = batch.header;
      all = header.map(() => []);
    }
    batch.columns.forEach((col, i) => all[i].push(...col));
  }
  const vectors: Record<string, Vector> = {};
  const schema: ColumnSchema[] = header.map((name, i) => {
    const type = inferCsvType(all[i]);
    vectors[name] = vectorFromArray(
      all[i].map((v) => (v === null ? null : castValue(v, 'utf8', type).value)),
      ARROW_TYPES[type](),
    );
    return { name, type, nullCount: all[i].reduce((n, v) => n + (v === null ? 1 : 0), 0) };
  });
  return { table: new Table(vectors), columns: schema };
}
