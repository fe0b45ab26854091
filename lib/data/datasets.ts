// Dataset versions: ingest a source once into content-addressed Arrow IPC under its contract, and look versions up.
import { randomUUID } from 'node:crypto';
import { tableFromIPC, type RecordBatch, type Table } from 'apache-arrow';
import { DataContractError, DatasetSourceError, NotFoundError, ValidationError } from '../errors.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { withTransaction, type Db } from '../storage/db.js';
import { findContract } from './contracts.js';
import { formatReport, runPipeline } from './ingest.js';
import { readIpcFile } from './ipc-file-sink.js';
import { profileBatches, type DatasetProfile } from './profile.js';
import { finishRun, saveQuarantine, startRun } from './runs.js';
import { openSource, redactUri } from './sources.js';
import { DATASET_NAME_PATTERN, type ColumnSchema, type DatasetVersion, type IngestionInput, type IngestionResult, type Lineage } from './types.js';

interface DatasetRow {
  id: string;
  name: string;
  version: number;
  sha256: string;
  uri: string;
  row_count: string;
  schema: ColumnSchema[];
  source_uri: string;
  contract_version: number | null;
  parent_ids: string[];
  ingestion_run_id: string | null;
  lineage: Lineage | null;
  created_at: Date;
}

const VERSION_COLUMNS = 'id, name, version, sha256, uri, row_count, schema, source_uri, contract_version, parent_ids, ingestion_run_id, lineage, created_at';

function fromRow(r: DatasetRow): DatasetVersion {
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    sha256: r.sha256,
    uri: r.uri,
    rowCount: Number(r.row_count),
    columns: r.schema,
    sourceUri: r.source_uri,
    // Versions from before lineage was recorded get what the row itself says.
    lineage: r.lineage ?? {
      sourceUri: r.source_uri,
      contractVersion: r.contract_version,
      parentIds: r.parent_ids ?? [],
      ingestionRunId: r.ingestion_run_id,
      rowsRead: Number(r.row_count),
      rowsQuarantined: 0,
      duplicatesDropped: 0,
      rowsFromParent: 0,
    },
    createdAt: r.created_at.toISOString(),
  };
}

/** Dataset version ids are derived from content, so a retried ingestion finds its own row. */
export function datasetVersionId(name: string, sha256: string): string {
  return `${name}@${sha256.slice(0, 16)}`;
}

export interface IngestProgress {
  rowsRead: number;
  rowsQuarantined: number;
}

/**
 * Reads the source in batches, checks it against the dataset's contract, dedups, stores the
 * canonical Arrow IPC bytes and records the version with its lineage and profile in one
 * transaction. Idempotent: identical data under the same name returns the existing version with
 * `created: false`. A contract breach stores the run's report and quarantine, commits no
 * version, and throws DataContractError with the readable report.
 */
