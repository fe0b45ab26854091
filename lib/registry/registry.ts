// Model registry in Postgres: versions keyed by training run, movable aliases, and their history.
import type { ApprovalPolicy } from '../release/types.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { GateConfig } from '../evaluation/index.js';
import type pg from 'pg';
import { withTransaction, type Db } from '../storage/db.js';
import { ALIAS_PATTERN, PRODUCTION_ALIAS, type AliasHistoryEntry, type AliasMove, type ModelVersion, type NewModelVersion, type RegisteredModelSummary } from './types.js';

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
  archived_at: Date | null;
  archived_by: string | null;
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
    archivedAt: r.archived_at ? r.archived_at.toISOString() : null,
    archivedBy: r.archived_by,
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

/** Several versions in one query, keyed `${modelName}@${version}`; missing versions are simply absent. */
export async function getModelVersions(db: Db, keys: ReadonlyArray<{ modelName: string; version: number }>): Promise<Map<string, ModelVersion>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query<VersionRow>(
    `${SELECT_VERSION} where (v.model_name, v.version) in (select * from unnest($1::text[], $2::int[]))`,
    [keys.map((k) => k.modelName), keys.map((k) => k.version)],
  );
  return new Map(rows.map((r) => { const v = fromRow(r); return [`${v.modelName}@${v.version}`, v]; }));
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
 * In-process listeners told after an alias move commits, so a serving cache in the same process
 * drops the old answer at once; other processes rely on their cache's short TTL.
 */
const aliasListeners = new Set<(modelName: string, alias: string) => void>();

/** Subscribes to alias moves made by this process; returns the unsubscribe function. */
export function onAliasMoved(listener: (modelName: string, alias: string) => void): () => void {
  aliasListeners.add(listener);
  return () => aliasListeners.delete(listener);
}

/** Tells this process's listeners that an alias moved (called after the move's commit). */
export function notifyAliasMoved(modelName: string, alias: string): void {
  for (const listener of aliasListeners) listener(modelName, alias);
}

/**
 * Points an alias at a version and records the move with who and why.
 * Idempotent: moving an alias to where it already points records nothing.
 */
export async function setAlias(db: Db, move: AliasMove): Promise<{ previousVersion: number | null; changed: boolean }> {
  const result = await withTransaction(db, (client) => moveAlias(client, move));
  if (result.changed) notifyAliasMoved(move.modelName, move.alias);
  return result;
}

/**
 * A model with a deployment row is served by it (stable / canary / shadow), not by @production. Moving
 * @production anywhere but the deployment's stable version would make the registry say one thing and
 * serving do another, so it is refused with the routes that do change what is served; rollouts move
 * @production after they switched stable, which passes.
 */
async function refuseProductionMoveAwayFromDeployment(client: pg.PoolClient, move: AliasMove): Promise<void> {
  const { rows } = await client.query<{ stable_version: number }>('select stable_version from deployments where model_name = $1', [move.modelName]);
  const stable = rows[0]?.stable_version;
  if (stable === undefined || stable === move.version) return;
  throw new ConflictError(
    `${move.modelName} is served by its deployment (stable v${stable}), so @${PRODUCTION_ALIAS} follows the deployment: to serve v${move.version}, ` +
      `POST /v1/rollouts {"modelName": ${JSON.stringify(move.modelName)}, "version": ${move.version}, "reason": "..."} (blue-green by default) ` +
      `or PUT /v1/deployments/${move.modelName} {"stableVersion": ${move.version}, "reason": "..."}.`,
  );
}

