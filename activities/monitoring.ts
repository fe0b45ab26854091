// Monitoring activities: profiles, reports, alerts, label counts and retraining data. Thin and idempotent.
import { Context } from '@temporalio/activity';
import { countFeedback } from '../lib/feedback/feedback.js';
import { prepareRetraining, type RetrainingPlan } from '../lib/feedback/dataset.js';
import { raiseAlert, recordRetrainTrigger, type AlertPayload } from '../lib/monitoring/alert-store.js';
import type { MonitoringPolicy } from '../lib/monitoring/policy.js';
import { computeAndStoreReport, ensureTrainingProfile, getPolicy, type ReportSummary } from '../lib/monitoring/report.js';
import { getVersionByAlias } from '../lib/registry/registry.js';
import { PRODUCTION_ALIAS } from '../lib/registry/types.js';
import { NotFoundError } from '../lib/errors.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createMonitoringActivities(deps: ActivityDeps) {
  return {
    async getMonitoringPolicy(modelName: string): Promise<MonitoringPolicy> {
      return withFailureMapping(() => getPolicy(deps.db, modelName));
    },
    /** Builds and stores the production version's training profile if it is missing; null when nothing is in production yet. */
    async ensureProductionProfile(modelName: string): Promise<{ version: number; created: boolean; source: string } | null> {
      return withFailureMapping(async () => {
        const mv = await getVersionByAlias(deps.db, modelName, PRODUCTION_ALIAS).catch((err) => {
          if (err instanceof NotFoundError) return null;
          throw err;
        });
        if (!mv) return null;
        const p = await ensureTrainingProfile(deps, modelName, mv.version);
        return { version: mv.version, created: p.created, source: p.source };
      });
    },
    /** One report per window end; a retry overwrites the same row. */
    async computeMonitoringReport(modelName: string, windowEndIso: string): Promise<ReportSummary> {
      return withFailureMapping(() => computeAndStoreReport(deps, modelName, new Date(windowEndIso)));
    },
    /** At-least-once delivery: receivers should key on `alertId`. */
    async sendMonitoringAlert(payload: AlertPayload, webhook: string | null): Promise<{ delivered: boolean }> {
      return raiseAlert(deps.db, payload, webhook);
    },
    async countNewLabels(modelName: string, sinceIso: string | null): Promise<number> {
      return countFeedback(deps.db, modelName, sinceIso ? new Date(sinceIso) : null);
    },
    async recordRetrainTrigger(t: Parameters<typeof recordRetrainTrigger>[1]): Promise<void> {
      await recordRetrainTrigger(deps.db, t);
    },
    /** Prediction log + feedback -> a new dataset version, and the training input for the retrain. */
    async prepareRetraining(r: { modelName: string; runId: string; untilIso: string; startedBy: string; target?: string; features?: string[] }): Promise<RetrainingPlan> {
      return withFailureMapping(() =>
        prepareRetraining(deps, { ...r, until: new Date(r.untilIso) }, (p) => Context.current().heartbeat(p)),
      );
    },
  };
}
