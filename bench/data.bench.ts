// Ingestion: CSV and Parquet ingestion of 1M rows x 10 columns (typed by a contract, checked, profiled, stored as a
// version) against `psql`'s `\copy` of the same CSV into a plain table, measured in the same run; and
// the peak RSS of ingesting a 3M x 10 CSV, in a child process of its own, against the 1.5 GB bound.
// Needs DATABASE_URL (a scratch database is created, migrated and dropped). Files go to a temp directory.
// Scale: BENCH_DATA_ROWS, BENCH_DATA_RSS_ROWS, BENCH_DATA_REPEATS.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Bool, Float64, RecordBatch, Table, TimestampMillisecond, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { registerContract } from '../lib/data/contracts.js';
import { ingestDataset } from '../lib/data/datasets.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb, type Db } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { scratchDatabase } from './scratch-db.js';

const ROWS = Number(process.env.BENCH_DATA_ROWS ?? 1_000_000);
const RSS_ROWS = Number(process.env.BENCH_DATA_RSS_ROWS ?? 3_000_000);
const REPEATS = Number(process.env.BENCH_DATA_REPEATS ?? 3);
const RSS_BOUND_BYTES = 1.5 * 2 ** 30;
const BASE_MS = Date.UTC(2025, 0, 1);
const YEAR_SECONDS = 365 * 86_400;
const SEGMENTS = ['retail', 'smb', 'corporate', 'private'];

/** The ten columns, as the contract declares them and as the reference table's SQL types. */
const COLUMNS = [
  { name: 'id', type: 'float64', sql: 'float8' },
  { name: 'event_time', type: 'timestamp', sql: 'timestamptz' },
  { name: 'amount', type: 'float64', sql: 'float8' },
  { name: 'score', type: 'float64', sql: 'float8' },
  { name: 'age', type: 'float64', sql: 'float8' },
  { name: 'balance', type: 'float64', sql: 'float8' },
  { name: 'tenure', type: 'float64', sql: 'float8' },
  { name: 'segment', type: 'utf8', sql: 'text' },
  { name: 'region', type: 'utf8', sql: 'text' },
  { name: 'active', type: 'bool', sql: 'boolean' },
] as const;

const CONTRACT = {
  columns: COLUMNS.map(({ name, type }) => ({
    name,
    type,
    ...(name === 'id' ? { notNull: true } : {}),
    ...(name === 'amount' ? { range: { min: 0, max: 1000 } } : {}),
    ...(name === 'segment' ? { allowed: { values: SEGMENTS } } : {}),
  })),
  eventTime: 'event_time',
};
/** The same, plus exact dedup, keep-latest by id and id unique: every row goes through the key index in Postgres. */
const DEDUP_CONTRACT = { ...CONTRACT, dedup: { exact: true, key: ['id'] }, unique: [{ columns: ['id'] }] };

/** Row i's values (deterministic: multiplicative hashes of the row number), typed as stored. */
function row(i: number): [number, number, number, number, number, number | null, number, string, string, boolean] {
  return [
    i + 1,
    BASE_MS + ((i * 40_503) % YEAR_SECONDS) * 1000,
    ((i * 7_919) % 100_000) / 100,
    ((i * 2_654_435_761) % 1_000_003) / 1_000_003,
    18 + (i % 60),
    i % 50 === 0 ? null : ((i * 104_729) % 10_000_000) / 100 - 20_000,
    (i * 31) % 240,
    SEGMENTS[i % 4],
    `r${(i * 37) % 500}`,
    i % 3 !== 0,
  ];
}

async function writeCsv(file: string, rows: number): Promise<void> {
  const lines = function* () {
    yield `${COLUMNS.map((c) => c.name).join(',')}\n`;
    for (let start = 0; start < rows; start += 10_000) {
      let chunk = '';
      for (let i = start; i < Math.min(rows, start + 10_000); i++) {
        const [id, at, amount, score, age, balance, tenure, segment, region, active] = row(i);
        chunk += `${id},${new Date(at).toISOString()},${amount},${score},${age},${balance ?? ''},${tenure},${segment},${region},${active}\n`;
      }
      yield chunk;
    }
  };
  await pipeline(lines, createWriteStream(file));
}