/** Moves an alias inside the caller's transaction; the caller calls `notifyAliasMoved` after its commit when it changed. */
export async function moveAlias(client: pg.PoolClient, move: AliasMove): Promise<{ previousVersion: number | null; changed: boolean }> {
  await client.query('select pg_advisory_xact_lock(hashtext($1))', [`model:${move.modelName}`]);
  if (!new RegExp(ALIAS_PATTERN).test(move.alias)) {
    throw new ValidationError(`Alias ${JSON.stringify(move.alias)} is not a valid name: use lower-case letters, digits, - and _, starting with a letter.`);
  }
  const exists = await client.query<{ archived_at: Date | null }>('select archived_at from model_versions where model_name = $1 and version = $2', [move.modelName, move.version]);
  if (!exists.rows[0]) throw new NotFoundError(`Model ${move.modelName} has no version ${move.version}.`);
  if (exists.rows[0].archived_at) throw new ConflictError(`${move.modelName} v${move.version} is archived; an alias may not point at it.`);
  if (move.alias === PRODUCTION_ALIAS) await refuseProductionMoveAwayFromDeployment(client, move);
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

export async function listModels(db: Db): Promise<RegisteredModelSummary[]> {
  const { rows } = await db.query<{
    name: string;
    description: string;
    created_at: Date;
    versions: string | number;
    latest_version: number | null;
    aliases: Record<string, number> | null;
    gates_declared: boolean;
  }>(
    `select m.name, m.description, m.created_at, m.gate_config is not null as gates_declared,
            (select count(*) from model_versions v where v.model_name = m.name) as versions,
            (select max(version) from model_versions v where v.model_name = m.name) as latest_version,
            (select jsonb_object_agg(a.alias, a.version) from model_aliases a where a.model_name = m.name) as aliases
     from registered_models m order by m.name`,
  );
  return rows.map((r) => ({
    name: r.name,
    description: r.description,
    createdAt: r.created_at.toISOString(),
    versions: Number(r.versions),
    latestVersion: r.latest_version,
    aliases: r.aliases ?? {},
    gatesDeclared: r.gates_declared,
  }));
}

/** The gate config declared for a model, or null (no model yet, or none declared: the default applies). */
export async function getGateConfig(db: Db, modelName: string): Promise<GateConfig | null> {
  const { rows } = await db.query<{ gate_config: GateConfig | null }>('select gate_config from registered_models where name = $1', [modelName]);
  return rows[0]?.gate_config ?? null;
}

/** Declares (or with null, clears) a model's gates; creates the model entry so gates can precede the first version. */
export async function setGateConfig(db: Db, modelName: string, config: GateConfig | null, actor: string): Promise<void> {
  await db.query(
    `insert into registered_models (name, gate_config, gate_config_updated_by, gate_config_updated_at) values ($1, $2, $3, now())
     on conflict (name) do update set gate_config = excluded.gate_config, gate_config_updated_by = excluded.gate_config_updated_by,
       gate_config_updated_at = excluded.gate_config_updated_at`,
    [modelName, config === null ? null : JSON.stringify(config), actor],
  );
}

/** The approval policy declared for a model (approver list, reminder, deadline), or null. */
export async function getApprovalPolicy(db: Db, modelName: string): Promise<ApprovalPolicy | null> {
  const { rows } = await db.query<{ approval_policy: ApprovalPolicy | null }>('select approval_policy from registered_models where name = $1', [modelName]);
  return rows[0]?.approval_policy ?? null;
}

/** Declares (or with null, clears) a model's approval policy; creates the model entry so it can precede the first version. */
export async function setApprovalPolicy(db: Db, modelName: string, policy: ApprovalPolicy | null, actor: string): Promise<void> {
  await db.query(
    `insert into registered_models (name, approval_policy, approval_policy_updated_by, approval_policy_updated_at) values ($1, $2, $3, now())
     on conflict (name) do update set approval_policy = excluded.approval_policy, approval_policy_updated_by = excluded.approval_policy_updated_by,
       approval_policy_updated_at = excluded.approval_policy_updated_at`,
    [modelName, policy === null ? null : JSON.stringify(policy), actor],
  );
}

interface HistoryRow {
  model_name: string;
  alias: string;
  version: number;
  previous_version: number | null;
  actor: string;
  reason: string;
  source: string;
  at: Date;
}

const historyFromRow = (r: HistoryRow): AliasHistoryEntry => ({
  modelName: r.model_name,
  alias: r.alias,
  version: r.version,
  previousVersion: r.previous_version,
  actor: r.actor,
  reason: r.reason,
  source: r.source,
  at: r.at.toISOString(),
});

/** Alias moves of a model, newest first (optionally of one alias). */
export async function aliasHistory(db: Db, modelName: string, alias?: string): Promise<AliasHistoryEntry[]> {
  const { rows } = await db.query<HistoryRow>(
    `select * from alias_history where model_name = $1 and ($2::text is null or alias = $2) order by at desc, id desc`,
    [modelName, alias ?? null],
  );
  return rows.map(historyFromRow);
}

/**
 * Which version an alias pointed to at time `at`, who put it there and why: the last move at or
 * before `at`. Null when the alias did not exist yet at that time.
 */
export async function aliasAt(db: Db, modelName: string, alias: string, at: Date): Promise<AliasHistoryEntry | null> {
  const { rows } = await db.query<HistoryRow>(
    `select * from alias_history where model_name = $1 and alias = $2 and at <= $3 order by at desc, id desc limit 1`,
    [modelName, alias, at],
  );
  return rows[0] ? historyFromRow(rows[0]) : null;
}

/**
 * Puts back the version the alias pointed to before its latest move, recorded in alias_history
 * like any move (source `rollback`). Rolling back twice undoes the first rollback.
 */
export async function rollbackAlias(
  db: Db,
  r: { modelName: string; alias: string; actor: string; reason: string },
): Promise<{ version: number; previousVersion: number }> {
  const [latest] = await aliasHistory(db, r.modelName, r.alias);
  if (!latest) {
    if (!(await modelExists(db, r.modelName))) throw new NotFoundError(`Model ${r.modelName} does not exist.`);
    throw new ConflictError(`${r.modelName} has never had an @${r.alias} version; there is nothing to roll back.`);
  }
  if (latest.previousVersion === null) {
    throw new ConflictError(`v${latest.version} is the first @${r.alias} version of ${r.modelName}; there is no earlier version to roll back to.`);
  }
  const moved = await setAlias(db, { modelName: r.modelName, alias: r.alias, version: latest.previousVersion, actor: r.actor, reason: r.reason, source: 'rollback' });
  return { version: latest.previousVersion, previousVersion: moved.previousVersion ?? latest.version };
}

/** Archives a version no alias points at. Idempotent: archiving it again keeps the first record. */
export async function archiveVersion(db: Db, modelName: string, version: number, actor: string): Promise<ModelVersion> {
  await withTransaction(db, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`model:${modelName}`]);
    const exists = await client.query('select 1 from model_versions where model_name = $1 and version = $2', [modelName, version]);
    if (!exists.rowCount) throw new NotFoundError(`Model ${modelName} has no version ${version}.`);
    const aliases = await client.query<{ alias: string }>('select alias from model_aliases where model_name = $1 and version = $2 order by alias', [modelName, version]);
    if (aliases.rowCount) {
      const names = aliases.rows.map((a) => `@${a.alias}`).join(', ');
      throw new ConflictError(`${modelName} v${version} is ${names}; point the alias elsewhere (or roll back) before archiving it.`);
    }
    await client.query(
      'update model_versions set archived_at = now(), archived_by = $3 where model_name = $1 and version = $2 and archived_at is null',
      [modelName, version, actor],
    );
  });
  return getModelVersion(db, modelName, version);
}

