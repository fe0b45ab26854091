// Which feature views built a training frame, kept so that runs and model versions trained on the
// frame can name them (view, registry version, declaration sha256, source dataset version).
import type { Db } from '../storage/db.js';
import type { FeatureView } from './declaration.js';
import { featureViewSha256 } from './registry.js';

export interface FrameFeatureView {
  name: string;
  /** The registry version, when the declaration used was the registered one; null otherwise. */
  version: number | null;
  sha256: string;
  sourceDatasetVersionId: string;
}

/** The frame is content-addressed, so a rebuild from the same inputs finds its rows already there. */
export async function recordFrameViews(db: Db, frameVersionId: string, sources: Array<{ view: FeatureView; sourceVersionId: string }>): Promise<void> {
  for (const { view, sourceVersionId } of sources) {
    const sha256 = featureViewSha256(view);
    const registered = await db.query<{ version: number }>('select version from feature_views where name = $1 and sha256 = $2', [view.name, sha256]);
    await db.query(
      `insert into training_frame_views (dataset_version_id, view_name, view_sha256, view_version, source_dataset_version_id)
       values ($1, $2, $3, $4, $5) on conflict (dataset_version_id, view_name) do nothing`,
      [frameVersionId, view.name, sha256, registered.rows[0]?.version ?? null, sourceVersionId],
    );
  }
}

/** Empty for a dataset version that is not a training frame. */
export async function frameFeatureViews(db: Db, datasetVersionId: string): Promise<FrameFeatureView[]> {
  const { rows } = await db.query<{ view_name: string; view_version: number | null; view_sha256: string; source_dataset_version_id: string }>(
    'select view_name, view_version, view_sha256, source_dataset_version_id from training_frame_views where dataset_version_id = $1 order by view_name',
    [datasetVersionId],
  );
  return rows.map((v) => ({ name: v.view_name, version: v.view_version, sha256: v.view_sha256, sourceDatasetVersionId: v.source_dataset_version_id }));
}