/** The same rows as Parquet (snappy, 100k-row groups), built 100k rows at a time. */
async function writeParquetFile(file: string, rows: number): Promise<void> {
  const types = [new Float64(), new TimestampMillisecond(), new Float64(), new Float64(), new Float64(), new Float64(), new Float64(), new Utf8(), new Utf8(), new Bool()];
  const batches: RecordBatch[] = [];
  for (let start = 0; start < rows; start += 100_000) {
    const n = Math.min(rows, start + 100_000) - start;
    const values = COLUMNS.map(() => new Array<unknown>(n));
    for (let k = 0; k < n; k++) row(start + k).forEach((v, c) => (values[c][k] = v));
    batches.push(...new Table(Object.fromEntries(COLUMNS.map((c, j) => [c.name, vectorFromArray(values[j], types[j])]))).batches);
  }
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setMaxRowGroupSize(100_000).build();
  await writeFile(file, writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(batches), 'stream')), props));
}

const seconds = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

/** One ingestion of `file` as dataset `name`, in this process. */
async function ingestOnce(databaseUrl: string, artifactDir: string, name: string, file: string, contract: object = CONTRACT) {
  const db = await connectDb(databaseUrl, 4);
  try {
    await registerContract(db, name, contract);
    const artifacts = new ArtifactStore(artifactDir);
    const t = process.hrtime.bigint();
    const version = await ingestDataset({ db, artifacts }, { name, sourceUri: file });
    return { seconds: seconds(t), rows: version.rowCount, sha256: version.sha256, bytes: (await stat(artifacts.pathFor(version.sha256))).size };
  } finally {
    await db.end();
  }
}

