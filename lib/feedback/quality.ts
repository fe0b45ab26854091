// Live quality: logged predictions joined with their feedback labels by prediction id, scored with lib/evaluation.
import { accuracy, logLoss, rmse, rocAuc } from '../evaluation/index.js';
import type { Db } from '../storage/db.js';
import type { ModelSignature } from '../training/types.js';
import { classIndex } from './labels.js';

export interface LiveQuality {
  task: 'classification' | 'regression';
  /** Predictions in the window that have a label. */
  labelledRows: number;
  /** Labelled rows actually scored (capped at `maxRows`, newest first). */
  scoredRows: number;
  accuracy: number | null;
  rocAuc: number | null;
  logLoss: number | null;
  rmse: number | null;
  /** Why a metric is null (too few rows, one class only, ...). */
  notes: string[];
}

export interface LabelledPrediction {
  label: unknown;
  /** The logged outputs: `{label, probabilities}`, plus `modelLabel` when post-processing rewrote the label. */
  outputs: { label?: unknown; modelLabel?: unknown; probabilities?: Record<string, number> };
}

/** Quality judges the model, so a label rewritten by post-processing rules is read as the model said it. */
function modelLabel(r: LabelledPrediction): unknown {
  return r.outputs.modelLabel ?? r.outputs.label;
}

/** Labelled rows needed before a metric is reported; below it one lucky row would read as 100% accuracy. */
export const MIN_LABELLED_ROWS = 30;

function attempt(name: string, notes: string[], fn: () => number): number | null {
  try {
    const v = fn();
    return Number.isFinite(v) ? v : null;
  } catch (err) {
    notes.push(`${name}: ${(err as Error).message}`);
    return null;
  }
}

/** Quality metrics over labelled predictions of one version (pure; the rows come from SQL). */
export function scoreLabelled(signature: Pick<ModelSignature, 'classes' | 'task'>, rows: LabelledPrediction[], labelledRows = rows.length, minRows = MIN_LABELLED_ROWS): LiveQuality {
  const task = signature.task === 'regression' ? 'regression' : 'classification';
  const notes: string[] = [];
  const empty: LiveQuality = { task, labelledRows, scoredRows: rows.length, accuracy: null, rocAuc: null, logLoss: null, rmse: null, notes };
  if (rows.length < minRows) {
    notes.push(`${rows.length} labelled rows; at least ${minRows} are needed to report quality`);
    return empty;
  }
  if (task === 'regression') {
    const y = Float64Array.from(rows, (r) => Number(r.label));
    const p = Float64Array.from(rows, (r) => Number(modelLabel(r)));
    return { ...empty, rmse: attempt('rmse', notes, () => rmse(y, p)) };
  }
  const classes = signature.classes;
  const K = classes.length;
  const y = new Float64Array(rows.length);
  const predicted = new Float64Array(rows.length);
  const probabilities = new Float64Array(rows.length * K);
  rows.forEach((r, i) => {
    y[i] = classIndex(r.label, classes);
    predicted[i] = classIndex(modelLabel(r), classes);
    for (let k = 0; k < K; k++) probabilities[i * K + k] = Number(r.outputs.probabilities?.[String(classes[k])] ?? Number.NaN);
  });
  return {
    ...empty,
    accuracy: attempt('accuracy', notes, () => accuracy(y, predicted)),
    rocAuc: attempt('roc_auc', notes, () => rocAuc(y, probabilities)),
    logLoss: attempt('log_loss', notes, () => logLoss(y, probabilities)),
  };
}

/**
 * Live quality of a model version over [start, end) of prediction time, joined with feedback by
 * prediction id. Only rows the version itself answered count (status ok, or fallback when it was the
 * fallback); a declared default answer logged under a failed version says nothing about its quality.
 * The join and the count run in SQL; only the labelled rows (label, outputs) come back, at most `maxRows`.
 */
export async function liveQuality(
  db: Db,
  q: { modelName: string; version: number; signature: Pick<ModelSignature, 'classes' | 'task'>; start: Date; end: Date; maxRows?: number },
): Promise<LiveQuality> {
  const maxRows = q.maxRows ?? 200_000;
  const { rows } = await db.query<{ label: unknown; outputs: LabelledPrediction['outputs']; total: string }>(
    `select f.label, p.outputs, count(*) over () as total
     from predictions p join prediction_feedback f on f.prediction_id = p.id
     where p.model_name = $1 and p.version = $2 and p.at >= $3 and p.at < $4 and p.status in ('ok', 'fallback')
     order by p.at desc limit $5`,
    [q.modelName, q.version, q.start, q.end, maxRows],
  );
  const labelled = rows.length > 0 ? Number(rows[0].total) : 0;
  const quality = scoreLabelled(q.signature, rows, labelled);
  if (labelled > rows.length) quality.notes.push(`scored the newest ${rows.length} of ${labelled} labelled rows`);
  return quality;
}
