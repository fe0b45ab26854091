// Stored gate evaluations: one row per model version with the gate report and the HTML report's artifact URI.
import { NotFoundError } from '../errors.js';
import type { GateConfig, GateReport } from '../evaluation/index.js';
import type { Db } from '../storage/db.js';
import { summarizeGates, type GateSummary } from './gates.js';

export interface ReleaseEvaluation {
  modelName: string;
  version: number;
  passed: boolean;
  gateConfig: GateConfig;
  gateReport: GateReport;
  /** Headline metrics on the evaluation set (null where undefined on it). */
  metrics: Record<string, number | null>;
  reportUri: string;
  championVersion: number | null;
  evaluatedAt: string;
}

interface Row {
  model_name: string;
  version: number;
  passed: boolean;
  gate_config: GateConfig;
  gate_report: GateReport;
  metrics: Record<string, number | null>;
  report_uri: string;
  champion_version: number | null;
  evaluated_at: Date;
}

const fromRow = (r: Row): ReleaseEvaluation => ({
  modelName: r.model_name,
  version: r.version,
  passed: r.passed,
  gateConfig: r.gate_config,
  gateReport: r.gate_report,
  metrics: r.metrics,
  reportUri: r.report_uri,
  championVersion: r.champion_version,
  evaluatedAt: r.evaluated_at.toISOString(),
});

/** Upserts the evaluation of a version: a re-run (retry) replaces the earlier row. */
export async function recordEvaluation(db: Db, e: ReleaseEvaluation): Promise<void> {
  await db.query(
    `insert into release_evaluations (model_name, version, passed, gate_config, gate_report, metrics, report_uri, champion_version, evaluated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (model_name, version) do update set passed = excluded.passed, gate_config = excluded.gate_config,
       gate_report = excluded.gate_report, metrics = excluded.metrics, report_uri = excluded.report_uri,
       champion_version = excluded.champion_version, evaluated_at = excluded.evaluated_at`,
    [e.modelName, e.version, e.passed, JSON.stringify(e.gateConfig), JSON.stringify(e.gateReport), JSON.stringify(e.metrics), e.reportUri, e.championVersion, e.evaluatedAt],
  );
}

export async function findEvaluation(db: Db, modelName: string, version: number): Promise<ReleaseEvaluation | null> {
  const { rows } = await db.query<Row>('select * from release_evaluations where model_name = $1 and version = $2', [modelName, version]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Evaluations of several versions in one query, keyed `${modelName}@${version}`; unevaluated versions are absent. */
export async function findEvaluations(db: Db, keys: ReadonlyArray<{ modelName: string; version: number }>): Promise<Map<string, ReleaseEvaluation>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query<Row>(
    'select * from release_evaluations where (model_name, version) in (select * from unnest($1::text[], $2::int[]))',
    [keys.map((k) => k.modelName), keys.map((k) => k.version)],
  );
  return new Map(rows.map((r) => [`${r.model_name}@${r.version}`, fromRow(r)]));
}

export async function getEvaluation(db: Db, modelName: string, version: number): Promise<ReleaseEvaluation> {
  const e = await findEvaluation(db, modelName, version);
  if (!e) throw new NotFoundError(`${modelName} v${version} has not been evaluated yet (its release runs the gates first).`);
  return e;
}

/** The gate summary of an evaluation, as the approvals list shows it. */
export function evaluationSummary(e: ReleaseEvaluation): GateSummary {
  return summarizeGates(e.gateReport);
}
