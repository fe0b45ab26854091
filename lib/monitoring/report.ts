// Monitoring reports: the training profile of the production version (built once, stored), drift over a
// window of the prediction log (aggregated in SQL), live quality from feedback, SLOs; and their storage.
import { tableFromIPC, type Table } from 'apache-arrow';
import { loadDatasetTable } from '../data/datasets.js';
import { NotFoundError } from '../errors.js';
import { liveQuality, type LiveQuality } from '../feedback/quality.js';
import { getModelVersion, getVersionByAlias } from '../registry/registry.js';
import { PRODUCTION_ALIAS } from '../registry/types.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { findingsOf, type Finding } from './alerts.js';
import { resolvePolicy, type MonitoringPolicy, type MonitoringPolicyInput } from './policy.js';
import type { TrainingProfile } from './profile.js';
import { referenceProfile } from './reference.js';
import { assessDrift, type DriftVerdict } from './verdict.js';
import { aggregateWindowInSql } from './window-sql.js';

type Deps = { db: Db; artifacts: ArtifactStore };

export interface StoredProfile {
  modelName: string;
  version: number;
  profile: TrainingProfile;
  source: 'dataset' | 'evaluation';
  referenceRows: number;
}

/** The stored training profile of a version, building and storing it first when missing. Idempotent. */
export async function ensureTrainingProfile(deps: Deps, modelName: string, version: number): Promise<StoredProfile & { created: boolean }> {
  const existing = await deps.db.query<{ profile: TrainingProfile; source: 'dataset' | 'evaluation'; reference_rows: string }>(
    'select profile, source, reference_rows from model_profiles where model_name = $1 and version = $2',
    [modelName, version],
  );
  if (existing.rows[0]) {
    const r = existing.rows[0];
    return { modelName, version, profile: r.profile, source: r.source, referenceRows: Number(r.reference_rows), created: false };
  }
  const mv = await getModelVersion(deps.db, modelName, version);
  const evaluation: Table | null = mv.evaluationUri ? tableFromIPC(await deps.artifacts.get(mv.evaluationUri)) : null;
  const dataset = mv.datasetVersionId ? (await loadDatasetTable(deps, mv.datasetVersionId).catch(() => null))?.table ?? null : null;
  const built = referenceProfile({ evaluation, dataset }, mv.signature);
  if (!built) throw new NotFoundError(`${modelName} v${version} has neither an evaluation set nor a dataset with its features (${mv.signature.features.map((f) => f.name).join(', ')}); it cannot be profiled.`);
  await deps.db.query(
    `insert into model_profiles (model_name, version, profile, source, reference_rows) values ($1, $2, $3, $4, $5) on conflict do nothing`,
    [modelName, version, JSON.stringify(built.profile), built.source, built.referenceRows],
  );
  return { modelName, version, profile: built.profile, source: built.source, referenceRows: built.referenceRows, created: true };
}

export async function getPolicy(db: Db, modelName: string): Promise<MonitoringPolicy> {
  const { rows } = await db.query<{ policy: MonitoringPolicyInput }>('select policy from monitoring_policies where model_name = $1', [modelName]);
  return resolvePolicy(rows[0]?.policy ?? {});
}

/** Stores a model's policy (validated first, so a bad one fails at the API, not mid-monitoring). */
export async function setPolicy(db: Db, modelName: string, input: MonitoringPolicyInput): Promise<MonitoringPolicy> {
  const policy = resolvePolicy(input);
  await db.query(
    `insert into monitoring_policies (model_name, policy) values ($1, $2)
     on conflict (model_name) do update set policy = excluded.policy, updated_at = now()`,
    [modelName, JSON.stringify(input)],
  );
  return policy;
}

export interface SloWindow {
  /** Rows the model was asked to answer (routed to a version: answered or failed), shadow copies excluded. */
  requests: number;
  /** Over the rows that got an answer (the version's, a fallback's or the default one). */
  latencyP99Ms: number | null;
  latencyP50Ms: number | null;
  /** Share of requests whose routed version failed or timed out (whatever answered them instead). */
  errorRate: number | null;
  /** Share of requests answered by the fallback version or the model's default answer. */
  fallbackRate: number | null;
  notes: string[];
}

/**
 * SLO numbers of a model over a window of the prediction log, from what serving logged of every request,
 * whatever version, arm or deployment served it: `status` `ok` (answered by the routed version), `error`
 * (the routed version failed; logged before any fallback), `fallback` / `default` (the fallback version or
 * the default answer answered it instead). Shadow copies are not served, so they are not counted. Rows are
 * counted like the canary analysis counts them (lib/serving/rollout.ts `armWindow`): requests are ok + error.
 */
