// Builds the Fastify app as a plugin tree: shared schemas and error handling first, then one route module per resource.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { PostgresOnlineStore, type OnlineStore } from '../lib/features/online-store.js';
import { Predictor } from '../lib/serving/predictor.js';
import { createServingMetrics, type ServingMetrics } from '../lib/serving/metrics.js';
import { PredictionLog } from '../lib/serving/prediction-log.js';
import { DeploymentWatcher } from '../lib/serving/deployment-watcher.js';
import { ServingService } from '../lib/serving/service.js';
import { SERVING_CONFIG_TTL_MS, ServingConfigCache } from '../lib/serving/serving-config.js';
import { supportsCopyFromStdin } from '../lib/storage/db.js';
import type { ArtifactStore } from '../lib/storage/artifacts.js';
import type { Db } from '../lib/storage/db.js';
import { installAuth, type RouteAccess } from './auth.js';
import { errorHandler, isClientError } from './errors.js';
import apiKeyRoutes from './routes/api-keys.js';
import approvalRoutes from './routes/approvals.js';
import datasetRoutes from './routes/datasets.js';
import featureRoutes from './routes/features.js';
import deploymentRoutes from './routes/deployments.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import modelRoutes from './routes/models.js';
import predictRoutes from './routes/predict.js';
import feedbackRoutes from './routes/feedback.js';
import monitoringRoutes from './routes/monitoring.js';
import alertRoutes from './routes/alerts.js';
import trainingRunRoutes from './routes/training-runs.js';
import experimentRoutes from './routes/experiments.js';
import modelUploadRoutes from './routes/model-uploads.js';
import v2Routes from './routes/v2.js';
import batchScoringRoutes from './routes/batch-scoring.js';
import rolloutRoutes from './routes/rollouts.js';
import { ErrorResponse } from './schemas.js';

export interface AppDeps {
  config: Config;
  db: Db;
  artifacts: ArtifactStore;
  client: Client;
  /** Where entity features are read at request time; default the Postgres online table. */
  onlineStore?: OnlineStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    predictor: Predictor;
    onlineStore: OnlineStore;
    predictionLog: PredictionLog;
    metrics: ServingMetrics;
    /** Routing, fallback, shadow and logging around the predictor: what scoring routes call. */
    serving: ServingService;
    /** Each model's serving config (feature views, post-processing, default answer), cached briefly. */
    servingConfigs: ServingConfigCache;
    /** This instance's copy of the deployment state, kept current by LISTEN/NOTIFY and polling. */
    deployments: DeploymentWatcher;
    /** Access control: every route's resolved roles, and a way to drop cached keys after a revocation. */
    auth: { routes: RouteAccess[]; forget: () => void };
  }
}

export async function buildApp(deps: AppDeps, opts: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel },
    bodyLimit: 16 * 1024 * 1024,
    // Unknown body fields are an error the caller should see, not something to strip silently.
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
    ...opts,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);
  const { maxBatchRows, maxWaitMs, timeoutMs } = deps.config.serving;
  const predictor = new Predictor({ db: deps.db, artifacts: deps.artifacts }, { batch: { maxBatchRows, maxWaitMs } });
  app.decorate('predictor', predictor);
  const onlineStore = deps.onlineStore ?? new PostgresOnlineStore(deps.db);
  app.decorate('onlineStore', onlineStore);
  const configs = new ServingConfigCache(deps.db, SERVING_CONFIG_TTL_MS);
  app.decorate('servingConfigs', configs);
  // PGlite's wire server supports neither COPY FROM STDIN nor delivering NOTIFY to other connections.
  const realPostgres = await supportsCopyFromStdin(deps.db);
  const predictionLog = new PredictionLog(deps.db, {
    method: realPostgres ? 'copy' : 'insert',
    // A failed write keeps its rows queued for the next attempt; rows Postgres refuses are left out (the error says which).
    onError: (err) => app.log.error({ err }, 'prediction log: a write failed or rows were left out'),
  });
  app.decorate('predictionLog', predictionLog);
  const metrics = createServingMetrics(() => predictionLog.depth);
  app.decorate('metrics', metrics);
  const onError = (err: unknown, context: string) => app.log.error({ err }, context);
  const watcher = new DeploymentWatcher(deps.db, {
    listen: realPostgres,
    // With LISTEN the poll is only a safety net; without it, it is how changes arrive (well within 1 s).
    pollMs: realPostgres ? 2000 : 250,
    prepare: async (state) => {
      const versions = [state.stableVersion, state.canaryVersion, state.shadowVersion, state.fallbackVersion].filter((v): v is number => v !== null);
      for (const v of versions) await predictor.load(await predictor.version(state.modelName, v));
      metrics.deploymentChanges.inc({ model: state.modelName });
    },
    onError,
  });
  await watcher.start();
  app.decorate('deployments', watcher);
  const serving = new ServingService({ predictor, watcher, log: predictionLog, metrics, configs, onlineStore, isClientError, onError }, { timeoutMs });
  app.decorate('serving', serving);
  // Graceful shutdown: stop taking requests (Fastify), finish shadow scoring, then write every logged prediction.
  app.addHook('onClose', async () => {
    await watcher.close();
    await serving.drain();
    await predictionLog.close();
    await app.predictor.close();
  });
  // Route schemas are the API's contract; swagger turns them into the OpenAPI document.
  await app.register(swagger, {
    openapi: { info: { title: 'mlcycle', description: 'The ML lifecycle on Temporal', version: '0.1.0' } },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorResponse);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `No route ${request.method} ${request.url}`, code: 'NotFoundError' });
  });
  // Before any route: every route registered from here on gets its roles resolved and checked.
  app.decorate('auth', installAuth(app, deps.db));
  app.get('/openapi.json', { config: { roles: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(datasetRoutes, { prefix: '/v1/datasets' });
  await app.register(featureRoutes, { prefix: '/v1' });
  await app.register(trainingRunRoutes, { prefix: '/v1/training-runs' });
  await app.register(experimentRoutes, { prefix: '/v1/experiments' });
  await app.register(modelUploadRoutes, { prefix: '/v1/model-uploads' });
  await app.register(approvalRoutes, { prefix: '/v1/approvals' });
  await app.register(apiKeyRoutes, { prefix: '/v1/api-keys' });
  await app.register(modelRoutes, { prefix: '/v1/models' });
  await app.register(predictRoutes, { prefix: '/v1/models' });
  await app.register(monitoringRoutes, { prefix: '/v1/models' });
  await app.register(feedbackRoutes, { prefix: '/v1/feedback' });
  await app.register(alertRoutes, { prefix: '/v1/alerts' });
  await app.register(deploymentRoutes, { prefix: '/v1/deployments' });
  await app.register(v2Routes, { prefix: '/v2' });
  await app.register(batchScoringRoutes, { prefix: '/v1/batch-scoring' });
  await app.register(rolloutRoutes, { prefix: '/v1/rollouts' });
  return app;
}
