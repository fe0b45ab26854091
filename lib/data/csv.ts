// Reads a CSV file (header row, quoted fields, optional gzip) into an Arrow table with inferred column types.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { Float64, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { DatasetSourceError } from '../errors.js';
import type { ColumnSchema, ColumnType } from './types.js';

/** Turns an absolute path or file:// URL into a path; anything else is a user error. */
export function localPathFromUri(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (path.isAbsolute(uri)) return uri;
  throw new DatasetSourceError(`Source ${JSON.stringify(uri)} must be an absolute path or a file:// URL readable by the worker.`);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function inferType(values: Array<string | null>): ColumnType {
  let sawValue = false;
  for (const v of values) {
    if (v === null) continue;
    sawValue = true;
    if (!NUMBER.test(v)) return 'utf8';
  }
  return sawValue ? 'float64' : 'utf8';
}

function toVector(values: Array<string | null>, type: ColumnType): Vector {
  if (type === 'float64') return vectorFromArray(values.map((v) => (v === null ? null : Number(v))), new Float64());
  return vectorFromArray(values, new Utf8());
}

export interface CsvReadResult {
  table: Table;
  columns: ColumnSchema[];
}

/**
 * Parses the whole file; empty fields become nulls. `onRows` is called every
 * `progressEvery` rows so a caller can heartbeat.
 */
export async function readCsv(uri: string, onRows?: (rowsRead: number) => void, progressEvery = 50_000): Promise<CsvReadResult> {
  const file = localPathFromUri(uri);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new DatasetSourceError(`CSV file not found: ${file}. Check the path; it must be readable by the worker process.`);
  if (!info.isFile()) throw new DatasetSourceError(`CSV source is not a file: ${file}`);

  let input: NodeJS.ReadableStream = createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(createGunzip());
  const parser = parse({ bom: true, relax_column_count: false, skip_empty_lines: true, trim: true });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let header: string[] | undefined;
  let columns: Array<Array<string | null>> = [];
  let rows = 0;
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
      if (onRows && rows % progressEvery === 0) onRows(rows);
    }
  } catch (err) {
    if (err instanceof DatasetSourceError) throw err;
    const e = err as Error & { code?: string };
    if (e.code === 'Z_DATA_ERROR') throw new DatasetSourceError(`${file} ends in .gz but is not valid gzip: ${e.message}`);
    throw new DatasetSourceError(`Cannot parse CSV ${file}: ${e.message}`);
  }
  if (!header) throw new DatasetSourceError(`CSV file ${file} is empty; it needs a header row and at least one data row.`);
  if (rows === 0) throw new DatasetSourceError(`CSV file ${file} has a header but no data rows.`);
  onRows?.(rows);

  const schema: ColumnSchema[] = [];
  const vectors: Record<string, Vector> = {};
  header.forEach((name, i) => {
    const type = inferType(columns[i]);
    vectors[name] = toVector(columns[i], type);
    schema.push({ name, type, nullCount: columns[i].reduce((n, v) => n + (v === null ? 1 : 0), 0) });
  });
  return { table: new Table(vectors), columns: schema };
}
