// Deployment state in Postgres: per model, the stable version, an optional canary (percentage of traffic),
// an optional shadow (fraction of traffic, scored and logged but never returned) and a fallback version.
// Every change goes through `updateDeployment`, which records history, bumps the generation and NOTIFYs.
import type pg from 'pg';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { moveAlias, notifyAliasMoved } from '../registry/registry.js';
import { PRODUCTION_ALIAS } from '../registry/types.js';
import { withTransaction, type Db } from '../storage/db.js';

/** The channel every API instance LISTENs on; the payload is the model name. */
export const DEPLOYMENTS_CHANNEL = 'mlcycle_deployments';

export interface DeploymentState {
  modelName: string;
  stableVersion: number;
  canaryVersion: number | null;
  /** 0..100 */
  canaryPercent: number;
  shadowVersion: number | null;
  /** 0..1 */
  shadowFraction: number;
  fallbackVersion: number | null;
  generation: number;
  updatedBy: string;
  reason: string;
  source: string;
  updatedAt: string;
}

/** What a change may set; omitted fields keep their value, null clears an arm. */
export interface DeploymentPatch {
  stableVersion?: number;
  canary?: { version: number; percent: number } | null;
  shadow?: { version: number; fraction: number } | null;
  fallbackVersion?: number | null;
}

export interface DeploymentChange extends DeploymentPatch {
  modelName: string;
  actor: string;
  reason: string;
  /** Where the change came from: a workflow id, `api`. */
  source: string;
}

export interface DeploymentHistoryEntry {
  generation: number;
  state: Omit<DeploymentState, 'updatedAt'>;
  actor: string;
  reason: string;
  source: string;
  at: string;
}

interface Row {
  model_name: string;
  stable_version: number;
  canary_version: number | null;
  canary_percent: number;
  shadow_version: number | null;
  shadow_fraction: number;
  fallback_version: number | null;
  generation: string;
  updated_by: string;
  reason: string;
  source: string;
  updated_at: Date;
}

