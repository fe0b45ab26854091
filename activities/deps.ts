// What activities need from the outside world; built once per worker process.
import type { ArtifactStore } from '../lib/storage/artifacts.js';
import type { Db } from '../lib/storage/db.js';

export interface ActivityDeps {
  db: Db;
  artifacts: ArtifactStore;
}