// Child mode: ingest one file and print the process's peak RSS, so nothing the parent holds is counted.
if (process.argv[2] === '--ingest-child') {
  const [databaseUrl, artifactDir, name, file] = process.argv.slice(3);
  const result = await ingestOnce(databaseUrl, artifactDir, name, file);
  // maxRSS is in kilobytes.
  console.log(JSON.stringify({ ...result, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

// The reference is psql's \copy (COPY FROM STDIN), which the embedded PGlite's wire server cannot take.
if (!process.env.DATABASE_URL) throw new Error('The data benchmark needs DATABASE_URL (a real Postgres; a scratch database is created and dropped).');

/** `psql`'s `\copy` of the CSV into a plain table with the same column types: the issue's reference. */
async function copyReference(db: Db, databaseUrl: string, file: string): Promise<number> {
  await db.query('drop table if exists copy_reference');
  await db.query(`create table copy_reference (${COLUMNS.map((c) => `${c.name} ${c.sql}`).join(', ')})`);
  const t = process.hrtime.bigint();
  await run('psql', [databaseUrl, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy copy_reference from '${file}' (format csv, header true)`]);
  const s = seconds(t);
  const { rows } = await db.query<{ n: string }>('select count(*) as n from copy_reference');
  if (Number(rows[0].n) !== ROWS) throw new Error(`COPY loaded ${rows[0].n} rows, expected ${ROWS}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const here = fileURLToPath(import.meta.url);
const run = promisify(execFile);

const scratch = await scratchDatabase('data');
const db = await connectDb(scratch.url, 4);
const dir = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-bench-data-'));
try {
  await migrate(db);
  const artifactDir = path.join(dir, 'artifacts');
  const csv = path.join(dir, 'rows.csv');
  const parquet = path.join(dir, 'rows.parquet');
  await writeCsv(csv, ROWS);
  await writeParquetFile(parquet, ROWS);

  // Interleaved rounds, so a change in the machine's load touches every method alike.
  const times = { copy: [] as number[], csv: [] as number[], parquet: [] as number[], dedup: [] as number[] };
  const versions: Array<Awaited<ReturnType<typeof ingestOnce>>> = [];
  for (let r = 0; r < REPEATS; r++) {
    times.copy.push(await copyReference(db, scratch.url, csv));
    const csvVersion = await ingestOnce(scratch.url, artifactDir, `bench-csv-${r}`, csv);
    const parquetVersion = await ingestOnce(scratch.url, artifactDir, `bench-parquet-${r}`, parquet);
    const dedupVersion = await ingestOnce(scratch.url, artifactDir, `bench-dedup-${r}`, csv, DEDUP_CONTRACT);
    times.csv.push(csvVersion.seconds);
    times.parquet.push(parquetVersion.seconds);
    times.dedup.push(dedupVersion.seconds);
    versions.push(csvVersion, parquetVersion, dedupVersion);
  }
  await db.query('drop table copy_reference');
  // Same rows (none of them duplicates), same columns: every ingestion must give the same version.
  if (versions.some((v) => v.rows !== ROWS || v.sha256 !== versions[0].sha256)) {
    throw new Error(`The ingestions gave different versions: ${JSON.stringify(versions.map((v) => [v.rows, v.sha256]))}`);
  }

  // Peak RSS at 3M rows, in a fresh process.
  const bigCsv = path.join(dir, 'rows-rss.csv');
  await writeCsv(bigCsv, RSS_ROWS);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', here, '--ingest-child', scratch.url, artifactDir, 'bench-rss', bigCsv], {
    maxBuffer: 1 << 20,
    timeout: 20 * 60_000,
  });
  const rss = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; rows: number; maxRssBytes: number };
  if (rss.rows !== RSS_ROWS) throw new Error(`The 3M-row version holds ${rss.rows} rows, expected ${RSS_ROWS}`);

  const copy = median(times.copy);
  const csvS = median(times.csv);
  const parquetS = median(times.parquet);
  const dedupS = median(times.dedup);
  const rate = (s: number) => `${Math.round(ROWS / s).toLocaleString('en-US')}`;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  const scaled = ROWS !== 1_000_000 || RSS_ROWS !== 3_000_000;
  console.log(
    [
      `## Data ingestion (${ROWS.toLocaleString('en-US')} rows x ${COLUMNS.length} columns${scaled ? ', scaled down' : ''})`,
      '',
      'Each ingestion reads the file in batches, casts to the contract types (float64, timestamp, utf8, bool), checks',
      'notNull / range / allowed, profiles every column, stores the canonical Arrow IPC version and writes its row.',
      'The reference is `psql -c "\\copy ... from \'file.csv\' (format csv, header true)"` of the same CSV into a plain table',
      'with the same column types, in the same run.',
      '',
      '| method | seconds | rows/s | ratio to COPY |',
      '|---|---|---|---|',
      `| COPY of the CSV (reference) | ${copy.toFixed(2)} | ${rate(copy)} | 1.0× |`,
      `| CSV ingestion | ${csvS.toFixed(2)} | ${rate(csvS)} | ${(csvS / copy).toFixed(1)}× |`,
      `| Parquet (snappy) ingestion | ${parquetS.toFixed(2)} | ${rate(parquetS)} | ${(parquetS / copy).toFixed(1)}× |`,
      `| CSV ingestion with dedup (exact + latest by id) and unique id | ${dedupS.toFixed(2)} | ${rate(dedupS)} | ${(dedupS / copy).toFixed(1)}× |`,
      '',
      `Version: ${mb(versions[0].bytes)} of Arrow IPC, the same sha256 from every method. Median of ${REPEATS} interleaved rounds.`,
      '',
      `### Peak memory, ${RSS_ROWS.toLocaleString('en-US')} x ${COLUMNS.length} CSV`,
      '',
      '| measure | value |',
      '|---|---|',
      `| peak RSS of the ingesting process (\`process.resourceUsage().maxRSS\`) | ${mb(rss.maxRssBytes)} |`,
      `| bound | ${mb(RSS_BOUND_BYTES)} (${rss.maxRssBytes <= RSS_BOUND_BYTES ? 'met' : 'EXCEEDED'}) |`,
      `| ingestion time | ${rss.seconds.toFixed(1)} s (${Math.round(RSS_ROWS / rss.seconds).toLocaleString('en-US')} rows/s) |`,
      '',
      "Absolute times move with the machine's load (see the load average below); the ratios are the figures to compare.",
    ].join('\n'),
  );
} finally {
  await db.end();
  await rm(dir, { recursive: true, force: true });
  await scratch.drop();
}
