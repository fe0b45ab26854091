// Alerts: stored once per id (a retried activity does not duplicate them), POSTed to the model's webhook.
import { postWebhook } from '../notify/webhook.js';
import type { Db } from '../storage/db.js';
import type { Finding } from './alerts.js';

export interface AlertPayload {
  event: 'monitoring.alert';
  alertId: string;
  model: string;
  version: number | null;
  kind: Finding['kind'];
  subject: string;
  severity: Finding['severity'];
  summary: string;
  value?: number;
  threshold?: number;
  dedupKey: string;
  reportId: number;
  /** Where the full report is: the API route listing the model's reports. */
  reportPath: string;
  windowEnd: string;
}

export interface AlertRecord extends AlertPayload {
  createdAt: string;
  deliveredAt: string | null;
  deliveryError: string | null;
}

/**
 * Stores the alert (idempotent by id) and, when a webhook is set and it was not delivered yet, POSTs it.
 * A failed POST is recorded on the alert and thrown, so the activity retries with backoff.
 */
export async function raiseAlert(db: Db, payload: AlertPayload, webhook: string | null): Promise<{ delivered: boolean }> {
  await db.query(
    `insert into monitoring_alerts (id, model_name, kind, dedup_key, severity, summary, payload, report_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
    [payload.alertId, payload.model, payload.kind, payload.dedupKey, payload.severity, payload.summary, JSON.stringify(payload), payload.reportId],
  );
  if (!webhook) return { delivered: false };
  const { rows } = await db.query<{ delivered_at: Date | null }>('select delivered_at from monitoring_alerts where id = $1', [payload.alertId]);
  if (rows[0]?.delivered_at) return { delivered: true };
  try {
    await postWebhook(webhook, payload);
  } catch (err) {
    await db.query('update monitoring_alerts set delivery_error = $2 where id = $1', [payload.alertId, (err as Error).message]);
    throw err;
  }
  await db.query('update monitoring_alerts set delivered_at = now(), delivery_error = null where id = $1', [payload.alertId]);
  return { delivered: true };
}

export async function listAlerts(db: Db, q: { modelName?: string; limit?: number } = {}): Promise<AlertRecord[]> {
  const { rows } = await db.query<{ payload: AlertPayload; created_at: Date; delivered_at: Date | null; delivery_error: string | null }>(
    `select payload, created_at, delivered_at, delivery_error from monitoring_alerts
     where $1::text is null or model_name = $1 order by created_at desc, id limit $2`,
    [q.modelName ?? null, q.limit ?? 100],
  );
  return rows.map((r) => ({ ...r.payload, createdAt: r.created_at.toISOString(), deliveredAt: r.delivered_at?.toISOString() ?? null, deliveryError: r.delivery_error }));
}

/** Records a retraining trigger (started, already running, or skipped). Idempotent by id. */
export async function recordRetrainTrigger(db: Db, t: { id: string; modelName: string; reasons: string[]; workflowId: string | null; outcome: string }): Promise<void> {
  await db.query(
    `insert into retraining_triggers (id, model_name, reasons, workflow_id, outcome) values ($1, $2, $3, $4, $5)
     on conflict (id) do update set outcome = excluded.outcome, workflow_id = excluded.workflow_id`,
    [t.id, t.modelName, JSON.stringify(t.reasons), t.workflowId, t.outcome],
  );
}

export async function listRetrainTriggers(db: Db, modelName: string, limit = 50): Promise<Array<{ id: string; reasons: string[]; workflowId: string | null; outcome: string; at: string }>> {
  const { rows } = await db.query<{ id: string; reasons: string[]; workflow_id: string | null; outcome: string; at: Date }>(
    'select id, reasons, workflow_id, outcome, at from retraining_triggers where model_name = $1 order by at desc limit $2',
    [modelName, limit],
  );
  return rows.map((r) => ({ id: r.id, reasons: r.reasons, workflowId: r.workflow_id, outcome: r.outcome, at: r.at.toISOString() }));
}
