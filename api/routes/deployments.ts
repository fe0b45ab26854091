// /v1/deployments: each model's serving state (stable, canary %, shadow fraction, fallback) and its history.
// A PUT changes it through lib/serving/deployments.ts, which NOTIFYs every API instance; a new stable version
// also moves @production, so the registry says what is served.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { deploymentHistory, getDeployment, listDeployments, updateDeployment } from '../../lib/serving/deployments.js';
import { NotFoundError } from '../../lib/errors.js';
import { errors } from '../schemas.js';

const Version = Type.Integer({ minimum: 1 });

const State = Type.Object({
  modelName: Type.String(),
  stableVersion: Type.Integer(),
  canaryVersion: Type.Union([Type.Integer(), Type.Null()]),
  canaryPercent: Type.Number(),
  shadowVersion: Type.Union([Type.Integer(), Type.Null()]),
  shadowFraction: Type.Number(),
  fallbackVersion: Type.Union([Type.Integer(), Type.Null()]),
  generation: Type.Integer(),
  updatedBy: Type.String(),
  reason: Type.String(),
  source: Type.String(),
  updatedAt: Type.String(),
});

const HistoryEntry = Type.Object({
  generation: Type.Integer(),
  state: Type.Record(Type.String(), Type.Unknown()),
  actor: Type.String(),
  reason: Type.String(),
  source: Type.String(),
  at: Type.String(),
});

const Change = Type.Object(
  {
    stableVersion: Type.Optional(Version),
    canary: Type.Optional(Type.Union([Type.Null(), Type.Object({ version: Version, percent: Type.Number({ minimum: 0, maximum: 100 }) }, { additionalProperties: false })])),
    shadow: Type.Optional(Type.Union([Type.Null(), Type.Object({ version: Version, fraction: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false })])),
    fallbackVersion: Type.Optional(Type.Union([Type.Null(), Version])),
    actor: Type.Optional(Type.String({ minLength: 1, description: 'Recorded as who changed it (default: the API key name)' })),
    reason: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ name: Type.String() });

const deploymentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { config: { roles: ['viewer'] }, schema: { response: { 200: Type.Object({ deployments: Type.Array(State) }) } } }, async () => ({
    deployments: await listDeployments(app.deps.db),
  }));

  app.get(
    '/:name',
    { config: { roles: ['viewer'] }, schema: { params: Params, response: { 200: Type.Object({ deployment: State, history: Type.Array(HistoryEntry) }), ...errors(404) } } },
    async (request) => {
      const deployment = await getDeployment(app.deps.db, request.params.name);
      if (!deployment) throw new NotFoundError(`Model ${request.params.name} has no deployment; it is served at @production.`);
      return { deployment, history: await deploymentHistory(app.deps.db, request.params.name) };
    },
  );

  app.put(
    '/:name',
    {
      config: { roles: ['admin'] },
      schema: { params: Params, body: Change, response: { 200: Type.Object({ deployment: State, changed: Type.Boolean() }), ...errors(400, 404, 409) } },
    },
    async (request) => {
      const { actor, reason, ...patch } = request.body;
      const who = request.principal?.name ?? actor ?? 'api';
      // @production follows what is served: it moves with a new stable version, in the same transaction.
      const { state, changed } = await updateDeployment(app.deps.db, { modelName: request.params.name, ...patch, actor: who, reason, source: 'api' }, { moveProduction: true });
      return { deployment: state, changed };
    },
  );
};

export default deploymentRoutes;
