// Prometheus metrics for online serving (prom-client), on a registry per app so tests can run several apps.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServingMetrics {
  registry: Registry;
  requests: Counter<'model' | 'version' | 'arm' | 'outcome'>;
  latency: Histogram<'model' | 'version' | 'arm'>;
  batchRows: Histogram<'model'>;
  shed: Counter<'reason'>;
  fallbacks: Counter<'model' | 'version' | 'reason' | 'to'>;
  batchSize: Histogram<'model'>;
  deploymentChanges: Counter<'model'>;
}

/** `logDepth` is read at scrape time so the gauge never goes stale. */
export function createServingMetrics(logDepth: () => number): ServingMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mlcycle_process_' });
  const requests = new Counter({
    name: 'mlcycle_predict_requests_total',
    help: 'Prediction requests by model, version, routing arm and outcome (ok, default, client_error, error).',
    labelNames: ['model', 'version', 'arm', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'mlcycle_predict_latency_seconds',
    help: 'Scoring latency per request, from validated input to answer.',
    labelNames: ['model', 'version', 'arm'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const batchRows = new Histogram({
    name: 'mlcycle_predict_rows',
    help: 'Rows scored per request.',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers: [registry],
  });
  const shed = new Counter({
    name: 'mlcycle_predict_shed_total',
    help: 'Requests refused with 503 to protect the process (e.g. prediction log queue full).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'mlcycle_predict_fallbacks_total',
    help: 'Requests answered by a fallback because the routed version failed or timed out; `version` is the one that failed, `to` what answered (the fallback version, or the default answer).',
    labelNames: ['model', 'version', 'reason', 'to'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'mlcycle_predict_batch_rows',
    help: 'Rows per onnxruntime call after micro-batching concurrent requests.',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const deploymentChanges = new Counter({
    name: 'mlcycle_deployment_changes_adopted_total',
    help: 'Deployment changes this instance loaded and switched to.',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'mlcycle_prediction_log_queue_depth',
    help: 'Predictions waiting to be written to Postgres.',
    registers: [registry],
    collect() {
      this.set(logDepth());
    },
  });
  return { registry, requests, latency, batchRows, shed, fallbacks, batchSize, deploymentChanges };
}
