// Rollout activities (orchestration queue): read and change the deployment (only through updateDeployment),
// analyze a window of the prediction log, record each step. Short I/O, idempotent.
import { liveQuality } from '../lib/feedback/quality.js';
import { analyzeCanary, type ArmQuality, type CanaryThresholds } from '../lib/serving/canary-analysis.js';
import { getDeployment, updateDeployment, type DeploymentChange, type DeploymentState } from '../lib/serving/deployments.js';
import { armWindow, type LoggedPrediction, type RolloutStep, type RolloutStrategy, type WindowAnalysis } from '../lib/serving/rollout.js';
import { getModelVersion, getVersionByAlias } from '../lib/registry/registry.js';
import { PRODUCTION_ALIAS } from '../lib/registry/types.js';
import { NotFoundError } from '../lib/errors.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export interface ServingSnapshot {
  deployment: DeploymentState | null;
  /** The version @production points at, when it points anywhere. */
  productionVersion: number | null;
}

export interface AnalyzeWindowInput {
  modelName: string;
  stableVersion: number;
  candidateVersion: number;
  arm: 'canary' | 'shadow';
  since: string;
  until: string;
  thresholds: CanaryThresholds;
}

export interface RecordStepInput {
  rolloutId: string;
  runId: string;
  modelName: string;
  version: number;
  strategy: RolloutStrategy;
  step: RolloutStep;
}

export function createRolloutActivities(deps: ActivityDeps) {
  const rowsOf = async (modelName: string, version: number, arm: string, since: string, until: string) =>
    (
      await deps.db.query<{ status: string; latency_ms: number; outputs: unknown }>(
        `select status, latency_ms, outputs from predictions
          where model_name = $1 and version = $2 and arm = $3 and at >= $4 and at < $5 and status in ('ok', 'error')`,
        [modelName, version, arm, since, until],
      )
    ).rows.map((r): LoggedPrediction => ({ status: r.status, latencyMs: Number(r.latency_ms), outputs: r.outputs }));

  const qualityOf = async (modelName: string, version: number, since: string, until: string): Promise<ArmQuality> => {
    const { signature } = await getModelVersion(deps.db, modelName, version);
    const q = await liveQuality(deps.db, { modelName, version, signature, start: new Date(since), end: new Date(until) });
    return { task: q.task, labelledRows: q.labelledRows, accuracy: q.accuracy, rmse: q.rmse };
  };

  return {
    async readServingState(modelName: string): Promise<ServingSnapshot> {
      const deployment = await getDeployment(deps.db, modelName);
      let productionVersion: number | null = null;
      try {
        productionVersion = (await getVersionByAlias(deps.db, modelName, PRODUCTION_ALIAS)).version;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      return { deployment, productionVersion };
    },
    /** Idempotent (updateDeployment writes nothing when the state already is as asked). */
    async changeDeployment(change: DeploymentChange): Promise<DeploymentState> {
      return withFailureMapping(async () => (await updateDeployment(deps.db, change)).state);
    },
    /** Compares the candidate arm with stable over [since, until) of the prediction log, with live quality from feedback labels. */
    async analyzeRolloutWindow(input: AnalyzeWindowInput): Promise<WindowAnalysis> {
      // Four independent reads: concurrent, so a window costs one round trip of latency rather than four.
      const [stableRows, candidateRows, stableQuality, candidateQuality] = await Promise.all([
        rowsOf(input.modelName, input.stableVersion, 'stable', input.since, input.until),
        rowsOf(input.modelName, input.candidateVersion, input.arm, input.since, input.until),
        qualityOf(input.modelName, input.stableVersion, input.since, input.until),
        qualityOf(input.modelName, input.candidateVersion, input.since, input.until),
      ]);
      const stable = { ...armWindow(stableRows), quality: stableQuality };
      const candidate = { ...armWindow(candidateRows), quality: candidateQuality };
      const analysis = analyzeCanary(stable, candidate, input.thresholds);
      return { ...analysis, since: input.since, until: input.until, stableVersion: input.stableVersion, candidateVersion: input.candidateVersion, arm: input.arm };
    },
    async recordRolloutStep(input: RecordStepInput): Promise<void> {
      const s = input.step;
      await deps.db.query(
        `insert into rollout_steps (rollout_id, run_id, seq, model_name, version, strategy, kind, percent, verdict, decision, analysis, approval, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (rollout_id, run_id, seq) do nothing`,
        [input.rolloutId, input.runId, s.seq, input.modelName, input.version, input.strategy, s.kind, s.percent, s.verdict, s.decision, s.analysis === null ? null : JSON.stringify(s.analysis), s.approval ? JSON.stringify(s.approval) : null, s.at],
      );
    },
  };
}
