// Feedback: labels for logged predictions, arriving any time later; the latest label for a prediction wins.
import type { Db } from '../storage/db.js';
import type { ModelSignature } from '../training/types.js';
import { isPredictionId, labelProblem, type FeedbackLabel } from './labels.js';

export interface FeedbackItem {
  predictionId: string;
  label: FeedbackLabel;
}

export type FeedbackOutcome =
  | { predictionId: string; status: 200; outcome: 'accepted' | 'replaced'; modelName: string; version: number; previousLabel?: unknown }
  | { predictionId: string; status: 400 | 404; outcome: 'invalid' | 'unknown_prediction'; error: string };

export interface FeedbackResult {
  items: FeedbackOutcome[];
  accepted: number;
  /** Accepted items that replaced an earlier label (stored or earlier in the same batch). */
  replaced: number;
  rejected: number;
}

interface PredictionRow {
  id: string;
  model_name: string;
  version: number;
  signature: ModelSignature | null;
  previous: unknown;
  has_previous: boolean;
}

/**
 * Records labels. Per item: 404 for an unknown prediction id, 400 for a label the version cannot
 * have; the rest are stored in one upsert. The same id twice in a batch: the later item wins and
 * both are answered (the earlier as accepted, the later as replaced).
 */
export async function recordFeedback(db: Db, items: FeedbackItem[]): Promise<FeedbackResult> {
  const ids = [...new Set(items.map((i) => i.predictionId).filter(isPredictionId))].map((id) => id.toLowerCase());
  const { rows } = await db.query<PredictionRow>(
    `select p.id::text as id, p.model_name, p.version, v.signature, f.label as previous, f.prediction_id is not null as has_previous
     from predictions p
     left join model_versions v on v.model_name = p.model_name and v.version = p.version
     left join prediction_feedback f on f.prediction_id = p.id
     where p.id = any($1::uuid[])`,
    [ids],
  );
  const known = new Map(rows.map((r) => [r.id, r]));
  const outcomes: FeedbackOutcome[] = [];
  const latest = new Map<string, { label: FeedbackLabel; model: string; version: number }>();
  const seen = new Map<string, unknown>();
  for (const item of items) {
    const id = item.predictionId.toLowerCase();
    const p = isPredictionId(id) ? known.get(id) : undefined;
    if (!p) {
      outcomes.push({ predictionId: item.predictionId, status: 404, outcome: 'unknown_prediction', error: `No logged prediction has id ${JSON.stringify(item.predictionId)}; send the id the predict answer gave.` });
      continue;
    }
    const problem = p.signature ? labelProblem(item.label, p.signature) : null;
    if (problem) {
      outcomes.push({ predictionId: item.predictionId, status: 400, outcome: 'invalid', error: `${p.model_name} v${p.version}: ${problem}.` });
      continue;
    }
    const hadPrevious = seen.has(id) || p.has_previous;
    const previousLabel = seen.has(id) ? seen.get(id) : p.previous;
    outcomes.push({ predictionId: item.predictionId, status: 200, outcome: hadPrevious ? 'replaced' : 'accepted', modelName: p.model_name, version: p.version, ...(hadPrevious ? { previousLabel } : {}) });
    seen.set(id, item.label);
    latest.set(id, { label: item.label, model: p.model_name, version: p.version });
  }
  if (latest.size > 0) {
    const payload = [...latest].map(([id, v]) => ({ id, label: v.label, model_name: v.model, version: v.version }));
    // `updates` counts replacements, including those that happened inside this batch.
    const inBatch = new Map<string, number>();
    for (const item of items) {
      const id = item.predictionId.toLowerCase();
      if (latest.has(id)) inBatch.set(id, (inBatch.get(id) ?? 0) + 1);
    }
    await db.query(
      `insert into prediction_feedback (prediction_id, model_name, version, label, updates)
       select r.id, r.model_name, r.version, r.label, r.extra
       from jsonb_to_recordset($1::jsonb) as r(id uuid, model_name text, version int, label jsonb, extra int)
       on conflict (prediction_id) do update set label = excluded.label, received_at = now(),
         updates = prediction_feedback.updates + 1 + excluded.updates`,
      [JSON.stringify(payload.map((p) => ({ ...p, extra: (inBatch.get(p.id) ?? 1) - 1 })))],
    );
  }
  return feedbackResult(outcomes);
}

/** The answer to a batch: its outcomes in request order and their counts. */
export function feedbackResult(outcomes: FeedbackOutcome[]): FeedbackResult {
  const accepted = outcomes.filter((o) => o.status === 200).length;
  return {
    items: outcomes,
    accepted,
    replaced: outcomes.filter((o) => o.status === 200 && o.outcome === 'replaced').length,
    rejected: outcomes.length - accepted,
  };
}

/** Labelled predictions of a model received after `since` (the retraining volume trigger counts these). */
export async function countFeedback(db: Db, modelName: string, since: Date | null): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'select count(*) as n from prediction_feedback where model_name = $1 and ($2::timestamptz is null or received_at > $2)',
    [modelName, since],
  );
  return Number(rows[0].n);
}
