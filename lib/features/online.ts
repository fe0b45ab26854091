// Online: materialization of a view's latest values per entity into the online store (incremental by
// per-entity digests of the source rows), and the one rule reads apply (TTL from the event time, staleness).
import { loadDatasetTable } from '../data/datasets.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { withTransaction, type Db } from '../storage/db.js';
import { getFeatureView, resolveSourceVersion } from './registry.js';
import { featureJoin, indexStagedSource } from './sql.js';
import { entityText, scratchName, stageArrowTable } from './staging.js';
import { sourceColumns, type FeatureView } from './declaration.js';
import type { OnlineStore } from './online-store.js';
import type { MaterializeInput, MaterializeResult } from './types.js';

export type { MaterializeInput, MaterializeResult };

interface RunRow {
  id: string;
  view_name: string;
  dataset_version_id: string;
  previous_watermark: Date | null;
  watermark: Date | null;
  entities_upserted: number;
  entities_removed: number;
  full_run: boolean;
}

export type FeatureValue = number | string | boolean | null;

function resultFromRun(r: RunRow): MaterializeResult {
  return {
    runId: r.id,
    view: r.view_name,
    datasetVersionId: r.dataset_version_id,
    full: r.full_run,
    previousWatermark: r.previous_watermark?.toISOString() ?? null,
    watermark: r.watermark?.toISOString() ?? null,
    entitiesUpserted: r.entities_upserted,
    entitiesRemoved: r.entities_removed,
  };
}

/**
 * Brings the online store up to the view's source version. Every entity's source rows are digested in
 * SQL and compared with the digests of the last run: only entities whose rows changed are recomputed
 * (new rows, late rows at or before the watermark, rows gone), by the same SQL as the offline frame
 * anchored at the entity's newest event time, and entities with no rows left are removed. The store
 * write, the digests, the watermark and the run record happen in one Postgres transaction, so the
 * Postgres store's readers see all of the previous run or all of this one; Redis readers see each
 * entity whole (see RedisOnlineStore.write), and a Redis write that outlives a failed commit is redone
 * by the next run, since the digests did not move.
 */
