// Where a version came from and how it fared: dataset, training run, gate evaluation, release decision.
import { frameFeatureViews, type FrameFeatureView } from '../features/frame-lineage.js';
import type { Db } from '../storage/db.js';
import { getModelVersion } from './registry.js';
import { reportPath, type ModelVersion } from './types.js';

export interface VersionLineage {
  version: ModelVersion;
  dataset: { id: string; name: string; version: number; sha256: string; uri: string; rowCount: number; sourceUri: string } | null;
  /** Feature views the training frame was built from; empty when the version trained on a plain dataset. */
  featureViews: FrameFeatureView[];
  trainingRun: { id: string; status: string; startedBy: string | null; params: Record<string, unknown>; createdAt: string } | null;
  evaluation: { passed: boolean; championVersion: number | null; evaluatedAt: string; reportPath: string; metrics: Record<string, number | null> } | null;
  decision: { approved: boolean; approver: string; reason: string; via: string; at: string; releaseId: string } | null;
  /** Code version, package versions, seed and machine recorded by experiment tracking for the training run. */
  environment: Record<string, unknown> | null;
}

export async function getVersionLineage(db: Db, modelName: string, versionNumber: number): Promise<VersionLineage> {
  const version = await getModelVersion(db, modelName, versionNumber);
  const [dataset, views, run, evaluation, decision, experiment] = await Promise.all([
    version.datasetVersionId
      ? db.query('select id, name, version, sha256, uri, row_count, source_uri from dataset_versions where id = $1', [version.datasetVersionId])
      : null,
    version.datasetVersionId ? frameFeatureViews(db, version.datasetVersionId) : [],
    version.trainingRunId ? db.query('select id, status, started_by, params, created_at from training_runs where id = $1', [version.trainingRunId]) : null,
    db.query('select passed, champion_version, evaluated_at, metrics from release_evaluations where model_name = $1 and version = $2', [modelName, versionNumber]),
    db.query(
      'select release_id, approved, approver, reason, via, decided_at from release_decisions where model_name = $1 and version = $2 order by decided_at desc limit 1',
      [modelName, versionNumber],
    ),
    version.trainingRunId ? db.query('select lineage from experiment_runs where id = $1', [version.trainingRunId]) : null,
  ]);
  const d = dataset?.rows[0];
  const r = run?.rows[0];
  const e = evaluation.rows[0];
  const x = decision.rows[0];
  return {
    version,
    dataset: d ? { id: d.id, name: d.name, version: d.version, sha256: d.sha256, uri: d.uri, rowCount: Number(d.row_count), sourceUri: d.source_uri } : null,
    featureViews: views,
    trainingRun: r ? { id: r.id, status: r.status, startedBy: r.started_by, params: r.params, createdAt: (r.created_at as Date).toISOString() } : null,
    evaluation: e
      ? { passed: e.passed, championVersion: e.champion_version, evaluatedAt: (e.evaluated_at as Date).toISOString(), reportPath: reportPath(modelName, versionNumber), metrics: e.metrics }
      : null,
    environment: (experiment?.rows[0]?.lineage as Record<string, unknown> | undefined) ?? null,
    decision: x ? { approved: x.approved, approver: x.approver, reason: x.reason, via: x.via, at: (x.decided_at as Date).toISOString(), releaseId: x.release_id } : null,
  };
}