function fromRow(r: Row): DeploymentState {
  return {
    modelName: r.model_name,
    stableVersion: r.stable_version,
    canaryVersion: r.canary_version,
    canaryPercent: r.canary_percent,
    shadowVersion: r.shadow_version,
    shadowFraction: r.shadow_fraction,
    fallbackVersion: r.fallback_version,
    generation: Number(r.generation),
    updatedBy: r.updated_by,
    reason: r.reason,
    source: r.source,
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function getDeployment(db: Db, modelName: string): Promise<DeploymentState | null> {
  const { rows } = await db.query<Row>('select * from deployments where model_name = $1', [modelName]);
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function listDeployments(db: Db): Promise<DeploymentState[]> {
  const { rows } = await db.query<Row>('select * from deployments order by model_name');
  return rows.map(fromRow);
}

/** A cheap change detector: the generation sequence moves on every change (and on rolled-back ones, harmlessly). */
export async function deploymentGeneration(db: Db): Promise<number> {
  const { rows } = await db.query<{ last_value: string; is_called: boolean }>('select last_value, is_called from deployment_generation');
  return rows[0].is_called ? Number(rows[0].last_value) : 0;
}

function checkPatch(p: DeploymentPatch): void {
  const version = (v: unknown, what: string) => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new ValidationError(`${what} must be a positive integer version (got ${JSON.stringify(v)}).`);
  };
  if (p.stableVersion !== undefined) version(p.stableVersion, 'stableVersion');
  if (p.fallbackVersion !== undefined && p.fallbackVersion !== null) version(p.fallbackVersion, 'fallbackVersion');
  if (p.canary) {
    version(p.canary.version, 'canary.version');
    if (!(p.canary.percent >= 0 && p.canary.percent <= 100)) throw new ValidationError(`canary.percent must be between 0 and 100 (got ${p.canary.percent}).`);
  }
  if (p.shadow) {
    version(p.shadow.version, 'shadow.version');
    if (!(p.shadow.fraction >= 0 && p.shadow.fraction <= 1)) throw new ValidationError(`shadow.fraction must be between 0 and 1 (got ${p.shadow.fraction}).`);
  }
}

/**
 * Applies a change and returns the resulting state. Idempotent: a change that leaves the state as it
 * is writes nothing and notifies no one. Setting a new stable version without naming a fallback makes
 * the previous stable the fallback. The first change of a model must name its stable version. With
 * `moveProduction`, a change naming the stable version also moves @production there (a no-op when it is there).
 */
export async function updateDeployment(
  db: Db,
  change: DeploymentChange,
  options: { moveProduction?: boolean } = {},
): Promise<{ state: DeploymentState; changed: boolean }> {
  checkPatch(change);
  let aliasMoved = false;
  const result = await withTransaction(db, async (client) => {
    const applied = await applyChange(client, change);
    // In the same transaction, so @production can never lag what is served.
    if (options.moveProduction && change.stableVersion !== undefined) {
      const move = { modelName: change.modelName, alias: PRODUCTION_ALIAS, version: applied.state.stableVersion, actor: change.actor, reason: change.reason, source: 'deployment' };
      aliasMoved = (await moveAlias(client, move)).changed;
    }
    return applied;
  });
  if (aliasMoved) notifyAliasMoved(change.modelName, PRODUCTION_ALIAS);
  return result;
}

async function applyChange(client: pg.PoolClient, change: DeploymentChange): Promise<{ state: DeploymentState; changed: boolean }> {
  await client.query('select pg_advisory_xact_lock(hashtext($1))', [`deployment:${change.modelName}`]);
  const cur = (await client.query<Row>('select * from deployments where model_name = $1', [change.modelName])).rows[0];
  const before = cur ? fromRow(cur) : null;
  const stable = change.stableVersion ?? before?.stableVersion;
  if (stable === undefined) {
    throw new ConflictError(`Model ${change.modelName} has no deployment yet; the first change must set stableVersion.`);
  }
  const canary = change.canary === undefined ? (before?.canaryVersion ? { version: before.canaryVersion, percent: before.canaryPercent } : null) : change.canary;
  const shadow = change.shadow === undefined ? (before?.shadowVersion ? { version: before.shadowVersion, fraction: before.shadowFraction } : null) : change.shadow;
  let fallback = change.fallbackVersion === undefined ? (before?.fallbackVersion ?? null) : change.fallbackVersion;
  if (change.fallbackVersion === undefined && before && stable !== before.stableVersion) fallback = before.stableVersion;
  if (fallback === stable) fallback = null;
  const next = {
    stableVersion: stable,
    canaryVersion: canary?.version ?? null,
    canaryPercent: canary?.percent ?? 0,
    shadowVersion: shadow?.version ?? null,
    shadowFraction: shadow?.fraction ?? 0,
    fallbackVersion: fallback,
  };
  if (
    before &&
    before.stableVersion === next.stableVersion &&
    before.canaryVersion === next.canaryVersion &&
    before.canaryPercent === next.canaryPercent &&
    before.shadowVersion === next.shadowVersion &&
    before.shadowFraction === next.shadowFraction &&
    before.fallbackVersion === next.fallbackVersion
  ) {
    return { state: before, changed: false };
  }
  const versions = [next.stableVersion, next.canaryVersion, next.shadowVersion, next.fallbackVersion].filter((v): v is number => v !== null);
  const known = await client.query<{ version: number; archived_at: Date | null }>(
    'select version, archived_at from model_versions where model_name = $1 and version = any($2)',
    [change.modelName, versions],
  );
  for (const v of versions) {
    const row = known.rows.find((r) => r.version === v);
    if (!row) throw new NotFoundError(`Model ${change.modelName} has no version ${v}.`);
    if (row.archived_at && v !== before?.stableVersion) throw new ConflictError(`${change.modelName} v${v} is archived and may not be deployed.`);
  }
  const { rows } = await client.query<Row>(
    `insert into deployments (model_name, stable_version, canary_version, canary_percent, shadow_version, shadow_fraction, fallback_version,
                              generation, updated_by, reason, source, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, nextval('deployment_generation'), $8, $9, $10, now())
     on conflict (model_name) do update set stable_version = excluded.stable_version, canary_version = excluded.canary_version,
       canary_percent = excluded.canary_percent, shadow_version = excluded.shadow_version, shadow_fraction = excluded.shadow_fraction,
       fallback_version = excluded.fallback_version, generation = excluded.generation, updated_by = excluded.updated_by,
       reason = excluded.reason, source = excluded.source, updated_at = excluded.updated_at
     returning *`,
    [change.modelName, next.stableVersion, next.canaryVersion, next.canaryPercent, next.shadowVersion, next.shadowFraction, next.fallbackVersion, change.actor, change.reason, change.source],
  );
  const state = fromRow(rows[0]);
  const { updatedAt: _omit, ...snapshot } = state;
  await client.query('insert into deployment_history (model_name, generation, state, actor, reason, source) values ($1, $2, $3, $4, $5, $6)', [
    change.modelName,
    state.generation,
    JSON.stringify(snapshot),
    change.actor,
    change.reason,
    change.source,
  ]);
  // Delivered at commit, to every listening API instance.
  await client.query('select pg_notify($1, $2)', [DEPLOYMENTS_CHANNEL, change.modelName]);
  return { state, changed: true };
}

/** Changes of a model's deployment, newest first. */
export async function deploymentHistory(db: Db, modelName: string, limit = 100): Promise<DeploymentHistoryEntry[]> {
  const { rows } = await db.query<{ generation: string; state: DeploymentHistoryEntry['state']; actor: string; reason: string; source: string; at: Date }>(
    'select generation, state, actor, reason, source, at from deployment_history where model_name = $1 order by id desc limit $2',
    [modelName, limit],
  );
  return rows.map((r) => ({ generation: Number(r.generation), state: r.state, actor: r.actor, reason: r.reason, source: r.source, at: r.at.toISOString() }));
}
