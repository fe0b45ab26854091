// Dataset versions: ingest a source once into content-addressed Arrow IPC, and look versions up.
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { DatasetSourceError, NotFoundError } from '../errors.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { withTransaction, type Db } from '../storage/db.js';
import { readCsv } from './csv.js';
import { DATASET_NAME_PATTERN, type ColumnSchema, type DatasetVersion, type IngestionInput, type IngestionResult } from './types.js';

interface DatasetRow {
  id: string;
  name: string;
  version: number;
  sha256: string;
  uri: string;
  row_count: string;
  schema: ColumnSchema[];
  source_uri: string;
  created_at: Date;
}

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
    createdAt: r.created_at.toISOString(),
  };
}

/** Dataset version ids are derived from content, so a retried ingestion finds its own row. */
export function datasetVersionId(name: string, sha256: string): string {
  return `${name}@${sha256.slice(0, 16)}`;
}

/**
 * Reads the source, stores its canonical Arrow IPC bytes, and records the
 * version. Idempotent: identical data under the same name returns the
 * existing version with `created: false`.
 */
export async function ingestDataset(
  deps: { db: Db; artifacts: ArtifactStore },
  input: IngestionInput,
  onProgress?: (rowsRead: number) => void,
): Promise<IngestionResult> {
  if (!new RegExp(DATASET_NAME_PATTERN).test(input.name)) {
    throw new DatasetSourceError(`Dataset name ${JSON.stringify(input.name)} must match ${DATASET_NAME_PATTERN}.`);
  }
  const { table, columns } = await readCsv(input.sourceUri, onProgress);
  const stored = await deps.artifacts.put(tableToIPC(table, 'file'));
  const id = datasetVersionId(input.name, stored.sha256);

  return withTransaction(deps.db, async (client) => {
    // Serialise version numbering per dataset name.
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`dataset:${input.name}`]);
    const existing = await client.query<DatasetRow>('select * from dataset_versions where id = $1', [id]);
    if (existing.rows[0]) return { ...fromRow(existing.rows[0]), created: false };
    const { rows } = await client.query<DatasetRow>(
      `insert into dataset_versions (id, name, version, sha256, uri, format, row_count, schema, source_uri)
       values ($1, $2, (select coalesce(max(version), 0) + 1 from dataset_versions where name = $2), $3, $4, 'arrow-ipc-file', $5, $6, $7)
       returning *`,
      [id, input.name, stored.sha256, stored.uri, table.numRows, JSON.stringify(columns), input.sourceUri],
    );
    return { ...fromRow(rows[0]), created: true };
  });
}

export async function getDatasetVersion(db: Db, id: string): Promise<DatasetVersion> {
  const { rows } = await db.query<DatasetRow>('select * from dataset_versions where id = $1', [id]);
  if (!rows[0]) throw new NotFoundError(`Dataset version ${id} does not exist.`);
  return fromRow(rows[0]);
}

export async function listDatasetVersions(db: Db, name?: string): Promise<DatasetVersion[]> {
  const { rows } = await db.query<DatasetRow>(
    'select * from dataset_versions where $1::text is null or name = $1 order by name, version desc',
    [name ?? null],
  );
  return rows.map(fromRow);
}

/** Loads a version's Arrow table from the artifact store (sha256 verified). */
export async function loadDatasetTable(deps: { db: Db; artifacts: ArtifactStore }, id: string): Promise<{ version: DatasetVersion; table: Table }> {
  const version = await getDatasetVersion(deps.db, id);
  const table = tableFromIPC(await deps.artifacts.get(version.uri));
  return { version, table };
}