export async function sloWindow(db: Db, modelName: string, start: Date, end: Date): Promise<SloWindow> {
  const { rows } = await db.query<{ n: string; p99: number | null; p50: number | null; errors: string; fallbacks: string }>(
    `select count(*) filter (where status in ('ok', 'error')) as n,
            percentile_cont(0.99) within group (order by latency_ms) filter (where status <> 'error') as p99,
            percentile_cont(0.5) within group (order by latency_ms) filter (where status <> 'error') as p50,
            count(*) filter (where status = 'error') as errors,
            count(*) filter (where status in ('fallback', 'default')) as fallbacks
     from predictions where model_name = $1 and at >= $2 and at < $3 and arm <> 'shadow'`,
    [modelName, start, end],
  );
  const r = rows[0];
  const n = Number(r.n);
  return {
    requests: n,
    latencyP99Ms: r.p99 === null ? null : Number(r.p99),
    latencyP50Ms: r.p50 === null ? null : Number(r.p50),
    errorRate: n > 0 ? Number(r.errors) / n : null,
    fallbackRate: n > 0 ? Number(r.fallbacks) / n : null,
    notes: ["latency is each answered row's share of its request's latency, as serving logs it"],
  };
}

export type ReportStatus = 'ok' | 'warn' | 'critical' | 'no_production_version';

export interface MonitoringReport {
  modelName: string;
  version: number | null;
  windowStart: string;
  windowEnd: string;
  status: ReportStatus;
  /** Predictions of the production version in the window. */
  windowRows: number;
  profile: { source: string; referenceRows: number } | null;
  drift: DriftVerdict | null;
  quality: LiveQuality | null;
  slo: SloWindow | null;
  findings: Finding[];
}

/** What the workflow keeps from a report: small, no per-column numbers. */
export interface ReportSummary {
  reportId: number;
  modelName: string;
  version: number | null;
  windowEnd: string;
  status: ReportStatus;
  driftStatus: string;
  windowRows: number;
  labelledRows: number;
  findings: Finding[];
}

/** Computes the report for the window ending at `windowEnd` and stores it (one row per model and window end). */
export async function computeAndStoreReport(deps: Deps, modelName: string, windowEnd: Date): Promise<ReportSummary> {
  const policy = await getPolicy(deps.db, modelName);
  const start = new Date(windowEnd.getTime() - policy.windowSeconds * 1000);
  let report: MonitoringReport;
  const mv = await getVersionByAlias(deps.db, modelName, PRODUCTION_ALIAS).catch((err) => {
    if (err instanceof NotFoundError) return null;
    throw err;
  });
  const base = { modelName, windowStart: start.toISOString(), windowEnd: windowEnd.toISOString() };
  if (!mv) {
    report = { ...base, version: null, status: 'no_production_version', windowRows: 0, profile: null, drift: null, quality: null, slo: null, findings: [] };
  } else {
    const profile = await ensureTrainingProfile(deps, modelName, mv.version);
    const window = await aggregateWindowInSql(deps.db, profile.profile, { modelName, version: mv.version, start, end: windowEnd });
    const drift = assessDrift(profile.profile, window.aggregates, policy.drift);
    const quality = await liveQuality(deps.db, { modelName, version: mv.version, signature: mv.signature, start, end: windowEnd });
    const slo = await sloWindow(deps.db, modelName, start, windowEnd);
    const findings = findingsOf({ drift, quality, slo }, policy);
    const status: ReportStatus = findings.some((f) => f.severity === 'critical') ? 'critical' : findings.length > 0 ? 'warn' : 'ok';
    report = { ...base, version: mv.version, status, windowRows: window.rows, profile: { source: profile.source, referenceRows: profile.referenceRows }, drift, quality, slo, findings };
  }
  const { rows } = await deps.db.query<{ id: string }>(
    `insert into monitoring_reports (model_name, version, window_start, window_end, drift_status, status, report)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (model_name, window_end) do update set version = excluded.version, drift_status = excluded.drift_status,
       status = excluded.status, report = excluded.report, created_at = now()
     returning id`,
    [modelName, report.version, start, windowEnd, report.drift?.status ?? 'none', report.status, JSON.stringify(report)],
  );
  return {
    reportId: Number(rows[0].id),
    modelName,
    version: report.version,
    windowEnd: report.windowEnd,
    status: report.status,
    driftStatus: report.drift?.status ?? 'none',
    windowRows: report.windowRows,
    labelledRows: report.quality?.labelledRows ?? 0,
    findings: report.findings,
  };
}

export interface StoredReport {
  id: number;
  createdAt: string;
  report: MonitoringReport;
}

export async function listReports(db: Db, modelName: string, limit = 20, includeDetails = true): Promise<StoredReport[]> {
  const { rows } = await db.query<{ id: string; created_at: Date; report: MonitoringReport }>(
    `select id, created_at, ${includeDetails ? 'report' : `report - 'drift' as report`} from monitoring_reports where model_name = $1 order by window_end desc limit $2`,
    [modelName, limit],
  );
  return rows.map((r) => ({ id: Number(r.id), createdAt: r.created_at.toISOString(), report: r.report }));
}
