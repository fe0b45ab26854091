// Model registry in Postgres: versions keyed by training run, movable aliases, and their history.
import { NotFoundError } from '../errors.js';
import { withTransaction, type Db } from '../storage/db.js';
import type { AliasMove, ModelVersion, NewModelVersion } from './types.js';

interface VersionRow {
  model_name: string;
  version: number;
  sha256: string;
  uri: string;
  signature: ModelVersion['signature'];
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  training_run_id: string | null;
  dataset_version_id: string | null;
  evaluation_uri: string | null;
  created_by: string | null;
  created_at: Date;
  aliases: string[] | null;
}

const SELECT_VERSION = `
  select v.*, (select array_agg(a.alias order by a.alias) from model_aliases a
               where a.model_name = v.model_name and a.version = v.version) as aliases
  from model_versions v`;

function fromRow(r: VersionRow): ModelVersion {
  return {
    modelName: r.model_name,
    version: r.version,
    sha256: r.sha256,
    uri: r.uri,
    signature: r.signature,
    metrics: r.metrics,
    params: r.params,
    trainingRunId: r.training_run_id,
    datasetVersionId: r.dataset_version_id,
    evaluationUri: r.evaluation_uri,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    aliases: r.aliases ?? [],
  };
}

/** Registers a version; idempotent per training run (a retry returns the version it created). */
export async function registerModelVersion(db: Db, v: NewModelVersion): Promise<ModelVersion> {
  return withTransaction(db, async (client) => {
    await client.query('insert into registered_models (name) values ($1) on conflict do nothing', [v.modelName]);
    // Serialise version numbering per model.
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`model:${v.modelName}`]);
    const existing = await client.query<VersionRow>(`${SELECT_VERSION} where v.training_run_id = $1`, [v.trainingRunId]);
    if (existing.rows[0]) return fromRow(existing.rows[0]);
    await client.query(
      `insert into model_versions (model_name, version, sha256, uri, signature, metrics, params, training_run_id, dataset_version_id, evaluation_uri, created_by)
       values ($1, (select coalesce(max(version), 0) + 1 from model_versions where model_name = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [v.modelName, v.sha256, v.uri, JSON.stringify(v.signature), JSON.stringify(v.metrics), JSON.stringify(v.params), v.trainingRunId, v.datasetVersionId, v.evaluationUri ?? null, v.createdBy ?? null],
    );
    await client.query(`update training_runs set status = 'registered', updated_at = now() where id = $1`, [v.trainingRunId]);
    const { rows } = await client.query<VersionRow>(`${SELECT_VERSION} where v.training_run_id = $1`, [v.trainingRunId]);
    return fromRow(rows[0]);
  });
}

export async function getModelVersion(db: Db, modelName: string, version: number): Promise<ModelVersion> {
  const { rows } = await db.query<VersionRow>(`${SELECT_VERSION} where v.model_name = $1 and v.version = $2`, [modelName, version]);
  if (!rows[0]) throw new NotFoundError(`Model ${modelName} has no version ${version}.`);
  return fromRow(rows[0]);
}

export async function listModelVersions(db: Db, modelName: string): Promise<ModelVersion[]> {
  const { rows } = await db.query<VersionRow>(`${SELECT_VERSION} where v.model_name = $1 order by v.version desc`, [modelName]);
  return rows.map(fromRow);
}

export async function modelExists(db: Db, modelName: string): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from registered_models where name = $1', [modelName]);
  return (rowCount ?? 0) > 0;
}

/** The version an alias points to; NotFoundError names what is missing. */
export async function getVersionByAlias(db: Db, modelName: string, alias: string): Promise<ModelVersion> {
  const { rows } = await db.query<VersionRow>(
    `${SELECT_VERSION} join model_aliases a on a.model_name = v.model_name and a.version = v.version
     where a.model_name = $1 and a.alias = $2`,
    [modelName, alias],
  );
  if (rows[0]) return fromRow(rows[0]);
  if (!(await modelExists(db, modelName))) throw new NotFoundError(`Model ${modelName} does not exist.`);
  throw new NotFoundError(`Model ${modelName} has no version with alias @${alias} yet.`);
}

/**
 * Points an alias at a version and records the move with who and why.
 * Idempotent: moving an alias to where it already points records nothing.
 */
export async function setAlias(db: Db, move: AliasMove): Promise<{ previousVersion: number | null; changed: boolean }> {
  return withTransaction(db, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`model:${move.modelName}`]);
    const exists = await client.query('select 1 from model_versions where model_name = $1 and version = $2', [move.modelName, move.version]);
    if (!exists.rowCount) throw new NotFoundError(`Model ${move.modelName} has no version ${move.version}.`);
    const current = await client.query<{ version: number }>('select version from model_aliases where model_name = $1 and alias = $2', [
      move.modelName,
      move.alias,
    ]);
    const previousVersion = current.rows[0]?.version ?? null;
    if (previousVersion === move.version) return { previousVersion, changed: false };
    await client.query(
      `insert into model_aliases (model_name, alias, version) values ($1, $2, $3)
       on conflict (model_name, alias) do update set version = excluded.version, updated_at = now()`,
      [move.modelName, move.alias, move.version],
    );
    await client.query(
      `insert into alias_history (model_name, alias, version, previous_version, actor, reason, source) values ($1, $2, $3, $4, $5, $6, $7)`,
      [move.modelName, move.alias, move.version, previousVersion, move.actor, move.reason, move.source],
    );
    return { previousVersion, changed: true };
  });
}

export async function setTrainingRunStatus(db: Db, runId: string, status: string): Promise<void> {
  await db.query('update training_runs set status = $2, updated_at = now() where id = $1', [runId, status]);
}

/** Records a release decision; idempotent per release (a retry keeps the first record). */
export async function recordDecision(
  db: Db,
  d: { releaseId: string; trainingRunId: string | null; modelName: string; version: number; approved: boolean; approver: string; reason: string; via: string; at: string },
): Promise<void> {
  await db.query(
    `insert into release_decisions (release_id, training_run_id, model_name, version, approved, approver, reason, via, decided_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (release_id) do nothing`,
    [d.releaseId, d.trainingRunId, d.modelName, d.version, d.approved, d.approver, d.reason, d.via, d.at],
  );
}
