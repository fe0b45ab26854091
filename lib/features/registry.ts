// The feature view registry in Postgres: one declaration per name, versioned by content.
import { canonicalJson } from '../util/canonical-json.js';
import { createHash } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors.js';
import { listDatasetVersions, getDatasetVersion } from '../data/datasets.js';
import type { DatasetVersion } from '../data/types.js';
import type { Db } from '../storage/db.js';
import { withTransaction } from '../storage/db.js';
import { parseFeatureView, type FeatureView } from './declaration.js';
import type { OnlineStore } from './online-store.js';

export interface RegisteredFeatureView {
  name: string;
  version: number;
  sha256: string;
  declaration: FeatureView;
  watermark: string | null;
  watermarkDatasetVersionId: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  name: string;
  version: number;
  sha256: string;
  declaration: FeatureView;
  watermark: Date | null;
  watermark_dataset_version_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'name, version, sha256, declaration, watermark, watermark_dataset_version_id, created_at, updated_at';

function fromRow(r: Row): RegisteredFeatureView {
  return {
    name: r.name,
    version: r.version,
    sha256: r.sha256,
    declaration: r.declaration,
    watermark: r.watermark?.toISOString() ?? null,
    watermarkDatasetVersionId: r.watermark_dataset_version_id,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** A declaration's identity: the sha256 of its canonical JSON. */
export function featureViewSha256(view: FeatureView): string {
  return createHash('sha256').update(canonicalJson(view)).digest('hex');
}

/**
 * Stores a declaration. The same content returns the stored view (`created: false`); a changed one
 * becomes the next version, and its online values (in `online`, before the registry commits),
 * entity digests and watermark are dropped, so the next materialization recomputes every entity
 * under the new definition.
 */
export async function registerFeatureView(
  db: Db,
  online: Pick<OnlineStore, 'dropView'>,
  input: unknown,
): Promise<RegisteredFeatureView & { created: boolean }> {
  const view = parseFeatureView(input);
  const sha256 = featureViewSha256(view);
  return withTransaction(db, async (client) => {
    const { rows } = await client.query<Row>(`select ${COLUMNS} from feature_views where name = $1 for update`, [view.name]);
    const existing = rows[0];
    if (existing && existing.sha256 === sha256) return { ...fromRow(existing), created: false };
    if (existing) {
      await client.query('delete from feature_entity_digests where view_name = $1', [view.name]);
      await online.dropView(client, view.name);
      const updated = await client.query<Row>(
        `update feature_views set declaration = $2, sha256 = $3, version = version + 1, owner = $4, watermark = null,
           watermark_dataset_version_id = null, updated_at = now() where name = $1 returning ${COLUMNS}`,
        [view.name, JSON.stringify(view), sha256, view.owner],
      );
      return { ...fromRow(updated.rows[0]), created: true };
    }
    const inserted = await client.query<Row>(
      `insert into feature_views (name, declaration, sha256, owner) values ($1, $2, $3, $4) returning ${COLUMNS}`,
      [view.name, JSON.stringify(view), sha256, view.owner],
    );
    return { ...fromRow(inserted.rows[0]), created: true };
  });
}

export async function getFeatureView(db: Db, name: string): Promise<RegisteredFeatureView> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from feature_views where name = $1`, [name]);
  if (!rows[0]) throw new NotFoundError(`Feature view ${JSON.stringify(name)} is not registered; POST its declaration to /v1/feature-views.`);
  return fromRow(rows[0]);
}

export async function listFeatureViews(db: Db): Promise<RegisteredFeatureView[]> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from feature_views order by name`);
  return rows.map(fromRow);
}

/** The dataset version a view reads: its pinned version, else the dataset's latest. */
export async function resolveSourceVersion(db: Db, view: FeatureView): Promise<DatasetVersion> {
  if (view.source.versionId) {
    const v = await getDatasetVersion(db, view.source.versionId);
    if (v.name !== view.source.dataset) throw new ValidationError(`Feature view ${view.name} pins ${v.id}, which belongs to dataset ${v.name}, not ${view.source.dataset}.`);
    return v;
  }
  const [latest] = await listDatasetVersions(db, view.source.dataset);
  if (!latest) throw new NotFoundError(`Feature view ${view.name} reads dataset ${JSON.stringify(view.source.dataset)}, which has no versions yet; ingest it first.`);
  return latest;
}
