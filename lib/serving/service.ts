// The online serving path shared by every scoring route: pick the arm (deployment state and routing key),
// score on the routed version (micro-batched), fall back when it fails or times out, score the shadow copy
// off the answer path, and log every outcome to the prediction log with metrics.
import { randomUUID } from 'node:crypto';
import { NotFoundError, OverloadedError, ScoringTimeoutError, ValidationError } from '../errors.js';
import { PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import type { DeploymentWatcher } from './deployment-watcher.js';
import type { ServingMetrics } from './metrics.js';
import type { PredictionLog, PredictionRecord } from './prediction-log.js';
import type { FeatureRow, Prediction, Predictor } from './predictor.js';
import { route } from './routing.js';

/** `direct`: the caller named the version, so no routing applied. */
export type ServedArm = 'stable' | 'canary' | 'direct';

export interface ServeRequest {
  modelName: string;
  rows: FeatureRow[];
  /** Entity id (or any key) that pins the caller to one arm; default: the request's own id. */
  routingKey?: string;
  /** Score on this version, bypassing routing. */
  version?: number;
}

export interface Served {
  model: string;
  version: number;
  /** `production` for the stable arm, else the arm's name. */
  alias: string;
  arm: ServedArm;
  requestId: string;
  /** Set when the routed version failed or timed out and the fallback version answered. */
  fallback: { fromVersion: number; reason: 'error' | 'timeout' } | null;
  predictions: Array<Prediction & { id: string }>;
}

export interface ServingOptions {
  /** A version that has not answered after this long is abandoned for the fallback. */
  timeoutMs: number;
}


function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ScoringTimeoutError(`${what} did not answer within ${ms} ms.`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const isClientError = (err: unknown) => err instanceof ValidationError || err instanceof NotFoundError;

export class ServingService {
  private readonly shadows = new Set<Promise<void>>();

  constructor(
    private readonly deps: { predictor: Predictor; watcher: DeploymentWatcher; log: PredictionLog; metrics: ServingMetrics; onError: (err: unknown, context: string) => void },
    readonly options: ServingOptions,
  ) {
    deps.predictor.batcher.onBatch = (key, _requests, rows) => deps.metrics.batchSize.observe({ model: key.slice(0, key.lastIndexOf('@')) }, rows);
  }

  async predict(req: ServeRequest): Promise<Served> {
    const { modelName, rows } = req;
    const { predictor, watcher, log, metrics } = this.deps;
    const requestId = randomUUID();
    // Refuse before scoring: an answered prediction must always reach the log.
    if (!log.hasRoom(rows.length)) {
      metrics.shed.inc({ reason: 'prediction_log_full' });
      throw new OverloadedError('The prediction log is behind; retry shortly.');
    }
    let arm: ServedArm = 'stable';
    let version: ModelVersion;
    let shadowVersion: number | null = null;
    let fallbackVersion: number | null = null;
    try {
      const state = req.version === undefined ? watcher.get(modelName) : undefined;
      if (req.version !== undefined) {
        arm = 'direct';
        version = await predictor.version(modelName, req.version);
      } else if (state) {
        const r = route(modelName, state, req.routingKey ?? requestId);
        arm = r.arm;
        version = await predictor.version(modelName, r.version);
        shadowVersion = r.shadowVersion;
        fallbackVersion = state.fallbackVersion;
      } else {
        version = await predictor.resolveAlias(modelName, PRODUCTION_ALIAS);
      }
    } catch (err) {
      metrics.requests.inc({ model: modelName, version: '', arm, outcome: isClientError(err) ? 'client_error' : 'error' });
      throw err;
    }

    const labels = { model: modelName, version: String(version.version), arm };
    const started = process.hrtime.bigint();
    let answeredBy = version;
    let fallback: Served['fallback'] = null;
    let predictions: Prediction[];
    try {
      predictions = await withTimeout(predictor.score(version, rows), this.options.timeoutMs, `${modelName} v${version.version}`);
    } catch (err) {
      if (isClientError(err)) {
        metrics.requests.inc({ ...labels, outcome: 'client_error' });
        throw err;
      }
      metrics.requests.inc({ ...labels, outcome: 'error' });
      const reason = err instanceof ScoringTimeoutError ? 'timeout' : 'error';
      this.logRows(modelName, version.version, arm, requestId, rows, rows.map(() => ({ error: (err as Error).message })), 'error', 0);
      if (fallbackVersion === null || fallbackVersion === version.version) throw err;
      try {
        answeredBy = await predictor.version(modelName, fallbackVersion);
        predictions = await withTimeout(predictor.score(answeredBy, rows), this.options.timeoutMs, `${modelName} v${fallbackVersion} (fallback)`);
      } catch (fallbackErr) {
        this.deps.onError(fallbackErr, `fallback v${fallbackVersion} of ${modelName} failed too`);
        throw err;
      }
      fallback = { fromVersion: version.version, reason };
      metrics.fallbacks.inc({ model: modelName, version: String(version.version), reason });
    }
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const withIds = predictions.map((p) => ({ id: randomUUID(), ...p }));
    this.logRows(modelName, answeredBy.version, arm, requestId, rows, withIds, fallback ? 'fallback' : 'ok', latencyMs);
    const okLabels = { ...labels, version: String(answeredBy.version) };
    metrics.requests.inc({ ...okLabels, outcome: 'ok' });
    metrics.latency.observe(okLabels, latencyMs / 1000);
    metrics.batchRows.observe({ model: modelName }, rows.length);

    if (shadowVersion !== null) this.scoreShadow(modelName, shadowVersion, requestId, rows);
    return {
      model: modelName,
      version: answeredBy.version,
      alias: arm === 'stable' ? PRODUCTION_ALIAS : arm,
      arm,
      requestId,
      fallback,
      predictions: withIds,
    };
  }

  private logRows(
    modelName: string,
    version: number,
    arm: string,
    requestId: string,
    rows: FeatureRow[],
    outputs: Array<{ id?: string } & Record<string, unknown>>,
    status: NonNullable<PredictionRecord['status']>,
    latencyMs: number,
  ): boolean {
    const at = new Date();
    return this.deps.log.append(
      outputs.map((o, i) => {
        const { id, ...out } = o;
        return { id: id ?? randomUUID(), at, modelName, version, arm, inputs: rows[i], outputs: out, latencyMs: latencyMs / rows.length, requestId, status };
      }),
    );
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
        const predictions = await withTimeout(predictor.score(version, rows), this.options.timeoutMs, `${modelName} v${shadowVersion} (shadow)`);
        const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
        this.logRows(modelName, shadowVersion, 'shadow', requestId, rows, predictions.map((p) => ({ ...p })), 'ok', latencyMs);
        metrics.requests.inc({ ...labels, outcome: 'ok' });
        metrics.latency.observe(labels, latencyMs / 1000);
      } catch (err) {
        metrics.requests.inc({ ...labels, outcome: isClientError(err) ? 'client_error' : 'error' });
        this.logRows(modelName, shadowVersion, 'shadow', requestId, rows, rows.map(() => ({ error: (err as Error).message })), 'error', 0);
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
