// Online: the latest feature values per (view, entity) in Postgres, upserted incrementally from the
// view's source version, and reads that enforce TTL and report staleness.
import { loadDatasetTable } from '../data/datasets.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { withTransaction, type Db } from '../storage/db.js';
import { getFeatureView, resolveSourceVersion } from './registry.js';
import { featureJoin, indexStagedSource } from './sql.js';
import { entityText, scratchName, stageArrowTable } from './staging.js';
import type { FeatureView } from './declaration.js';
import type { MaterializeInput, MaterializeResult } from './types.js';

export type { MaterializeInput, MaterializeResult };

interface RunRow {
  id: string;
  view_name: string;
  dataset_version_id: string;
  previous_watermark: Date | null;
  watermark: Date | null;
  entities_upserted: number;
  status: string;
}

export type FeatureValue = number | string | boolean | null;

/**
 * Upserts the online row of every entity with a source row newer than the last run's watermark,
 * computed by the same SQL as the offline frame (anchored at the entity's newest event time). The
 * upsert, the new watermark and the run record commit in one transaction, so readers see either
 * all of the previous values or all of the new ones.
 */
export async function materializeFeatureView(deps: { db: Db; artifacts: ArtifactStore }, input: MaterializeInput): Promise<MaterializeResult> {
  const done = await deps.db.query<RunRow>(`select * from feature_materializations where id = $1 and status = 'succeeded'`, [input.runId]);
  if (done.rows[0]) {
    const r = done.rows[0];
    return {
      runId: r.id,
      view: r.view_name,
      datasetVersionId: r.dataset_version_id,
      full: r.previous_watermark === null,
      previousWatermark: r.previous_watermark?.toISOString() ?? null,
      watermark: r.watermark?.toISOString() ?? null,
      entitiesUpserted: r.entities_upserted,
    };
  }
  const registered = await getFeatureView(deps.db, input.view);
  const view = registered.declaration;
  const version = await resolveSourceVersion(deps.db, view);
  const source = await loadDatasetTable(deps, version.id);
  const client = await deps.db.connect();
  const table = scratchName('fs_src');
  try {
    const staged = await stageArrowTable(client, table, source.table, source.version.columns);
    await indexStagedSource(client, view, staged);
    const join = featureJoin(view, staged, { k: 0, anchor: 'anchor', ttl: false, createdTimeGuard: false });
    const entity = entityText(`s.${staged.columns.get(view.entity.joinKey)!.column}`);
    const et = `s.${staged.columns.get(view.source.eventTime)!.column}`;
    const values = join.columns
      .map((c) => `'${c.name}', ${c.type === 'timestamp' ? `(extract(epoch from ${c.expr}) * 1000)::float8` : c.expr}`)
      .join(', ');
    return await withTransaction(deps.db, async (tx) => {
      // One materialization per view at a time; the watermark is read under the lock.
      const { rows } = await tx.query<{ watermark: Date | null; watermark_dataset_version_id: string | null; sha256: string }>(
        'select watermark, watermark_dataset_version_id, sha256 from feature_views where name = $1 for update',
        [view.name],
      );
      const state = rows[0];
      const sameLine = state.watermark_dataset_version_id !== null &&
        (state.watermark_dataset_version_id === version.id || version.lineage.parentIds.includes(state.watermark_dataset_version_id));
      const previous = sameLine && state.sha256 === registered.sha256 ? state.watermark : null;
      await tx.query(
        `insert into feature_materializations (id, view_name, dataset_version_id, previous_watermark, status) values ($1, $2, $3, $4, 'running')
         on conflict (id) do update set dataset_version_id = excluded.dataset_version_id, previous_watermark = excluded.previous_watermark, started_at = now()`,
        [input.runId, view.name, version.id, previous],
      );
      const upsert = await tx.query(
        `insert into feature_online (view_name, entity_id, feature_values, event_time, materialized_at)
         select $1, anchor.entity_id, jsonb_build_object(${values}), ${join.eventTimeExpr}, now()
         from (select ${entity} as entity_id, max(${et}) as ts from ${table} s where ${entity} is not null and ${et} is not null
               group by 1 having $2::timestamptz is null or max(${et}) > $2::timestamptz) anchor
         ${join.joins}
         where ${join.eventTimeExpr} is not null
         on conflict (view_name, entity_id) do update set feature_values = excluded.feature_values, event_time = excluded.event_time,
           materialized_at = excluded.materialized_at
         where feature_online.event_time <= excluded.event_time`,
        [view.name, previous],
      );
      const max = await tx.query<{ w: Date | null }>(`select max(${et}) as w from ${table} s`);
      const watermark = max.rows[0].w ?? previous;
      await tx.query('update feature_views set watermark = $2, watermark_dataset_version_id = $3 where name = $1', [view.name, watermark, version.id]);
      await tx.query(
        `update feature_materializations set status = 'succeeded', watermark = $2, entities_upserted = $3, finished_at = now() where id = $1`,
        [input.runId, watermark, upsert.rowCount ?? 0],
      );
      return {
        runId: input.runId,
        view: view.name,
        datasetVersionId: version.id,
        full: previous === null,
        previousWatermark: previous?.toISOString() ?? null,
        watermark: watermark?.toISOString() ?? null,
        entitiesUpserted: upsert.rowCount ?? 0,
      };
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

/** One entity's answer from its stored row (or none); an expired row's values come back null, never as present. */
export function onlineFeaturesFromRow(view: FeatureView, entityId: string, row: OnlineRow | undefined, now: number): OnlineFeatures {
  const empty = Object.fromEntries(view.features.map((f) => [f.name, null])) as Record<string, FeatureValue>;
  const base = { view: view.name, entityId, ttlSeconds: view.ttlSeconds };
  if (!row) return { ...base, status: 'missing', values: empty, eventTime: null, materializedAt: null, stalenessSeconds: null };
  const stalenessSeconds = (now - row.event_time.getTime()) / 1000;
  const expired = stalenessSeconds > view.ttlSeconds;
  return {
    ...base,
    status: expired ? 'expired' : 'present',
    values: expired ? empty : { ...empty, ...row.feature_values },
    eventTime: row.event_time.toISOString(),
    materializedAt: row.materialized_at.toISOString(),
    stalenessSeconds,
  };
}
