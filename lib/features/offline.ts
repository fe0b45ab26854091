// Offline: the point-in-time correct training frame, built in Postgres and stored as a dataset version.
import { randomUUID } from 'node:crypto';
import { ingestDataset, loadDatasetTable } from '../data/datasets.js';
import type { IngestionResult } from '../data/types.js';
import { ValidationError } from '../errors.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import type { FeatureView } from './declaration.js';
import { recordFrameViews } from './frame-lineage.js';
import { resolveSourceVersion } from './registry.js';
import { featureJoin, indexStagedSource } from './sql.js';
import { entityText, scratchName, stageArrowTable } from './staging.js';

export interface TrainingFrameInput {
  /** Dataset version holding the label table: an entity column, a timestamp column and any label columns. */
  labelsVersionId: string;
  /** Label column holding the entity key; default each view's `entity.joinKey` (all views must share it). */
  entityColumn?: string;
  /** Label column (timestamp) each row's features are taken as of. */
  timestampColumn: string;
  views: FeatureView[];
  /** Also drop source rows created (source.createdTime) after the label time, so backfills cannot leak. */
  createdTimeGuard?: boolean;
  /** Dataset name the frame is stored under. */
  outputName: string;
  runId?: string;
}

export interface TrainingFrameResult {
  dataset: IngestionResult;
  featureColumns: string[];
  /** Per feature, how many label rows got no value (no row within TTL, or a null value). */
  missing: Record<string, number>;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Stages the label version and each view's source version in Postgres, joins them point in time
 * (each label row sees only the latest source row with event time <= its timestamp and within TTL,
 * optionally created by then), and ingests the result through a `postgres:default` query as a new
 * dataset version. Label columns come first, in order, then each view's features.
 */
export async function buildTrainingFrame(deps: { db: Db; artifacts: ArtifactStore }, input: TrainingFrameInput): Promise<TrainingFrameResult> {
  if (input.views.length === 0) throw new ValidationError('A training frame needs at least one feature view.');
  const entityColumn = input.entityColumn ?? input.views[0].entity.joinKey;
  const labels = await loadDatasetTable(deps, input.labelsVersionId);
  const labelCols = labels.version.columns;
  const entityCol = labelCols.find((c) => c.name === entityColumn);
  const tsCol = labelCols.find((c) => c.name === input.timestampColumn);
  if (!entityCol) throw new ValidationError(`Label version ${labels.version.id} has no entity column ${JSON.stringify(entityColumn)}.`);
  if (!tsCol || tsCol.type !== 'timestamp') throw new ValidationError(`Label version ${labels.version.id} needs a timestamp column ${JSON.stringify(input.timestampColumn)}.`);
  const names = new Set(labelCols.map((c) => c.name));
  for (const view of input.views) {
    for (const f of view.features) {
      if (names.has(f.name)) throw new ValidationError(`Feature ${view.name}.${f.name} collides with another column of the frame; rename it.`);
      names.add(f.name);
    }
  }

  const created: string[] = [];
  const client = await deps.db.connect();
  try {
    const labelTable = scratchName('fs_labels');
    created.push(labelTable);
    const stagedLabels = await stageArrowTable(client, labelTable, labels.table, labelCols);
    const selects = labelCols.map((c) => `anchor.${stagedLabels.columns.get(c.name)!.column} as ${quoteIdent(c.name)}`);
    const joins: string[] = [];
    const featureColumns: string[] = [];
    const sources: Array<{ view: FeatureView; sourceVersionId: string }> = [];
    for (const [k, view] of input.views.entries()) {
      const version = await resolveSourceVersion(deps.db, view);
      sources.push({ view, sourceVersionId: version.id });
      const source = await loadDatasetTable(deps, version.id);
      const table = scratchName('fs_src');
      created.push(table);
      const staged = await stageArrowTable(client, table, source.table, source.version.columns);
      await indexStagedSource(client, view, staged);
      const join = featureJoin(view, staged, { k, anchor: 'anchor', ttl: true, createdTimeGuard: input.createdTimeGuard ?? false });
      joins.push(join.joins);
      for (const c of join.columns) {
        selects.push(`${c.expr} as ${quoteIdent(c.name)}`);
        featureColumns.push(c.name);
      }
    }
    const frame = scratchName('fs_frame');
    created.push(frame);
    const entity = entityText(`l.${stagedLabels.columns.get(entityColumn)!.column}`);
    const ts = `l.${stagedLabels.columns.get(input.timestampColumn)!.column}`;
    await client.query(
      `create unlogged table ${frame} as select anchor.row_no as label_row, ${selects.join(', ')}
       from (select l.*, ${entity} as entity_id, ${ts} as ts from ${labelTable} l) anchor
       ${joins.join('\n')}`,
    );
    const missing: Record<string, number> = {};
    if (featureColumns.length > 0) {
      const { rows } = await client.query<Record<string, string>>(
        `select ${featureColumns.map((f, i) => `count(*) filter (where ${quoteIdent(f)} is null) as m${i}`).join(', ')} from ${frame}`,
      );
      featureColumns.forEach((f, i) => (missing[f] = Number(rows[0][`m${i}`])));
    }
    const outCols = [...labelCols.map((c) => c.name), ...featureColumns].map(quoteIdent).join(', ');
    const dataset = await ingestDataset(deps, {
      name: input.outputName,
      sourceUri: 'postgres:default',
      query: `select ${outCols} from ${frame} order by label_row`,
      runId: input.runId ?? `frame-${randomUUID()}`,
    });
    await recordFrameViews(deps.db, dataset.id, sources);
    return { dataset, featureColumns, missing };
  } finally {
    for (const t of created) await client.query(`drop table if exists ${t}`).catch(() => {});
    client.release();
  }
}
