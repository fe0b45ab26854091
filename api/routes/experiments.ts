// /v1/experiments: tracked training runs and search trials; list, compare, and one run with its curves.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { compareRuns, getRun, listExperiments, listRuns } from '../../lib/training/experiments.js';
import { errors } from '../schemas.js';

const Json = Type.Record(Type.String(), Type.Unknown());
const Metrics = Type.Record(Type.String(), Type.Number());

const Run = Type.Object({
  id: Type.String(),
  experiment: Type.String(),
  kind: Type.String({ description: 'training or trial' }),
  parentRunId: Type.Union([Type.String(), Type.Null()]),
  modelName: Type.String(),
  learner: Type.String(),
  status: Type.String(),
  params: Json,
  metrics: Metrics,
  tags: Type.Record(Type.String(), Type.String()),
  artifacts: Type.Record(Type.String(), Type.String()),
  lineage: Json,
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});

const Name = Type.Object({ name: Type.String() });

const experimentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    { schema: { response: { 200: Type.Object({ experiments: Type.Array(Type.Object({ name: Type.String(), runs: Type.Integer(), lastRunAt: Type.Union([Type.String(), Type.Null()]) })) }) } } },
    async () => ({ experiments: await listExperiments(app.deps.db) }),
  );

  app.get(
    '/:name/runs',
    {
      schema: {
        params: Name,
        querystring: Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('training'), Type.Literal('trial')])), parentRunId: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: Type.Object({ experiment: Type.String(), runs: Type.Array(Run) }), ...errors(404) },
      },
    },
    async (request) => ({ experiment: request.params.name, runs: await listRuns(app.deps.db, request.params.name, request.query) }),
  );

  app.get(
    '/:name/compare',
    {
      schema: {
        params: Name,
        querystring: Type.Object({ runs: Type.Optional(Type.String({ description: 'Comma-separated run ids; default every run' })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            experiment: Type.String(),
            runs: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), status: Type.String(), learner: Type.String(), params: Json, metrics: Metrics, startedAt: Type.String() })),
            differingParams: Type.Array(Type.String()),
            metrics: Type.Array(Type.String()),
            best: Type.Record(Type.String(), Type.String(), { description: 'metric -> id of the best run' }),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const ids = request.query.runs?.split(',').map((s) => s.trim()).filter(Boolean);
      return { experiment: request.params.name, ...(await compareRuns(app.deps.db, request.params.name, ids)) };
    },
  );

  app.get(
    '/:name/runs/:runId',
    {
      schema: {
        params: Type.Object({ name: Type.String(), runId: Type.String() }),
        response: { 200: Type.Intersect([Run, Type.Object({ curves: Type.Record(Type.String(), Type.Array(Type.Tuple([Type.Number(), Type.Number()]))) })]), ...errors(404) },
      },
    },
    async (request) => {
      const run = await getRun(app.deps.db, request.params.runId);
      if (run.experiment !== request.params.name) {
        throw new NotFoundError(`Run ${request.params.runId} is not in experiment ${request.params.name}.`);
      }
      return run;
    },
  );
};

export default experimentRoutes;
