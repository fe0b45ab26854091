// Ingestion runs and their quarantined rows: written by the run (idempotently, keyed by run id), read by the API.
import { NotFoundError } from '../errors.js';
import { withTransaction, type Db } from '../storage/db.js';
import type { IngestionMode, IngestionReport, QuarantinedRow, Severity } from './types.js';

export interface IngestionRun {
  id: string;
  datasetName: string;
  sourceUri: string;
  contractVersion: number | null;
  mode: IngestionMode;
  status: 'running' | 'succeeded' | 'failed';
  report: IngestionReport | null;
  error: string | null;
  datasetVersionId: string | null;
  startedAt: string;
  finishedAt: string | null;
}

interface RunRow {
  id: string;
  dataset_name: string;
  source_uri: string;
  contract_version: number | null;
  mode: IngestionMode;
  status: IngestionRun['status'];
  report: IngestionReport | null;
  error: string | null;
  dataset_version_id: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const fromRow = (r: RunRow): IngestionRun => ({
  id: r.id,
  datasetName: r.dataset_name,
  sourceUri: r.source_uri,
  contractVersion: r.contract_version,
  mode: r.mode,
  status: r.status,
  report: r.report,
  error: r.error,
  datasetVersionId: r.dataset_version_id,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
});

/** Marks a run as running; a retried attempt resets it and clears its earlier quarantine. */
export async function startRun(db: Db, run: { id: string; datasetName: string; sourceUri: string; contractVersion: number | null; mode: IngestionMode }): Promise<void> {
  await withTransaction(db, async (client) => {
    await client.query(
      `insert into ingestion_runs (id, dataset_name, source_uri, contract_version, mode, status)
       values ($1, $2, $3, $4, $5, 'running')
       on conflict (id) do update set status = 'running', report = null, error = null, dataset_version_id = null,
         contract_version = excluded.contract_version, finished_at = null`,
      [run.id, run.datasetName, run.sourceUri, run.contractVersion, run.mode],
    );
    await client.query('delete from dataset_quarantine where run_id = $1', [run.id]);
  });
}

const QUARANTINE_CHUNK = 1000;

/** Stores a run's quarantined rows (after startRun cleared any earlier attempt's). */
export async function saveQuarantine(db: Db, runId: string, rows: QuarantinedRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += QUARANTINE_CHUNK) {
    const chunk = rows.slice(start, start + QUARANTINE_CHUNK);
    await db.query(
      `insert into dataset_quarantine (run_id, seq, row_number, column_name, value, check_name, severity, reason)
       select $1, * from unnest($2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
       on conflict do nothing`,
      [
        runId,
        chunk.map((_, i) => start + i),
        chunk.map((r) => r.rowNumber),
        chunk.map((r) => r.column),
        chunk.map((r) => r.value),
        chunk.map((r) => r.check),
        chunk.map((r) => r.severity),
        chunk.map((r) => r.reason),
      ],
    );
  }
}

export async function finishRun(
  db: Db | { query: Db['query'] },
  runId: string,
  outcome: { status: 'succeeded' | 'failed'; report?: IngestionReport; error?: string; datasetVersionId?: string },
): Promise<void> {
  await db.query(
    `update ingestion_runs set status = $2, report = $3, error = $4, dataset_version_id = $5, finished_at = now() where id = $1`,
    [runId, outcome.status, outcome.report ? JSON.stringify(outcome.report) : null, outcome.error ?? null, outcome.datasetVersionId ?? null],
  );
}

export async function getRun(db: Db, runId: string): Promise<IngestionRun> {
  const { rows } = await db.query<RunRow>('select * from ingestion_runs where id = $1', [runId]);
  if (!rows[0]) throw new NotFoundError(`Ingestion run ${runId} does not exist.`);
  return fromRow(rows[0]);
}

export async function listRuns(db: Db, datasetName: string, limit = 50): Promise<IngestionRun[]> {
  const { rows } = await db.query<RunRow>('select * from ingestion_runs where dataset_name = $1 order by started_at desc limit $2', [datasetName, limit]);
  return rows.map(fromRow);
}

export interface QuarantineQuery {
  runId?: string;
  datasetVersionId?: string;
  datasetName?: string;
  check?: string;
  severity?: Severity;
  limit?: number;
  offset?: number;
}

/** Quarantined rows by run, by the version a run produced, or by dataset name (newest runs first). */
export async function listQuarantine(db: Db, q: QuarantineQuery): Promise<{ rows: QuarantinedRow[]; total: number }> {
  const params = [q.runId ?? null, q.datasetVersionId ?? null, q.datasetName ?? null, q.check ?? null, q.severity ?? null];
  const where = `from dataset_quarantine q join ingestion_runs r on r.id = q.run_id
    where ($1::text is null or q.run_id = $1) and ($2::text is null or r.dataset_version_id = $2)
      and ($3::text is null or r.dataset_name = $3) and ($4::text is null or q.check_name = $4) and ($5::text is null or q.severity = $5)`;
  const total = await db.query<{ n: string }>(`select count(*) as n ${where}`, params);
  const { rows } = await db.query<{ run_id: string; row_number: string; column_name: string | null; value: string | null; check_name: string; severity: Severity; reason: string }>(
    `select q.* ${where} order by r.started_at desc, q.run_id, q.seq limit $6 offset $7`,
    [...params, q.limit ?? 100, q.offset ?? 0],
  );
  return {
    total: Number(total.rows[0].n),
    rows: rows.map((r) => ({ runId: r.run_id, rowNumber: Number(r.row_number), column: r.column_name, value: r.value, check: r.check_name, severity: r.severity, reason: r.reason })),
  };
}