/**
 * Registers a model trained elsewhere (an uploaded ONNX file): no training run, no dataset.
 * Idempotent per model and content: uploading the same bytes again returns the version it created.
 */
export async function registerUploadedModelVersion(
  db: Db,
  v: Omit<NewModelVersion, 'trainingRunId' | 'datasetVersionId'> & { datasetVersionId?: string },
): Promise<ModelVersion & { created: boolean }> {
  return withTransaction(db, async (client) => {
    await client.query('insert into registered_models (name) values ($1) on conflict do nothing', [v.modelName]);
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`model:${v.modelName}`]);
    const existing = await client.query<VersionRow>(`${SELECT_VERSION} where v.model_name = $1 and v.sha256 = $2 and v.training_run_id is null`, [v.modelName, v.sha256]);
    if (existing.rows[0]) return { ...fromRow(existing.rows[0]), created: false };
    const { rows } = await client.query<{ version: number }>(
      `insert into model_versions (model_name, version, sha256, uri, signature, metrics, params, training_run_id, dataset_version_id, evaluation_uri, created_by)
       values ($1, (select coalesce(max(version), 0) + 1 from model_versions where model_name = $1), $2, $3, $4, $5, $6, null, $7, $8, $9)
       returning version`,
      [v.modelName, v.sha256, v.uri, JSON.stringify(v.signature), JSON.stringify(v.metrics), JSON.stringify(v.params), v.datasetVersionId ?? null, v.evaluationUri ?? null, v.createdBy ?? null],
    );
    const created = await client.query<VersionRow>(`${SELECT_VERSION} where v.model_name = $1 and v.version = $2`, [v.modelName, rows[0].version]);
    return { ...fromRow(created.rows[0]), created: true };
  });
}
