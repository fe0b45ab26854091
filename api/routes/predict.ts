// POST /v1/models/:name/predict: online scoring of JSON rows on the model's production version.
// Every answered row is logged (prediction log) and gets an id for later feedback.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OverloadedError } from '../../lib/errors.js';
import { toHttpError } from '../errors.js';
import { errors } from '../schemas.js';

// A type list, not anyOf: with Fastify's type coercion, anyOf [number, null] would turn null into 0.
const Row = Type.Record(Type.String(), Type.Unsafe<number | null>({ type: ['number', 'null'] }));

const PredictBody = Type.Object(
  { rows: Type.Array(Row, { minItems: 1, maxItems: 1000, description: 'Feature rows as JSON objects; null marks a missing value.' }) },
  { additionalProperties: false },
);

const PredictResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  alias: Type.String(),
  arm: Type.String({ description: 'Routing arm that answered (stable until rollouts route traffic)' }),
  predictions: Type.Array(
    Type.Object({
      id: Type.String({ description: 'Prediction id, for feedback' }),
      label: Type.Union([Type.String(), Type.Number()]),
      probabilities: Type.Record(Type.String(), Type.Number()),
    }),
  ),
});

/** Seconds a shed client should wait; the log drains a full batch in well under this. */
const RETRY_AFTER_SECONDS = 1;

const predictRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/:name/predict',
    { schema: { params: Type.Object({ name: Type.String() }), body: PredictBody, response: { 200: PredictResponse, ...errors(400, 404, 503) } } },
    async (request, reply) => {
      const { name } = request.params;
      const { rows } = request.body;
      const arm = 'stable';
      // Refuse before scoring: an answered prediction must always reach the log.
      if (!app.predictionLog.hasRoom(rows.length)) {
        app.metrics.shed.inc({ reason: 'prediction_log_full' });
        void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        throw new OverloadedError('The prediction log is behind; retry shortly.');
      }
      const started = process.hrtime.bigint();
      let result;
      try {
        result = await app.predictor.predict(name, rows);
      } catch (err) {
        const { status } = toHttpError(err);
        app.metrics.requests.inc({ model: name, version: '', arm, outcome: status < 500 ? 'client_error' : 'error' });
        throw err;
      }
      const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
      const at = new Date();
      const predictions = result.predictions.map((p) => ({ id: randomUUID(), ...p }));
      app.predictionLog.append(
        predictions.map((p, i) => ({
          id: p.id,
          at,
          modelName: name,
          version: result.version,
          arm,
          inputs: rows[i],
          outputs: { label: p.label, probabilities: p.probabilities },
          latencyMs: latencyMs / rows.length,
        })),
      );
      const labels = { model: name, version: String(result.version), arm };
      app.metrics.requests.inc({ ...labels, outcome: 'ok' });
      app.metrics.latency.observe(labels, latencyMs / 1000);
      app.metrics.batchRows.observe({ model: name }, rows.length);
      return { ...result, arm, predictions };
    },
  );
};

export default predictRoutes;