export async function ingestDataset(
  deps: { db: Db; artifacts: ArtifactStore },
  input: IngestionInput,
  onProgress?: (progress: IngestProgress) => void,
  now: () => number = Date.now,
): Promise<IngestionResult> {
  if (!new RegExp(DATASET_NAME_PATTERN).test(input.name)) {
    throw new DatasetSourceError(`Dataset name ${JSON.stringify(input.name)} must match ${DATASET_NAME_PATTERN}.`);
  }
  const runId = input.runId ?? `direct-${randomUUID()}`;
  const mode = input.mode ?? 'replace';
  const sourceUri = redactUri(input.sourceUri);
  // The pinned contract version, or the latest when none is pinned.
  const contract = await findContract(deps.db, input.name, input.contractVersion);
  if (!contract && input.contractVersion !== undefined) {
    throw new ValidationError(`Dataset ${JSON.stringify(input.name)} has no contract version ${input.contractVersion}; register it first.`);
  }
  const latest = await latestVersion(deps.db, input.name);

  await startRun(deps.db, { id: runId, datasetName: input.name, sourceUri, contractVersion: contract?.version ?? null, mode });
  // A retry of this run may find scratch files of the attempt that died; they are of no use to it.
  await deps.artifacts.removeTemp(runId);
  try {
    const parent = mode === 'append' && latest ? readVersionBatches(deps.artifacts, latest.uri, { verify: true }) : undefined;
    const source = await openSource(input.sourceUri, { query: input.query, format: input.format, db: deps.db });
    const result = await runPipeline({
      runId,
      datasetName: input.name,
      sourceUri,
      source,
      contract: contract?.contract,
      contractVersion: contract?.version ?? null,
      parent,
      previousColumns: latest?.columns,
      now: now(),
      onProgress: (rowsRead, rowsQuarantined) => onProgress?.({ rowsRead, rowsQuarantined }),
      artifacts: deps.artifacts,
      db: deps.db,
    });
    const { report } = result;
    onProgress?.({ rowsRead: report.rowsRead, rowsQuarantined: report.rowsQuarantined });
    await saveQuarantine(deps.db, runId, result.quarantine);
    if (!result.artifact) {
      const text = formatReport(report);
      await finishRun(deps.db, runId, { status: 'failed', report, error: text });
      throw new DataContractError(text);
    }

    const stored = result.artifact;
    const rowCount = report.rowsWritten;
    const id = datasetVersionId(input.name, stored.sha256);
    const profile = await profileBatches(() => readVersionBatches(deps.artifacts, stored.uri, { verify: false }), result.columns, rowCount);
    const parentIds = parent && latest ? [latest.id] : [];
    const lineage: Lineage = {
      sourceUri,
      contractVersion: contract?.version ?? null,
      parentIds,
      ingestionRunId: runId,
      rowsRead: report.rowsRead,
      rowsQuarantined: report.rowsQuarantined,
      duplicatesDropped: report.duplicates.exact + report.duplicates.byKey,
      rowsFromParent: result.rowsFromParent,
    };

    return await withTransaction(deps.db, async (client) => {
      // Serialise version numbering per dataset name.
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`dataset:${input.name}`]);
      const existing = await client.query<DatasetRow>(`select ${VERSION_COLUMNS} from dataset_versions where id = $1`, [id]);
      let row = existing.rows[0];
      const created = !row;
      if (!row) {
        const inserted = await client.query<DatasetRow>(
          `insert into dataset_versions (id, name, version, sha256, uri, format, row_count, schema, source_uri, contract_version, parent_ids, ingestion_run_id, lineage, profile)
           values ($1, $2, (select coalesce(max(version), 0) + 1 from dataset_versions where name = $2), $3, $4, 'arrow-ipc-file', $5, $6, $7, $8, $9, $10, $11, $12)
           returning ${VERSION_COLUMNS}`,
          [id, input.name, stored.sha256, stored.uri, rowCount, JSON.stringify(result.columns), sourceUri, contract?.version ?? null, parentIds, runId, JSON.stringify(lineage), JSON.stringify(profile)],
        );
        row = inserted.rows[0];
      }
      await finishRun(client, runId, { status: 'succeeded', report, datasetVersionId: row.id });
      return { ...fromRow(row), created, report };
    });
  } catch (err) {
    if (!(err instanceof DataContractError)) {
      await finishRun(deps.db, runId, { status: 'failed', error: err instanceof Error ? err.message : String(err) }).catch(() => {});
    }
    throw err;
  }
}

async function latestVersion(db: Db, name: string): Promise<DatasetVersion | undefined> {
  const { rows } = await db.query<DatasetRow>(`select ${VERSION_COLUMNS} from dataset_versions where name = $1 order by version desc limit 1`, [name]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function getDatasetVersion(db: Db, id: string): Promise<DatasetVersion> {
  const { rows } = await db.query<DatasetRow>(`select ${VERSION_COLUMNS} from dataset_versions where id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`Dataset version ${id} does not exist.`);
  return fromRow(rows[0]);
}

export async function listDatasetVersions(db: Db, name?: string): Promise<DatasetVersion[]> {
  const { rows } = await db.query<DatasetRow>(
    `select ${VERSION_COLUMNS} from dataset_versions where $1::text is null or name = $1 order by name, version desc`,
    [name ?? null],
  );
  return rows.map(fromRow);
}

/**
 * A stored version's record batches, read one at a time from the artifact file (footer first, so
 * never the whole file in memory). `verify` re-hashes the file before the first batch.
 */
export async function* readVersionBatches(artifacts: ArtifactStore, uri: string, opts: { verify: boolean }): AsyncGenerator<RecordBatch> {
  if (opts.verify) await artifacts.verify(uri);
  yield* readIpcFile(await artifacts.openFile(uri));
}

/** Loads a version's Arrow table from the artifact store (sha256 verified). */
export async function loadDatasetTable(deps: { db: Db; artifacts: ArtifactStore }, id: string): Promise<{ version: DatasetVersion; table: Table }> {
  const version = await getDatasetVersion(deps.db, id);
  const table = tableFromIPC(await deps.artifacts.get(version.uri));
  return { version, table };
}

/**
 * The quality profile of a version. Versions ingested before profiles existed get theirs
 * computed from the stored table once, and kept.
 */
export async function getDatasetProfile(deps: { db: Db; artifacts: ArtifactStore }, id: string): Promise<DatasetProfile> {
  const { rows } = await deps.db.query<{ profile: DatasetProfile | null }>('select profile from dataset_versions where id = $1', [id]);
  if (!rows[0]) throw new NotFoundError(`Dataset version ${id} does not exist.`);
  if (rows[0].profile) return rows[0].profile;
  const version = await getDatasetVersion(deps.db, id);
  const profile = await profileBatches(() => readVersionBatches(deps.artifacts, version.uri, { verify: true }), version.columns, version.rowCount);
  await deps.db.query('update dataset_versions set profile = $2 where id = $1 and profile is null', [id, JSON.stringify(profile)]);
  return profile;
}
