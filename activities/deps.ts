// What activities need from the outside world; built once per worker process.
import type { OnlineStore } from '../lib/features/online-store.js';
import type { ArtifactStore } from '../lib/storage/artifacts.js';
import type { Db } from '../lib/storage/db.js';

export interface ActivityDeps {
  db: Db;
  artifacts: ArtifactStore;
  /** The online feature store materialization writes: the one serving reads (Runtime.onlineStore). */
  onlineStore: OnlineStore;
}
