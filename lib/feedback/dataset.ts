// Feedback into training data: the labelled prediction log of a model becomes a new version of its
// training dataset (append mode, so the version's parent is the dataset the model was trained on),
// and the link back to the predictions and feedback is recorded in feedback_datasets.
import { getDatasetVersion, ingestDataset, type IngestProgress } from '../data/datasets.js';
import type { ColumnType } from '../data/types.js';
import { ValidationError } from '../errors.js';
import { getVersionByAlias } from '../registry/registry.js';
import { PRODUCTION_ALIAS } from '../registry/types.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { DEFAULT_TRAINING_PARAMS, type TrainingInput, type TrainingParams } from '../training/types.js';

const SQL_TYPE: Record<ColumnType, string> = { float64: 'float8', utf8: 'text', bool: 'boolean', timestamp: 'timestamptz' };
const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;
const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * SQL that reads a model's labelled predictions in the parent dataset's columns: features from
 * `inputs`, the target from the feedback label, every other column null.
 */
export function feedbackQuery(q: { modelName: string; target: string; features: string[]; columns: Array<{ name: string; type: ColumnType }>; until: Date }): string {
  const features = new Set(q.features);
  const select = q.columns.map((c) => {
    const type = SQL_TYPE[c.type];
    if (c.name === q.target) return `(f.label #>> '{}')::${type} as ${ident(c.name)}`;
    if (features.has(c.name)) return `(p.inputs ->> ${literal(c.name)})::${type} as ${ident(c.name)}`;
    return `null::${type} as ${ident(c.name)}`;
  });
  return `select ${select.join(', ')} from predictions p join prediction_feedback f on f.prediction_id = p.id
    where p.model_name = ${literal(q.modelName)} and f.received_at <= ${literal(q.until.toISOString())}::timestamptz order by p.at, p.id`;
}

export interface RetrainingPlan {
  /** The new dataset version (or the parent itself when there were no new labelled rows). */
  datasetVersionId: string;
  parentDatasetVersionId: string;
  labelledRows: number;
  training: TrainingInput;
}

/**
 * Builds the next training set of a model from its production version's dataset plus every labelled
 * prediction received until `until`, and the training input that retrains the same pipeline on it.
 * Idempotent per `runId` (the ingestion is content-addressed; the lineage row is keyed by it).
 */
export async function prepareRetraining(
  deps: { db: Db; artifacts: ArtifactStore },
  r: { modelName: string; runId: string; until: Date; startedBy: string; target?: string; features?: string[] },
  onProgress?: (p: IngestProgress) => void,
): Promise<RetrainingPlan> {
  const mv = await getVersionByAlias(deps.db, r.modelName, PRODUCTION_ALIAS);
  if (!mv.datasetVersionId) throw new ValidationError(`${r.modelName} v${mv.version} has no training dataset (uploaded model); retraining needs one.`);
  const parent = await getDatasetVersion(deps.db, mv.datasetVersionId);
  const target = r.target ?? String(mv.params.target ?? '');
  if (!target) throw new ValidationError(`${r.modelName} v${mv.version} does not record its target; set retrain.target in the monitoring policy.`);
  const features = r.features ?? mv.signature.features.map((f) => f.name);
  const { rows } = await deps.db.query<{ n: string }>(
    `select count(*) as n from predictions p join prediction_feedback f on f.prediction_id = p.id where p.model_name = $1 and f.received_at <= $2`,
    [r.modelName, r.until],
  );
  const labelledRows = Number(rows[0].n);
  let datasetVersionId = parent.id;
  if (labelledRows > 0) {
    const ingested = await ingestDataset(
      deps,
      { name: parent.name, sourceUri: 'postgres:default', query: feedbackQuery({ modelName: r.modelName, target, features, columns: parent.columns, until: r.until }), mode: 'append', runId: `${r.runId}-feedback` },
      onProgress,
    );
    datasetVersionId = ingested.id;
  }
  await deps.db.query(
    `insert into feedback_datasets (dataset_version_id, model_name, parent_dataset_version_id, labelled_rows, feedback_until, retraining_workflow_id)
     values ($1, $2, $3, $4, $5, $6) on conflict (retraining_workflow_id) do nothing`,
    [datasetVersionId, r.modelName, parent.id, labelledRows, r.until, r.runId],
  );
  const known = new Set([...Object.keys(DEFAULT_TRAINING_PARAMS), 'gbdt']);
  const params = Object.fromEntries(Object.entries(mv.params).filter(([k]) => known.has(k))) as Partial<TrainingParams>;
  return {
    datasetVersionId,
    parentDatasetVersionId: parent.id,
    labelledRows,
    training: { modelName: r.modelName, datasetVersionId, target, features, task: mv.signature.task, params, startedBy: r.startedBy, tags: { trigger: 'monitoring', retrainingRun: r.runId } },
  };
}
