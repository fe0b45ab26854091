// The online store: latest feature values of many entities of one view in one round trip, TTL
// enforced on read, written by materialization runs. Postgres (the feature_online table) is the
// default backend; Redis/Valkey (redis-online-store.ts) is chosen by MLCYCLE_ONLINE_STORE.
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Db } from '../storage/db.js';
import type { FeatureView } from './declaration.js';
import { getFeatureView } from './registry.js';
import { onlineFeaturesFromRow, type OnlineFeatures, type OnlineRow } from './online.js';
import { RedisOnlineStore } from './redis-online-store.js';

/** One materialization run's changes, as queries on the run's Postgres transaction. */
export interface OnlineWrite {
  view: FeatureView;
  /** sha256 of the registered declaration the values were computed under. */
  sha256: string;
  /** After this write the store holds only `changedSql`'s entities for the view (a full run). */
  replaceAll: boolean;
  /** Yields `entity_id` text, `feature_values` jsonb, `event_time` timestamptz: every entity to (re)write. */
  changedSql: string;
  /** Yields `entity_id` text: entities whose source rows are gone. */
  removedSql: string;
}

export interface OnlineStore {
  readonly backend: Config['onlineStore']['backend'];
  /** One answer per requested id, in request order; unknown entities come back `missing`. */
  read(viewName: string, entityIds: readonly string[], now?: number): Promise<OnlineFeatures[]>;
  /**
   * Whether the store still holds what the last committed run wrote under this declaration. When it
   * does not (never materialized, or a Redis that restarted empty), the next run rewrites every entity.
   */
  holds(viewName: string, sha256: string): Promise<boolean>;
  /**
   * Applies a run while its transaction `tx` is open (it commits after). Readers never see an
   * entity half written. Returns how many entities were written.
   */
  write(tx: pg.ClientBase, run: OnlineWrite): Promise<number>;
  /** Forgets a view's values because its declaration changed; `tx` is the registry's open transaction. */
  dropView(tx: pg.ClientBase, viewName: string): Promise<void>;
  close(): Promise<void>;
}

export class PostgresOnlineStore implements OnlineStore {
  readonly backend = 'postgres' as const;

  /** The declaration last read per view; a read uses it while the registry's sha256 still matches. */
  private readonly declarations = new Map<string, { sha256: string; declaration: FeatureView }>();

  constructor(private readonly db: Db) {}

  async read(viewName: string, entityIds: readonly string[], now: number = Date.now()): Promise<OnlineFeatures[]> {
    // The view's sha256 comes back with its rows, so the declaration is read again only when it
    // changed (no row at all: the view is not registered, and getFeatureView says so). The inner
    // join over the ids makes each one a primary-key lookup whatever the table's statistics say
    // (`= any($2)` turns into a scan of the whole view while a fresh table is not yet analyzed).
    const { rows } = await this.db.query<{ sha256: string; entity_id: string | null } & OnlineRow>(
      `select v.sha256, o.entity_id, o.feature_values, o.event_time, o.materialized_at
       from feature_views v left join (
         select f.entity_id, f.feature_values, f.event_time, f.materialized_at
         from unnest($2::text[]) as ids (entity_id) join feature_online f on f.view_name = $1 and f.entity_id = ids.entity_id
       ) o on true
       where v.name = $1`,
      [viewName, entityIds],
    );
    let cached = this.declarations.get(viewName);
    if (!cached || cached.sha256 !== rows[0]?.sha256) {
      const { sha256, declaration } = await getFeatureView(this.db, viewName);
      this.declarations.set(viewName, (cached = { sha256, declaration }));
    }
    const view = cached.declaration;
    const byId = new Map(rows.filter((r) => r.entity_id !== null).map((r) => [r.entity_id, r]));
    return entityIds.map((id) => onlineFeaturesFromRow(view, id, byId.get(id), now));
  }

  async holds(): Promise<boolean> {
    // The rows live in the same database as the run records and commit with them.
    return true;
  }

  /** One statement each in the run's transaction: readers see the previous run's rows until it commits (MVCC). */
  async write(tx: pg.ClientBase, run: OnlineWrite): Promise<number> {
    const name = run.view.name;
    if (run.replaceAll) await tx.query('delete from feature_online where view_name = $1', [name]);
    else await tx.query(`delete from feature_online where view_name = $1 and entity_id in (${run.removedSql})`, [name]);
    const upsert = await tx.query(
      `insert into feature_online (view_name, entity_id, feature_values, event_time, materialized_at)
       select $1, c.entity_id, c.feature_values, c.event_time, now() from (${run.changedSql}) c
       on conflict (view_name, entity_id) do update set feature_values = excluded.feature_values, event_time = excluded.event_time,
         materialized_at = excluded.materialized_at`,
      [name],
    );
    return upsert.rowCount ?? 0;
  }

  async dropView(tx: pg.ClientBase, viewName: string): Promise<void> {
    await tx.query('delete from feature_online where view_name = $1', [viewName]);
  }

  async close(): Promise<void> {
    // The pool belongs to the runtime.
  }
}

/** The backend the configuration names; a Redis store is connected (and proven with a PING) before it is returned. */
export async function openOnlineStore(setting: Config['onlineStore'], db: Db): Promise<OnlineStore> {
  if (setting.backend === 'postgres') return new PostgresOnlineStore(db);
  return RedisOnlineStore.connect(setting.url, db);
}
