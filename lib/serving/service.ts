// The online serving path shared by every scoring route: pick the arm (deployment state and routing key),
// fill rows naming an entity from the online store, score on the routed version (micro-batched), fall back
// (fallback version, then the model's declared default answer) when it fails or times out, post-process the
// answer, score the shadow copy off the answer path, and log every outcome to the prediction log with metrics.
import { uuidv7 } from '../util/uuid7.js';
import { OverloadedError, ScoringTimeoutError } from '../errors.js';
import type { OnlineStore } from '../features/online-store.js';
import { PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import type { DeploymentWatcher } from './deployment-watcher.js';
import { fillFromOnlineStore, namesEntities, type EntityLookup } from './entity-features.js';
import type { ServingMetrics } from './metrics.js';
import { applyPostprocess, type Postprocess } from './postprocess.js';
import type { PredictionLog, PredictionRecord } from './prediction-log.js';
import type { FeatureRow, Prediction, Predictor } from './predictor.js';
import { Deadlines } from './deadlines.js';
import { route } from './routing.js';
import type { ResolvedServingConfig, ServingConfig, ServingConfigCache } from './serving-config.js';

/** `direct`: the caller named the version, so no routing applied. */
export type ServedArm = 'stable' | 'canary' | 'direct';

export interface ServeRequest {
  modelName: string;
  rows: FeatureRow[];
  /** Entity id (or any key) that pins the caller to one arm; default: the entity the rows name, else the request's own id. */
  routingKey?: string;
  /** Score on this version, bypassing routing. */
  version?: number;
}

/** Where one request is scored: the routed version (resolved once per request) and its backups. */
export interface Target {
  modelName: string;
  requestId: string;
  arm: ServedArm;
  version: ModelVersion;
  shadowVersion: number | null;
  fallbackVersion: number | null;
}

export interface Fallback {
  fromVersion: number;
  reason: 'error' | 'timeout';
  /** `version`: the fallback version answered; `default`: no version could, the declared default answer did. */
  to: 'version' | 'default';
}

export type ServedPrediction = Prediction & {
  id: string;
  /** What onnxruntime said, when post-processing is declared (`label` is then the post-processed one). */
  modelLabel?: string | number;
  /** The entities the row named and what the online store had for each. */
  entities?: EntityLookup[];
};

export interface Served {
  model: string;
  /** The version that answered (for a default answer: the routed version that failed). */
  version: number;
  /** `production` for the stable arm, else the arm's name. */
  alias: string;
  arm: ServedArm;
  requestId: string;
  /** Set when the routed version failed or timed out and the fallback version or default answer answered. */
  fallback: Fallback | null;
  /** The post-processing rules applied to `label`, when the model declares any. */
  postprocess: Postprocess | null;
  predictions: ServedPrediction[];
}

export interface ServingOptions {
  /** A version that has not answered after this long is abandoned for the fallback. */
  timeoutMs: number;
}

export interface ServingDeps {
  predictor: Predictor;
  watcher: DeploymentWatcher;
  log: PredictionLog;
  metrics: ServingMetrics;
  configs: ServingConfigCache;
  onlineStore: OnlineStore;
  /** The caller's fault (4xx): no fallback, counted as `client_error`. The API passes its central error table's answer. */
  isClientError: (err: unknown) => boolean;
  onError: (err: unknown, context: string) => void;
}

/** The default answer as a prediction of `version`: its own class values, missing probabilities one-hot on the label. */
function defaultPrediction(answer: NonNullable<ServingConfig['defaultAnswer']>, version: ModelVersion): Prediction {
  const { classes, task } = version.signature;
  if (task === 'regression') return { label: answer.label, probabilities: { [String(classes[0])]: Number(answer.label) } };
  const label = classes.find((c) => String(c) === String(answer.label)) ?? answer.label;
  const given = answer.probabilities ?? {};
  return { label, probabilities: Object.fromEntries(classes.map((c) => [String(c), given[String(c)] ?? (String(c) === String(label) ? 1 : 0)])) };
}

/** The routing key a request implies: the one entity all its rows name in the first feature view. */
function entityRoutingKey(rows: FeatureRow[], config: ResolvedServingConfig): string | undefined {
  const view = config.views[0];
  if (!view) return undefined;
  const first = rows[0][view.joinKey];
  if (first === undefined || first === null || !rows.every((r) => r[view.joinKey] === first)) return undefined;
  return String(first);
}

/** One version on one arm, as metric labels. */
interface ArmLabels {
  arm: { model: string; version: string; arm: string };
  ok: { model: string; version: string; arm: string; outcome: string };
  defaulted: { model: string; version: string; arm: string; outcome: string };
  model: { model: string };
}

export class ServingService {
  private readonly shadows = new Set<Promise<void>>();
  private readonly deadlines: Deadlines;
  private readonly armLabels = new Map<string, ArmLabels>();

  constructor(
    private readonly deps: ServingDeps,
    readonly options: ServingOptions,
  ) {
    this.deadlines = new Deadlines(options);
    deps.predictor.batcher.onBatch = (key, _requests, rows) => deps.metrics.batchSize.observe({ model: key.slice(0, key.lastIndexOf('@')) }, rows);
  }

  /** Refuses before any work: an answered prediction must always reach the log. */
  private checkRoom(rows: number): void {
    if (!this.deps.log.hasRoom(rows)) {
      this.deps.metrics.shed.inc({ reason: 'prediction_log_full' });
      throw new OverloadedError('The prediction log is behind; retry shortly.');
    }
  }

  /** Picks the arm and resolves its version (once per request): a named version, the deployment's arms, else @production. */
  async target(req: { modelName: string; routingKey?: string; version?: number }): Promise<Target> {
    const { modelName } = req;
    const { predictor, watcher, metrics } = this.deps;
    const requestId = uuidv7();
    let arm: ServedArm = 'stable';
    try {
      if (req.version !== undefined) {
        arm = 'direct';
        return { modelName, requestId, arm, version: await predictor.version(modelName, req.version), shadowVersion: null, fallbackVersion: null };
      }
      const state = watcher.get(modelName);
      if (state) {
        const r = route(modelName, state, req.routingKey ?? requestId);
        arm = r.arm;
        return { modelName, requestId, arm, version: await predictor.version(modelName, r.version), shadowVersion: r.shadowVersion, fallbackVersion: state.fallbackVersion };
      }
      return { modelName, requestId, arm, version: await predictor.resolveAlias(modelName, PRODUCTION_ALIAS), shadowVersion: null, fallbackVersion: null };
    } catch (err) {
      metrics.requests.inc({ model: modelName, version: '', arm, outcome: this.deps.isClientError(err) ? 'client_error' : 'error' });
      throw err;
    }
  }

  /** Scores JSON rows (the /v1 path): rows naming an entity are filled from the online store first. */
  async predict(req: ServeRequest): Promise<Served> {
    this.checkRoom(req.rows.length);
    const config = await this.deps.configs.get(req.modelName);
    const routingKey = req.routingKey ?? entityRoutingKey(req.rows, config);
    const target = await this.target({ modelName: req.modelName, routingKey, version: req.version });
    if (!config.config.features || !namesEntities(req.rows, config.views)) return this.serve(target, req.rows, { config: config.config });
    let filled;
    try {
      filled = await fillFromOnlineStore(this.deps.onlineStore, req.rows, config.views, target.version.signature, config.config.features.onMissing);
    } catch (err) {
      const outcome = this.deps.isClientError(err) ? 'client_error' : 'error';
      this.deps.metrics.requests.inc({ model: req.modelName, version: String(target.version.version), arm: target.arm, outcome });
      throw err;
    }
    const served = await this.serve(target, filled.rows, { config: config.config });
    served.predictions.forEach((p, i) => {
      if (filled.lookups[i].length > 0) p.entities = filled.lookups[i];
    });
    return served;
  }

  /**
   * Scores rows on a target, with fallback, post-processing, shadow and logging. `config` when the caller has read it
   * already; `matrix` when the caller has the rows as the target version's input matrix (only that version uses it).
   */
  async serve(target: Target, rows: FeatureRow[], given: { config?: ServingConfig; matrix?: Float32Array } = {}): Promise<Served> {
    const { modelName, version, arm, requestId, shadowVersion } = target;
    const { metrics } = this.deps;
    this.checkRoom(rows.length);
    const config = given.config ?? (await this.deps.configs.get(modelName)).config;
    const started = performance.now();
    let answeredBy = version;
    let fallback: Fallback | null = null;
    let predictions: Array<Prediction & { modelLabel?: string | number }>;
    try {
      predictions = await this.scoreOn(modelName, version, rows, config, `${modelName} v${version.version}`, given.matrix);
    } catch (err) {
      const labels = { model: modelName, version: String(version.version), arm };
      if (this.deps.isClientError(err)) {
        metrics.requests.inc({ ...labels, outcome: 'client_error' });
        throw err;
      }
      metrics.requests.inc({ ...labels, outcome: 'error' });
      const reason = err instanceof ScoringTimeoutError ? 'timeout' : 'error';
      this.logRows(modelName, version.version, arm, requestId, rows, rows.map(() => ({ error: (err as Error).message })), null, 'error', 0);
      const backup = await this.fallBack(target, rows, config);
      if (!backup) throw err;
      ({ answeredBy, predictions } = backup);
      fallback = { fromVersion: version.version, reason, to: backup.to };
      metrics.fallbacks.inc({ model: modelName, version: String(version.version), reason, to: backup.to });
    }
    const latencyMs = performance.now() - started;
    const n = predictions.length;
    const ids = new Array<string>(n);
    const withIds = new Array<ServedPrediction>(n);
    for (let i = 0; i < n; i++) {
      ids[i] = uuidv7();
      withIds[i] = { id: ids[i], ...predictions[i] };
    }
    const status = fallback === null ? 'ok' : fallback.to === 'default' ? 'default' : 'fallback';
    this.logRows(modelName, answeredBy.version, arm, requestId, rows, predictions, ids, status, latencyMs);
    const labels = this.labelsOf(modelName, answeredBy.version, arm);
    metrics.requests.inc(fallback?.to === 'default' ? labels.defaulted : labels.ok);
    metrics.latency.observe(labels.arm, latencyMs / 1000);
    metrics.batchRows.observe(labels.model, rows.length);

    if (shadowVersion !== null) this.scoreShadow(modelName, shadowVersion, requestId, rows);
    return {
      model: modelName,
      version: answeredBy.version,
      alias: arm === 'stable' ? PRODUCTION_ALIAS : arm,
      arm,
      requestId,
      fallback,
      postprocess: config.postprocess ?? null,
      predictions: withIds,
    };
  }

  /** Scores on one version, within the timeout, post-processed; `matrix` is the rows as that version's input matrix, if built. */
  private scoreOn(modelName: string, v: ModelVersion, rows: FeatureRow[], config: ServingConfig, what: string, matrix?: Float32Array): Promise<Prediction[]> {
    const scored = this.deadlines.race(this.deps.predictor.score(v, rows, matrix), what);
    const { postprocess } = config;
    return postprocess ? scored.then((predictions) => applyPostprocess(postprocess, v.signature, `${modelName} v${v.version}`, predictions)) : scored;
  }

  /** The metric label sets of one version on one arm, built once: a labels object per request shows up in the profile. */
  private labelsOf(model: string, version: number, arm: string): ArmLabels {
    const key = `${arm}@${version}@${model}`;
    let labels = this.armLabels.get(key);
    if (!labels) {
      const v = String(version);
      labels = {
        arm: { model, version: v, arm },
        ok: { model, version: v, arm, outcome: 'ok' },
        defaulted: { model, version: v, arm, outcome: 'default' },
        model: { model },
      };
      this.armLabels.set(key, labels);
    }
    return labels;
  }

  /** After the routed version failed: the fallback version, else the declared default answer, else nothing. */
  private async fallBack(target: Target, rows: FeatureRow[], config: ServingConfig): Promise<{ answeredBy: ModelVersion; predictions: Prediction[]; to: Fallback['to'] } | null> {
    const { modelName, version, fallbackVersion } = target;
    if (fallbackVersion !== null && fallbackVersion !== version.version) {
      try {
        const answeredBy = await this.deps.predictor.version(modelName, fallbackVersion);
        return { answeredBy, predictions: await this.scoreOn(modelName, answeredBy, rows, config, `${modelName} v${fallbackVersion} (fallback)`), to: 'version' };
      } catch (fallbackErr) {
        this.deps.onError(fallbackErr, `fallback v${fallbackVersion} of ${modelName} failed too`);
      }
    }
    if (!config.defaultAnswer) return null;
    const answer = defaultPrediction(config.defaultAnswer, version);
    return { answeredBy: version, predictions: rows.map(() => ({ ...answer, probabilities: { ...answer.probabilities } })), to: 'default' };
  }

  private logRows(
    modelName: string,
    version: number,
    arm: string,
    requestId: string,
    rows: FeatureRow[],
    outputs: readonly unknown[],
    ids: readonly string[] | null,
    status: NonNullable<PredictionRecord['status']>,
    latencyMs: number,
  ): boolean {
    const at = new Date();
    const perRow = latencyMs / rows.length;
    const records: PredictionRecord[] = new Array(outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      records[i] = { id: ids?.[i] ?? uuidv7(), at, modelName, version, arm, inputs: rows[i], outputs: outputs[i], latencyMs: perRow, requestId, status };
    }
    return this.deps.log.append(records);
  }

  /** Scores a copy on the shadow version after the answer; logged with arm `shadow`, never returned. */
  private scoreShadow(modelName: string, shadowVersion: number, requestId: string, rows: FeatureRow[]): void {
    const { predictor, log, metrics } = this.deps;
    const labels = { model: modelName, version: String(shadowVersion), arm: 'shadow' };
    if (!log.hasRoom(rows.length)) {
      metrics.shed.inc({ reason: 'shadow_skipped_log_full' });
      return;
    }
    const task = (async () => {
      const started = process.hrtime.bigint();
      try {
        const version = await predictor.version(modelName, shadowVersion);
        const predictions = await this.deadlines.race(predictor.score(version, rows), `${modelName} v${shadowVersion} (shadow)`);
        const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
        this.logRows(modelName, shadowVersion, 'shadow', requestId, rows, predictions, null, 'ok', latencyMs);
        metrics.requests.inc({ ...labels, outcome: 'ok' });
        metrics.latency.observe(labels, latencyMs / 1000);
      } catch (err) {
        metrics.requests.inc({ ...labels, outcome: this.deps.isClientError(err) ? 'client_error' : 'error' });
        this.logRows(modelName, shadowVersion, 'shadow', requestId, rows, rows.map(() => ({ error: (err as Error).message })), null, 'error', 0);
      }
    })();
    this.shadows.add(task);
    void task.finally(() => this.shadows.delete(task));
  }

  /** Waits for shadow scoring in flight, so its rows reach the log before it closes. */
  async drain(): Promise<void> {
    await Promise.all([...this.shadows]);
  }
}
