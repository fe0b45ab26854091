// Builds the Fastify app as a plugin tree: shared schemas and error handling first, then one route module per resource.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { Predictor } from '../lib/serving/predictor.js';
import { createServingMetrics, type ServingMetrics } from '../lib/serving/metrics.js';
import { PredictionLog } from '../lib/serving/prediction-log.js';
import { supportsCopyFromStdin } from '../lib/storage/db.js';
import type { ArtifactStore } from '../lib/storage/artifacts.js';
import type { Db } from '../lib/storage/db.js';
import { errorHandler } from './errors.js';
import approvalRoutes from './routes/approvals.js';
import datasetRoutes from './routes/datasets.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import modelRoutes from './routes/models.js';
import predictRoutes from './routes/predict.js';
import trainingRunRoutes from './routes/training-runs.js';
import { ErrorResponse } from './schemas.js';

export interface AppDeps {
  config: Config;
  db: Db;
  artifacts: ArtifactStore;
  client: Client;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    predictor: Predictor;
    predictionLog: PredictionLog;
    metrics: ServingMetrics;
  }
}

export async function buildApp(deps: AppDeps, opts: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel },
    bodyLimit: 16 * 1024 * 1024,
    // Unknown body fields are an error the caller should see, not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
    ...opts,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);
  app.decorate('predictor', new Predictor({ db: deps.db, artifacts: deps.artifacts }));
  const predictionLog = new PredictionLog(deps.db, {
    method: (await supportsCopyFromStdin(deps.db)) ? 'copy' : 'insert',
    onError: (err) => app.log.error({ err }, 'prediction log write failed; rows stay queued'),
  });
  app.decorate('predictionLog', predictionLog);
  app.decorate('metrics', createServingMetrics(() => predictionLog.depth));
  // Graceful shutdown: stop taking requests (Fastify), then write every logged prediction.
  app.addHook('onClose', async () => {
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
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(datasetRoutes, { prefix: '/v1/datasets' });
  await app.register(trainingRunRoutes, { prefix: '/v1/training-runs' });
  await app.register(approvalRoutes, { prefix: '/v1/approvals' });
  await app.register(modelRoutes, { prefix: '/v1/models' });
  await app.register(predictRoutes, { prefix: '/v1/models' });
  return app;
}
