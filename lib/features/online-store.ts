// The online store as serving sees it: latest feature values of many entities of one view in one
// round trip, TTL enforced. Postgres (the feature_online table) is the default backend.
import type { Db } from '../storage/db.js';
import { getFeatureView } from './registry.js';
import { onlineFeaturesFromRow, type OnlineFeatures, type OnlineRow } from './online.js';

export interface OnlineStore {
  readonly backend: 'postgres' | 'redis';
  /** One answer per requested id, in request order; unknown entities come back `missing`. */
  read(viewName: string, entityIds: readonly string[], now?: number): Promise<OnlineFeatures[]>;
  close(): Promise<void>;
}

export class PostgresOnlineStore implements OnlineStore {
  readonly backend = 'postgres' as const;

  constructor(private readonly db: Db) {}

  async read(viewName: string, entityIds: readonly string[], now: number = Date.now()): Promise<OnlineFeatures[]> {
    const { declaration: view } = await getFeatureView(this.db, viewName);
    const { rows } = await this.db.query<OnlineRow & { entity_id: string }>(
      'select entity_id, feature_values, event_time, materialized_at from feature_online where view_name = $1 and entity_id = any($2::text[])',
      [viewName, entityIds],
    );
    const byId = new Map(rows.map((r) => [r.entity_id, r]));
    return entityIds.map((id) => onlineFeaturesFromRow(view, id, byId.get(id), now));
  }

  async close(): Promise<void> {
    // The pool belongs to the runtime.
  }
}
