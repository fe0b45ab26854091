// Batch scoring: a dataset version scored by one model version in Arrow batches. Each batch becomes a part
// (a scored Arrow IPC artifact, recorded in batch_scoring_parts) before progress is reported, so a retried
// or restarted run resumes after the last committed batch; the result is assembled from exactly one part
// per batch. Temporal-free: the activities in activities/batch-scoring.ts heartbeat through `onBatch`.
import { makeVector, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { getDatasetVersion } from '../data/datasets.js';
import type { ColumnType } from '../data/types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { createSession, scoreColumns, type InputColumns, type Scores } from '../onnx/session.js';
import { getModelVersion, getVersionByAlias } from '../registry/registry.js';
import { ALIAS_PATTERN, PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import { parseArtifactUri, type ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import type { ModelSignature } from '../training/types.js';

export const DEFAULT_BATCH_ROWS = 10_000;
export const MAX_BATCH_ROWS = 1_000_000;
/** The output column holding each row's 0-based position in the dataset version. */
export const ROW_INDEX_COLUMN = 'row_index';

export interface BatchScoringInput {
  datasetVersionId: string;
  modelName: string;
  /** The version to score with; or `alias` (default `production`), resolved once when the run is planned. */
  version?: number;
  alias?: string;
  /** Dataset columns copied to the output next to the predictions (e.g. the entity id). */
  keyColumns?: string[];
  /** Rows per batch (default 10 000): the unit of scoring, heartbeats and resumption. */
  batchRows?: number;
  requestedBy?: string;
}

/** Everything the scoring activities need, fixed when the run is planned (ids and URIs only). */
export interface BatchScoringPlan {
  runId: string;
  datasetVersionId: string;
  datasetUri: string;
  modelName: string;
  version: number;
  modelUri: string;
  modelSha256: string;
  keyColumns: string[];
  batchRows: number;
  rows: number;
  batches: number;
}

export interface BatchScoringResult {
  runId: string;
  modelName: string;
  version: number;
  datasetVersionId: string;
  rows: number;
  batches: number;
  resultUri: string;
  resultSha256: string;
}

export type BatchScoringStatus = 'running' | 'completed' | 'failed';

export interface BatchScoringRun {
  id: string;
  status: BatchScoringStatus;
  modelName: string;
  version: number | null;
  alias: string | null;
  datasetVersionId: string;
  keyColumns: string[];
  batchRows: number;
  batches: number | null;
  batchesDone: number;
  rows: number | null;
  resultUri: string | null;
  resultSha256: string | null;
  error: string | null;
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** The prediction columns a signature produces: `prediction` for a regressor, else `label` and `probability_<class>`. */
export function predictionColumns(signature: ModelSignature): string[] {
  if (signature.task === 'regression') return ['prediction'];
  return ['label', ...signature.classes.map((c) => `probability_${c}`)];
}

const FEATURE_TYPES: Record<'float' | 'string', ColumnType> = { float: 'float64', string: 'utf8' };

/**
 * Checks the request against the dataset version and the model version and fixes the version (an alias is
 * resolved now, so a retry scores with the same model even if the alias moves). Unknown dataset, model or
 * version: NotFoundError; columns that are missing, of the wrong type or clash with the output: ValidationError.
 */
export async function planBatchScoring(db: Db, runId: string, input: BatchScoringInput): Promise<BatchScoringPlan> {
  if (input.version !== undefined && input.alias !== undefined) throw new ValidationError('Name either a version or an alias, not both.');
  if (input.version !== undefined && (!Number.isInteger(input.version) || input.version < 1)) throw new ValidationError(`version must be a positive integer (got ${input.version}).`);
  if (input.alias !== undefined && !new RegExp(ALIAS_PATTERN).test(input.alias)) throw new ValidationError(`alias ${JSON.stringify(input.alias)} is not an alias name.`);
  const batchRows = input.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_ROWS) throw new ValidationError(`batchRows must be an integer from 1 to ${MAX_BATCH_ROWS} (got ${batchRows}).`);
  const dataset = await getDatasetVersion(db, input.datasetVersionId);
  const model: ModelVersion =
    input.version !== undefined ? await getModelVersion(db, input.modelName, input.version) : await getVersionByAlias(db, input.modelName, input.alias ?? PRODUCTION_ALIAS);
  const columns = new Map(dataset.columns.map((c) => [c.name, c.type]));
  const listed = dataset.columns.map((c) => `${c.name} (${c.type})`).join(', ');
  for (const f of model.signature.features) {
    const type = columns.get(f.name);
    if (type === undefined) throw new ValidationError(`Dataset ${dataset.id} has no column ${JSON.stringify(f.name)}, which ${input.modelName} v${model.version} needs; its columns are ${listed}.`);
    if (type !== FEATURE_TYPES[f.type]) throw new ValidationError(`Column ${JSON.stringify(f.name)} of dataset ${dataset.id} is ${type}; ${input.modelName} v${model.version} takes it as ${FEATURE_TYPES[f.type]}.`);
  }
  const keyColumns = input.keyColumns ?? [];
  const outputs = new Set([ROW_INDEX_COLUMN, ...predictionColumns(model.signature)]);
  for (const k of keyColumns) {
    if (!columns.has(k)) throw new ValidationError(`Key column ${JSON.stringify(k)} is not in dataset ${dataset.id}; its columns are ${listed}.`);
    if (outputs.has(k)) throw new ValidationError(`Key column ${JSON.stringify(k)} has the name of an output column (${[...outputs].join(', ')}).`);
  }
  if (new Set(keyColumns).size !== keyColumns.length) throw new ValidationError('keyColumns names a column twice.');
  if (dataset.rowCount === 0) throw new ValidationError(`Dataset ${dataset.id} has no rows to score.`);
  return {
    runId,
    datasetVersionId: dataset.id,
    datasetUri: dataset.uri,
    modelName: input.modelName,
    version: model.version,
    modelUri: model.uri,
    modelSha256: model.sha256,
    keyColumns,
    batchRows,
    rows: dataset.rowCount,
    batches: Math.ceil(dataset.rowCount / batchRows),
  };
}

/** Feature columns for scoring from an Arrow table (float64 -> float32 with NaN for null; utf8 -> string or null), as online rows give. */
export function arrowToColumns(table: Table, signature: ModelSignature): InputColumns {
  const out: InputColumns = {};
  const n = table.numRows;
  for (const f of signature.features) {
    const v = table.getChild(f.name);
    if (!v) throw new ValidationError(`The batch has no column ${JSON.stringify(f.name)}.`);
    if (f.type === 'string') {
      const col = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const x = v.get(i) as string | null;
        col[i] = x === null ? null : String(x);
      }
      out[f.name] = col;
    } else {
      const col = new Float32Array(n);
      if (v.nullCount === 0) col.set(v.toArray() as Float64Array);
      else for (let i = 0; i < n; i++) col[i] = v.isValid(i) ? Number(v.get(i)) : Number.NaN;
      out[f.name] = col;
    }
  }
  return out;
}

/** One scored part: row index, the key columns as stored, and the prediction columns (same schema for every part). */
export function scoredTable(batch: Table, firstRow: number, keyColumns: string[], signature: ModelSignature, scores: Scores): Table {
  const n = batch.numRows;
  const columns: Record<string, Vector> = {};
  columns[ROW_INDEX_COLUMN] = makeVector(Int32Array.from({ length: n }, (_, i) => firstRow + i));
  for (const k of keyColumns) {
    const v = batch.getChild(k)!;
    columns[k] = vectorFromArray([...v] as unknown[], v.type);
  }
  const k = signature.classes.length;
  if (signature.task === 'regression') {
    columns.prediction = makeVector(Float32Array.from({ length: n }, (_, i) => scores.probabilities[i]));
  } else {
    const stringLabels = signature.classes.some((c) => typeof c === 'string');
    columns.label = stringLabels ? vectorFromArray(scores.labels.map(String), new Utf8()) : makeVector(Float64Array.from(scores.labels.map(Number)));
    signature.classes.forEach((c, j) => {
      columns[`probability_${c}`] = makeVector(Float32Array.from({ length: n }, (_, i) => scores.probabilities[i * k + j]));
    });
  }
  return new Table(columns);
}

/**
 * Where a (re)started attempt begins: at the heartbeat's `nextBatch`, checked against the committed parts
 * (a part below it that is missing is redone) and moved past parts committed after the last heartbeat that
 * reached the server (heartbeats are throttled; parts are the durable record).
 */
export function resumePoint(batches: number, committed: ReadonlySet<number>, heartbeatNext?: number): number {
  let start = Math.min(Math.max(0, heartbeatNext ?? 0), batches);
  for (let i = 0; i < start; i++) {
    if (!committed.has(i)) {
      start = i;
      break;
    }
  }
  while (start < batches && committed.has(start)) start++;
  return start;
}

export async function committedParts(db: Db, runId: string): Promise<Map<number, { uri: string; rows: number }>> {
  const { rows } = await db.query<{ batch_index: number; uri: string; rows: number }>('select batch_index, uri, rows from batch_scoring_parts where run_id = $1', [runId]);
  return new Map(rows.map((r) => [r.batch_index, { uri: r.uri, rows: r.rows }]));
}

export interface ScoreProgress {
  batchIndex: number;
  /** Batches committed so far (this one included): the next attempt starts here at the earliest. */
  nextBatch: number;
  batches: number;
  rows: number;
}

export interface ScoreOptions {
  /** `nextBatch` from the previous attempt's last heartbeat, if any. */
  heartbeatNext?: number;
  /** Called once the resume point is known, before any scoring. */
  onStart?: (info: { startBatch: number; committed: number }) => void;
  /** Called after each batch is committed (part stored and recorded). */
  onBatch?: (progress: ScoreProgress) => void;
  signal?: AbortSignal;
}

/**
 * Scores every batch not yet committed: slices the dataset into `batchRows` batches, scores each with the
 * plan's model (bytes verified against its sha256), stores the scored part (content-addressed, so a redone
 * batch writes the same bytes) and upserts its row, then reports progress. Returns the batches scored now.
 */
export async function scoreBatches(deps: { db: Db; artifacts: ArtifactStore }, plan: BatchScoringPlan, options: ScoreOptions = {}): Promise<{ startBatch: number; scored: number }> {
  const committed = await committedParts(deps.db, plan.runId);
  const startBatch = resumePoint(plan.batches, new Set(committed.keys()), options.heartbeatNext);
  options.onStart?.({ startBatch, committed: committed.size });
  if (startBatch >= plan.batches) return { startBatch, scored: 0 };
  if (parseArtifactUri(plan.modelUri) !== plan.modelSha256) throw new ValidationError(`Model ${plan.modelName} v${plan.version}: artifact ${plan.modelUri} is not sha256 ${plan.modelSha256}.`);
  const model = await getModelVersion(deps.db, plan.modelName, plan.version);
  const table = tableFromIPC(await deps.artifacts.get(plan.datasetUri));
  if (table.numRows !== plan.rows) throw new ValidationError(`Dataset ${plan.datasetVersionId} has ${table.numRows} rows; the run was planned for ${plan.rows}.`);
  const session = await createSession(await deps.artifacts.get(plan.modelUri));
  let scored = 0;
  try {
    for (let b = startBatch; b < plan.batches; b++) {
      options.signal?.throwIfAborted();
      const from = b * plan.batchRows;
      const batch = table.slice(from, Math.min(plan.rows, from + plan.batchRows));
      const scores = await scoreColumns(session, model.signature, arrowToColumns(batch, model.signature), batch.numRows);
      const part = await deps.artifacts.put(tableToIPC(scoredTable(batch, from, plan.keyColumns, model.signature, scores), 'file'));
      await deps.db.query(
        `insert into batch_scoring_parts (run_id, batch_index, uri, rows) values ($1, $2, $3, $4)
         on conflict (run_id, batch_index) do update set uri = excluded.uri, rows = excluded.rows, committed_at = now()`,
        [plan.runId, b, part.uri, batch.numRows],
      );
      scored++;
      options.onBatch?.({ batchIndex: b, nextBatch: b + 1, batches: plan.batches, rows: batch.numRows });
    }
  } finally {
    await session.release().catch(() => {});
  }
  return { startBatch, scored };
}

/**
 * Joins the parts, in batch order, into one Arrow IPC file and marks the run completed. Idempotent: the
 * parts are deterministic, so the result has the same sha256 however often it is assembled.
 */
export async function assembleResult(deps: { db: Db; artifacts: ArtifactStore }, plan: BatchScoringPlan): Promise<BatchScoringResult> {
  const parts = await committedParts(deps.db, plan.runId);
  const tables: Table[] = [];
  for (let b = 0; b < plan.batches; b++) {
    const part = parts.get(b);
    if (!part) throw new Error(`Batch scoring run ${plan.runId}: batch ${b} of ${plan.batches} has no committed part.`);
    tables.push(tableFromIPC(await deps.artifacts.get(part.uri)));
  }
  const result = new Table(tables.flatMap((t) => t.batches));
  if (result.numRows !== plan.rows) throw new Error(`Batch scoring run ${plan.runId}: the parts hold ${result.numRows} rows, not ${plan.rows}.`);
  const stored = await deps.artifacts.put(tableToIPC(result, 'file'));
  await deps.db.query(
    `update batch_scoring_runs set status = 'completed', result_uri = $2, result_sha256 = $3, rows = $4, error = null, finished_at = coalesce(finished_at, now())
     where id = $1`,
    [plan.runId, stored.uri, stored.sha256, plan.rows],
  );
  return { runId: plan.runId, modelName: plan.modelName, version: plan.version, datasetVersionId: plan.datasetVersionId, rows: plan.rows, batches: plan.batches, resultUri: stored.uri, resultSha256: stored.sha256 };
}

// ---- Run records ----

/** Records the run as running (idempotent: a retry or a re-run of the same id keeps the one row). */
export async function startRun(db: Db, runId: string, input: BatchScoringInput): Promise<void> {
  await db.query(
    `insert into batch_scoring_runs (id, model_name, model_version, model_alias, dataset_version_id, key_columns, batch_rows, status, requested_by)
     values ($1, $2, $3, $4, $5, $6, $7, 'running', $8) on conflict (id) do nothing`,
    [
      runId,
      input.modelName,
      input.version ?? null,
      input.version === undefined ? (input.alias ?? PRODUCTION_ALIAS) : null,
      input.datasetVersionId,
      input.keyColumns ?? [],
      input.batchRows ?? DEFAULT_BATCH_ROWS,
      input.requestedBy ?? null,
    ],
  );
}

export async function recordPlan(db: Db, plan: BatchScoringPlan): Promise<void> {
  await db.query('update batch_scoring_runs set model_version = $2, batches = $3, rows = $4 where id = $1', [plan.runId, plan.version, plan.batches, plan.rows]);
}

export async function failRun(db: Db, runId: string, error: string): Promise<void> {
  await db.query(`update batch_scoring_runs set status = 'failed', error = $2, finished_at = now() where id = $1 and status <> 'completed'`, [runId, error]);
}

interface RunRow {
  id: string;
  status: BatchScoringStatus;
  model_name: string;
  model_version: number | null;
  model_alias: string | null;
  dataset_version_id: string;
  key_columns: string[];
  batch_rows: number;
  batches: number | null;
  batches_done: number;
  rows: string | null;
  result_uri: string | null;
  result_sha256: string | null;
  error: string | null;
  requested_by: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export async function getRun(db: Db, runId: string): Promise<BatchScoringRun> {
  const { rows } = await db.query<RunRow>(
    `select r.*, (select count(*)::int from batch_scoring_parts p where p.run_id = r.id) as batches_done from batch_scoring_runs r where r.id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r) throw new NotFoundError(`Batch scoring run ${runId} does not exist.`);
  return {
    id: r.id,
    status: r.status,
    modelName: r.model_name,
    version: r.model_version,
    alias: r.model_alias,
    datasetVersionId: r.dataset_version_id,
    keyColumns: r.key_columns,
    batchRows: r.batch_rows,
    batches: r.batches,
    batchesDone: r.batches_done,
    rows: r.rows === null ? null : Number(r.rows),
    resultUri: r.result_uri,
    resultSha256: r.result_sha256,
    error: r.error,
    requestedBy: r.requested_by,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}