export async function materializeFeatureView(deps: { db: Db; artifacts: ArtifactStore; onlineStore: OnlineStore }, input: MaterializeInput): Promise<MaterializeResult> {
  const done = await deps.db.query<RunRow>(`select * from feature_materializations where id = $1 and status = 'succeeded'`, [input.runId]);
  if (done.rows[0]) return resultFromRun(done.rows[0]);
  const registered = await getFeatureView(deps.db, input.view);
  const view = registered.declaration;
  const version = await resolveSourceVersion(deps.db, view);
  const source = await loadDatasetTable(deps, version.id);
  const client = await deps.db.connect();
  const table = scratchName('fs_src');
  try {
    const staged = await stageArrowTable(client, table, source.table, source.version.columns);
    await indexStagedSource(client, view, staged);
    const column = (name: string) => `s.${staged.columns.get(name)!.column}`;
    const join = featureJoin(view, staged, { k: 0, anchor: 'anchor', ttl: false, createdTimeGuard: false });
    const entity = entityText(column(view.entity.joinKey));
    const et = column(view.source.eventTime);
    // What an entity's online value depends on: its rows' event times and feature columns, in the
    // order ties are broken (later row wins), not their absolute positions.
    const rowText = `row(${[et, ...sourceColumns(view).map(column)].join(', ')})::text`;
    const values = join.columns
      .map((c) => `'${c.name}', ${c.type === 'timestamp' ? `(extract(epoch from ${c.expr}) * 1000)::float8` : c.expr}`)
      .join(', ');
    return await withTransaction(deps.db, async (tx) => {
      // One materialization per view at a time; the state is read under the lock.
      const { rows } = await tx.query<{ watermark: Date | null; sha256: string }>('select watermark, sha256 from feature_views where name = $1 for update', [view.name]);
      // A retry reads the new declaration; this run's SQL was built from the old one.
      if (rows[0]?.sha256 !== registered.sha256) throw new Error(`Feature view ${view.name} was re-registered during the run; retrying under the new declaration.`);
      const digested = await tx.query('select 1 from feature_entity_digests where view_name = $1 limit 1', [view.name]);
      // First run, changed declaration (the registry dropped the digests), or a store that lost its copy.
      const full = digested.rowCount === 0 || !(await deps.onlineStore.holds(view.name, registered.sha256));
      await tx.query(
        `create temp table fs_digest on commit drop as
         select ${entity} as entity_id, max(${et}) as ts, decode(md5(string_agg(${rowText}, E'\\n' order by ${et}, s.row_no)), 'hex') as digest
         from ${table} s where ${entity} is not null and ${et} is not null group by 1`,
      );
      await tx.query(
        `create temp table fs_changed on commit drop as
         select d.entity_id, d.ts, d.digest from fs_digest d
         left join feature_entity_digests o on o.view_name = $1 and o.entity_id = d.entity_id
         where $2 or o.digest is distinct from d.digest`,
        [view.name, full],
      );
      await tx.query(
        `create temp table fs_removed on commit drop as
         select o.entity_id from feature_entity_digests o where o.view_name = $1 and not $2
           and not exists (select 1 from fs_digest d where d.entity_id = o.entity_id)`,
        [view.name, full],
      );
      await tx.query(
        `insert into feature_materializations (id, view_name, dataset_version_id, previous_watermark, full_run, status) values ($1, $2, $3, $4, $5, 'running')
         on conflict (id) do update set dataset_version_id = excluded.dataset_version_id, previous_watermark = excluded.previous_watermark,
           full_run = excluded.full_run, started_at = now()`,
        [input.runId, view.name, version.id, rows[0].watermark, full],
      );
      const upserted = await deps.onlineStore.write(tx, {
        view,
        sha256: registered.sha256,
        replaceAll: full,
        changedSql: `select anchor.entity_id, jsonb_build_object(${values}) as feature_values, ${join.eventTimeExpr} as event_time
                     from fs_changed anchor ${join.joins} where ${join.eventTimeExpr} is not null`,
        removedSql: 'select entity_id from fs_removed',
      });
      if (full) await tx.query('delete from feature_entity_digests where view_name = $1', [view.name]);
      const removed = await tx.query('delete from feature_entity_digests where view_name = $1 and entity_id in (select entity_id from fs_removed)', [view.name]);
      await tx.query(
        `insert into feature_entity_digests (view_name, entity_id, digest) select $1, entity_id, digest from fs_changed
         on conflict (view_name, entity_id) do update set digest = excluded.digest`,
        [view.name],
      );
      const newest = await tx.query<{ w: Date | null }>('select max(ts) as w from fs_digest');
      const watermark = newest.rows[0].w;
      await tx.query('update feature_views set watermark = $2, watermark_dataset_version_id = $3 where name = $1', [view.name, watermark, version.id]);
      const run = await tx.query<RunRow>(
        `update feature_materializations set status = 'succeeded', watermark = $2, entities_upserted = $3, entities_removed = $4, finished_at = now()
         where id = $1 returning *`,
        [input.runId, watermark, upserted, removed.rowCount ?? 0],
      );
      return resultFromRun(run.rows[0]);
    });
  } finally {
    await client.query(`drop table if exists ${table}`).catch(() => {});
    client.release();
  }
}

export interface OnlineFeatures {
  view: string;
  entityId: string;
  /** present: within TTL; expired: stored but older than the TTL (values are null); missing: never materialized. */
  status: 'present' | 'expired' | 'missing';
  values: Record<string, FeatureValue>;
  /** Event time of the source row the values come from. */
  eventTime: string | null;
  materializedAt: string | null;
  /** Seconds from the event time to the read. */
  stalenessSeconds: number | null;
  ttlSeconds: number;
}

export interface OnlineRow {
  feature_values: Record<string, FeatureValue>;
  event_time: Date;
  materialized_at: Date;
}

/** What a read needs of a declaration (the Redis store keeps it beside the values). */
export interface OnlineViewShape {
  name: string;
  ttlSeconds: number;
  features: Array<{ name: string }>;
}

/** One entity's answer from its stored row (or none); an expired row's values come back null, never as present. */
export function onlineFeaturesFromRow(view: OnlineViewShape, entityId: string, row: OnlineRow | undefined, now: number): OnlineFeatures {
  const stalenessSeconds = row ? (now - row.event_time.getTime()) / 1000 : null;
  const present = stalenessSeconds !== null && stalenessSeconds <= view.ttlSeconds;
  // Exactly the declared features, each null unless present (a plain loop: this runs per entity per read).
  const values: Record<string, FeatureValue> = {};
  for (const f of view.features) values[f.name] = present ? (row!.feature_values[f.name] ?? null) : null;
  return {
    view: view.name,
    entityId,
    status: !row ? 'missing' : present ? 'present' : 'expired',
    values,
    eventTime: row ? row.event_time.toISOString() : null,
    materializedAt: row ? row.materialized_at.toISOString() : null,
    stalenessSeconds,
    ttlSeconds: view.ttlSeconds,
  };
}
