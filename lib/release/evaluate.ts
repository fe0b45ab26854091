// Evaluates a candidate version before approval: scores its evaluation set (and production's on the same rows),
// runs the model's gates, renders the HTML report, and stores both. Idempotent per (model, version).
import { tableFromIPC, type Table } from 'apache-arrow';
import { NotFoundError, ValidationError } from '../errors.js';
import {
  computeMetric,
  evaluateGates,
  renderReport,
  summarizeClassifier,
  summarizeRegressor,
  type GateInputs,
  type GroupValue,
  type LineageValue,
  type ReportInput,
  type RobustnessProbe,
} from '../evaluation/index.js';
import { createSession, type Session } from '../onnx/session.js';
import { getGateConfig, getModelVersion, getVersionByAlias } from '../registry/registry.js';
import { PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { LABEL_COLUMN } from '../training/train.js';
import { recordEvaluation } from './evaluations.js';
import { DEFAULT_LATENCY_SAMPLES, effectiveGateConfig, summarizeGates, taskOf, type GateSummary } from './gates.js';
import {
  featureColumns,
  permutationImportance,
  robustnessProbeRows,
  rowCount,
  scoreColumns,
  singleRowLatencies,
  takeRows,
  type FeatureColumns,
} from './scoring.js';

export interface EvaluateCandidateInput {
  modelName: string;
  version: number;
  /** Written into the report; passed in (the workflow's clock) so a retry renders the same bytes. */
  generatedAt: string;
}

export interface CandidateEvaluation {
  passed: boolean;
  reportUri: string;
  /** The @production version compared against, null when there was none. */
  championVersion: number | null;
  gates: GateSummary;
}

/** Rows the permutation importance scores per feature (a sample of the evaluation set beyond this). */
const IMPORTANCE_ROWS = 2000;

async function loadSession(artifacts: ArtifactStore, version: ModelVersion): Promise<{ session: Session; bytes: number }> {
  // artifacts.get verifies the sha256 before onnxruntime sees the bytes.
  const bytes = await artifacts.get(version.uri);
  return { session: await createSession(bytes), bytes: bytes.byteLength };
}

async function productionVersion(db: Db, modelName: string, candidate: number): Promise<ModelVersion | null> {
  try {
    const v = await getVersionByAlias(db, modelName, PRODUCTION_ALIAS);
    return v.version === candidate ? null : v;
  } catch (err) {
    // Only "there is no production version" means nothing to compare with; anything else must not pass silently.
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

function labels(table: Table, task: ReturnType<typeof taskOf>): Float64Array {
  const col = table.getChild(LABEL_COLUMN);
  if (!col) throw new ValidationError(`The evaluation set has no ${LABEL_COLUMN} column with the true labels.`);
  const y = new Float64Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const v = col.get(i) as unknown;
    y[i] = v === null || v === undefined ? Number.NaN : Number(v);
    if (task !== 'regression' && !Number.isInteger(y[i])) throw new ValidationError(`The evaluation set's ${LABEL_COLUMN}[${i}] is not a class index.`);
  }
  return y;
}

function groupColumn(table: Table, name: string): GroupValue[] | undefined {
  const col = table.getChild(name);
  if (!col) return undefined;
  return Array.from({ length: table.numRows }, (_, i) => {
    const v = col.get(i) as unknown;
    if (v === null || v === undefined) return null;
    return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : String(v);
  });
}

/**
 * Scores the candidate and production on the candidate's evaluation set, runs the gates
 * declared for the model (or the default for its task), renders and stores the report.
 * `heartbeat` is called between phases and batches.
 */
export async function evaluateCandidate(
  deps: { db: Db; artifacts: ArtifactStore },
  input: EvaluateCandidateInput,
  heartbeat: (phase: string) => void = () => {},
): Promise<CandidateEvaluation> {
  const candidate = await getModelVersion(deps.db, input.modelName, input.version);
  if (!candidate.evaluationUri) {
    throw new ValidationError(
      `${input.modelName} v${input.version} has no evaluation set, so its gates cannot run; register it with an evaluationUri (Arrow IPC with the feature columns and ${LABEL_COLUMN}).`,
    );
  }
  const signature = candidate.signature;
  const task = taskOf(signature);
  const config = effectiveGateConfig(await getGateConfig(deps.db, input.modelName), signature);

  heartbeat('loading');
  const table = tableFromIPC(await deps.artifacts.get(candidate.evaluationUri));
  const yTrue = labels(table, task);
  const columns = featureColumns(table, signature);
  const { session, bytes } = await loadSession(deps.artifacts, candidate);
  const sessions: Session[] = [session];
  try {
    heartbeat('scoring');
    const outputs = await scoreColumns(session, signature, columns, { onBatch: () => heartbeat('scoring') });

    // Production's outputs on the same rows; a production version that cannot score them fails the champion gate.
    const champion = await productionVersion(deps.db, input.modelName, input.version);
    let championOutputs: Float64Array | null | undefined = null;
    let championProblem: string | null = null;
    if (champion) {
      championOutputs = undefined;
      const comparable = champion.signature.task === signature.task && JSON.stringify(champion.signature.classes) === JSON.stringify(signature.classes);
      if (!comparable) championProblem = `its task or classes (${JSON.stringify(champion.signature.classes)}) differ from the candidate's`;
      else {
        try {
          const c = await loadSession(deps.artifacts, champion);
          sessions.push(c.session);
          heartbeat('scoring production');
          championOutputs = await scoreColumns(c.session, champion.signature, featureColumns(table, champion.signature), { onBatch: () => heartbeat('scoring production') });
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          championProblem = err.message;
        }
      }
    }

    heartbeat('robustness');
    const robustnessProbes: RobustnessProbe[] = [];
    for (const [name, rows] of Object.entries(robustnessProbeRows(signature, columns))) {
      robustnessProbes.push({ name, predictions: await scoreColumns(session, signature, rows) });
    }

    heartbeat('latency');
    const samples = Math.max(DEFAULT_LATENCY_SAMPLES, config.latency?.minSamples ?? 0);
    const latencyMs = config.latency ? await singleRowLatencies(session, signature, columns, samples, () => heartbeat('latency')) : [];

    const groups: Record<string, GroupValue[]> = {};
    for (const g of config.slices ?? []) {
      const col = groupColumn(table, g.column);
      if (col) groups[g.column] = col;
    }
    const gateInputs: GateInputs = {
      task,
      yTrue,
      candidate: outputs,
      champion: championOutputs,
      groups,
      robustnessProbes,
      latencyMs,
      sizeBytes: bytes,
    };
    heartbeat('gates');
    const report = evaluateGates(config, gateInputs);

    heartbeat('importance');
    const sample = rowCount(columns) > IMPORTANCE_ROWS ? Array.from({ length: IMPORTANCE_ROWS }, (_, i) => i) : null;
    const impColumns: FeatureColumns = sample ? takeRows(columns, sample) : columns;
    const impY = sample ? yTrue.slice(0, IMPORTANCE_ROWS) : yTrue;
    const lossMetric = task === 'regression' ? 'rmse' : 'log_loss';
    const featureImportance = await permutationImportance(session, signature, impColumns, (o) => computeMetric(lossMetric, task, impY, o), {
      onFeature: () => heartbeat('importance'),
    });

    const summary: Pick<ReportInput, 'classifier' | 'regressor'> =
      task === 'regression'
        ? { regressor: summarizeRegressor(yTrue, outputs) }
        : { classifier: summarizeClassifier(yTrue, outputs, { threshold: config.threshold, classNames: signature.classes.map(String) }) };
    const lineage: Record<string, LineageValue> = {
      'model sha256': candidate.sha256,
      'model artifact': candidate.uri,
      'size (bytes)': bytes,
      'dataset version': candidate.datasetVersionId,
      'training run': candidate.trainingRunId,
      'created by': candidate.createdBy,
      'created at': candidate.createdAt,
      'evaluation set': candidate.evaluationUri,
      'evaluation rows': yTrue.length,
      'compared with production': champion
        ? `v${champion.version}${championProblem ? ` (could not score the evaluation set, so champion gates fail: ${championProblem})` : ''}`
        : 'none (no production version yet)',
      'gate config': JSON.stringify(config),
      params: JSON.stringify(candidate.params),
    };
    const html = renderReport({
      model: { name: input.modelName, version: String(input.version) },
      generatedAt: input.generatedAt,
      ...summary,
      metrics: Object.fromEntries(Object.entries(candidate.metrics).map(([k, v]) => [`training: ${k}`, v])),
      featureImportance: featureImportance.map((f) => ({ feature: f.feature, importance: f.importance })),
      gates: report,
      lineage,
    });
    const stored = await deps.artifacts.put(new TextEncoder().encode(html));
    const headline: Record<string, number | null> =
      summary.classifier
        ? { accuracy: summary.classifier.scores.accuracy, roc_auc: summary.classifier.rocAuc, log_loss: summary.classifier.logLoss, brier: summary.classifier.brier }
        : { rmse: summary.regressor!.rmse, mae: summary.regressor!.mae, r2: summary.regressor!.r2 };
    await recordEvaluation(deps.db, {
      modelName: input.modelName,
      version: input.version,
      passed: report.passed,
      gateConfig: config,
      gateReport: report,
      metrics: headline,
      reportUri: stored.uri,
      championVersion: champion?.version ?? null,
      evaluatedAt: input.generatedAt,
    });
    return { passed: report.passed, reportUri: stored.uri, championVersion: champion?.version ?? null, gates: summarizeGates(report) };
  } finally {
    await Promise.all(sessions.map((s) => s.release().catch(() => {})));
  }
}
