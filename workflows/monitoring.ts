// Monitoring stage: one long-running workflow per deployed model (`monitor-<model>`). Every interval, on a
// durable timer, it computes and stores a report (drift, live quality, SLOs), raises deduplicated alerts,
// and starts retraining by policy. Its state is plain JSON carried across continue-as-new.
import { ActivityFailure, condition, continueAsNew, defineQuery, defineSignal, log, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createMonitoringActivities } from '../activities/monitoring.js';
import { decideAlerts, decideRetrain, type AlertState, type Finding } from '../lib/monitoring/alerts.js';
import type { ReportSummary } from '../lib/monitoring/report.js';
import { SHORT_IO } from './activity-options.js';
import { retrainSettings, startRetraining } from './retraining.js';
import { MODEL_NAME, STAGE } from './search-attributes.js';

/** Carried across continue-as-new. */
export interface MonitorState {
  alerts: AlertState;
  lastRetrainAtMs: number | null;
  /** New labels are counted from here (the last retrain, or when monitoring started). */
  labelsSinceIso: string | null;
  totalReports: number;
  alertsSent: number;
  alertsSuppressed: number;
  /** The latest report's summary, so the status query has it from the first moment of a continued run. */
  lastReport?: ReportSummary;
}

export interface MonitoringInput {
  modelName: string;
  state?: MonitorState;
}

export interface MonitoringStatus {
  modelName: string;
  stage: 'starting' | 'reporting' | 'waiting' | 'stopped';
  latest?: ReportSummary;
  nextReportAt?: string;
  reportsThisRun: number;
  state: MonitorState;
  lastAlerts: Array<Finding & { dedupKey: string; alertId: string }>;
  lastRetrain?: { triggerId: string; reasons: string[]; outcome: string; workflowId: string | null; at: string };
  retrainBlocked?: string;
}

export const monitoringStatusQuery = defineQuery<MonitoringStatus>('status');
/** Finish after the current step (the API's stop route sends it). */
export const stopMonitoringSignal = defineSignal('stop');
/** Report now instead of waiting for the timer (tests, operators). */
export const checkNowSignal = defineSignal('checkNow');

export function monitoringWorkflowId(modelName: string): string {
  return `monitor-${modelName}`;
}

// A report is one SQL aggregation plus a join; minutes at most, no heartbeat inside one query.
const activities = proxyActivities<ReturnType<typeof createMonitoringActivities>>({ ...SHORT_IO, startToCloseTimeout: '10m' });

export async function monitoringWorkflow(input: MonitoringInput): Promise<MonitorState> {
  const { modelName } = input;
  const state: MonitorState = input.state ?? { alerts: {}, lastRetrainAtMs: null, labelsSinceIso: new Date().toISOString(), totalReports: 0, alertsSent: 0, alertsSuppressed: 0 };
  const status: MonitoringStatus = { modelName, stage: 'starting', latest: state.lastReport, reportsThisRun: 0, state, lastAlerts: [] };
  let stopping = false;
  let checkNow = false;
  setHandler(monitoringStatusQuery, () => status);
  setHandler(stopMonitoringSignal, () => {
    stopping = true;
  });
  setHandler(checkNowSignal, () => {
    checkNow = true;
  });
  upsertSearchAttributes([{ key: MODEL_NAME, value: modelName }, { key: STAGE, value: 'monitoring' }]);

  if (!input.state) await activities.ensureProductionProfile(modelName);

  while (!stopping) {
    status.stage = 'reporting';
    checkNow = false;
    const policy = await activities.getMonitoringPolicy(modelName);
    const nowMs = Date.now();
    const windowEnd = new Date(nowMs).toISOString();
    const summary = await activities.computeMonitoringReport(modelName, windowEnd);
    status.latest = summary;
    state.lastReport = summary;
    state.totalReports++;
    status.reportsThisRun++;

    const alerts = decideAlerts(modelName, summary.findings, state.alerts, nowMs, policy.alertCooldownSeconds);
    state.alerts = alerts.state;
    state.alertsSuppressed += alerts.suppressed.length;
    status.lastAlerts = [];
    for (const f of alerts.send) {
      const alertId = `${modelName}:${summary.reportId}:${f.kind}:${f.subject}`;
      status.lastAlerts.push({ ...f, alertId });
      try {
        await activities.sendMonitoringAlert(
          { event: 'monitoring.alert', alertId, model: modelName, version: summary.version, kind: f.kind, subject: f.subject, severity: f.severity, summary: f.summary, value: f.value, threshold: f.threshold, dedupKey: f.dedupKey, reportId: summary.reportId, reportPath: `/v1/models/${encodeURIComponent(modelName)}/monitoring`, windowEnd },
          policy.alertWebhook,
        );
        state.alertsSent++;
      } catch (err) {
        // The alert is stored with its delivery error; monitoring goes on.
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('Alert delivery failed', { alertId, error: err.cause?.message ?? err.message });
      }
    }

    const newLabels = policy.retrain.newLabels !== null ? await activities.countNewLabels(modelName, state.labelsSinceIso) : 0;
    const decision = decideRetrain(policy.retrain, { findings: summary.findings, driftStatus: summary.version === null ? null : (summary.driftStatus as never), newLabels, lastRetrainAtMs: state.lastRetrainAtMs, nowMs });
    status.retrainBlocked = decision.blocked;
    if (decision.retrain && summary.version !== null) {
      const triggerId = `${modelName}:report-${summary.reportId}`;
      const started = await startRetraining({ modelName, reasons: decision.reasons, triggerId, ...retrainSettings(policy.retrain) });
      if (started.outcome === 'started') {
        state.lastRetrainAtMs = nowMs;
        state.labelsSinceIso = windowEnd;
      }
      await activities.recordRetrainTrigger({ id: triggerId, modelName, reasons: decision.reasons, workflowId: started.workflowId, outcome: started.outcome });
      status.lastRetrain = { triggerId, reasons: decision.reasons, outcome: started.outcome, workflowId: started.workflowId, at: windowEnd };
    }

    const next = new Date(nowMs + policy.intervalSeconds * 1000).toISOString();
    status.stage = 'waiting';
    status.nextReportAt = next;
    setCurrentDetails(`Last report ${summary.status} (drift ${summary.driftStatus}, ${summary.windowRows} rows, ${summary.labelledRows} labelled); next at ${next}`);
    await condition(() => stopping || checkNow, policy.intervalSeconds * 1000);
    // After the wait, so the continued run's first report is on schedule; a stop wins over continuing.
    if (!stopping && (status.reportsThisRun >= policy.reportsPerRun || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof monitoringWorkflow>({ modelName, state });
    }
  }
  status.stage = 'stopped';
  return state;
}
