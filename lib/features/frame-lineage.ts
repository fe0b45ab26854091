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

/**
 * One insert for all the views; each view's registry version is looked up in it. The frame is
 * content-addressed, so a rebuild from the same inputs finds its rows already there.
 */
export async function recordFrameViews(db: Db, frameVersionId: string, sources: Array<{ view: FeatureView; sourceVersionId: string }>): Promise<void> {
  if (sources.length === 0) return;
  await db.query(
    `insert into training_frame_views (dataset_version_id, view_name, view_sha256, view_version, source_dataset_version_id)
     select $1, s.name, s.sha256, v.version, s.source
     from unnest($2::text[], $3::text[], $4::text[]) as s (name, sha256, source)
       left join feature_views v on v.name = s.name and v.sha256 = s.sha256
     on conflict (dataset_version_id, view_name) do nothing`,
    [frameVersionId, sources.map((s) => s.view.name), sources.map((s) => featureViewSha256(s.view)), sources.map((s) => s.sourceVersionId)],
  );
}

/** Empty for a dataset version that is not a training frame. */
export async function frameFeatureViews(db: Db, datasetVersionId: string): Promise<FrameFeatureView[]> {
  const { rows } = await db.query<{ view_name: string; view_version: number | null; view_sha256: string; source_dataset_version_id: string }>(
    'select view_name, view_version, view_sha256, source_dataset_version_id from training_frame_views where dataset_version_id = $1 order by view_name',
    [datasetVersionId],
  );
  return rows.map((v) => ({ name: v.view_name, version: v.view_version, sha256: v.view_sha256, sourceDatasetVersionId: v.source_dataset_version_id }));
}
