// /v1/models: the registry. Models, versions with lineage, metric comparison, aliases (set, roll back, history,
// "which version at time T"), archiving, each model's release gates, and each version's evaluation report.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { getEvaluation } from '../../lib/release/evaluations.js';
import { defaultGateConfig, taskOf, validateDeclaredGateConfig } from '../../lib/release/gates.js';
import { validatePolicy } from '../../lib/release/approval.js';
import { compareVersions } from '../../lib/registry/compare.js';
import { getVersionLineage } from '../../lib/registry/lineage.js';
import {
  aliasAt,
  aliasHistory,
  archiveVersion,
  getApprovalPolicy,
  getGateConfig,
  listModels,
  listModelVersions,
  modelExists,
  rollbackAlias,
  setAlias,
  setApprovalPolicy,
  setGateConfig,
} from '../../lib/registry/registry.js';
import { ALIAS_PATTERN, MODEL_NAME_PATTERN, PRODUCTION_ALIAS, reportPath } from '../../lib/registry/types.js';
import { actorOf } from '../auth.js';
import { ApprovalPolicySchema, errors } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Version = Type.Object({
  version: Type.Integer(),
  sha256: Type.String(),
  uri: Type.String(),
  aliases: Type.Array(Type.String()),
  metrics: Type.Record(Type.String(), Type.Number()),
  params: Type.Record(Type.String(), Type.Unknown()),
  signature: Type.Unknown(),
  trainingRunId: Nullable(Type.String()),
  datasetVersionId: Nullable(Type.String()),
  evaluationUri: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String(),
  archivedAt: Nullable(Type.String()),
  archivedBy: Nullable(Type.String()),
});

const HistoryEntry = Type.Object({
  alias: Type.String(),
  version: Type.Integer(),
  previousVersion: Nullable(Type.Integer()),
  actor: Type.String(),
  reason: Type.String(),
  source: Type.String(),
  at: Type.String(),
});

const Comparison = Type.Array(Type.Object({ metric: Type.String(), a: Nullable(Type.Number()), b: Nullable(Type.Number()), diff: Nullable(Type.Number()) }));

const NameParams = Type.Object({ name: Type.String() });
const VersionParams = Type.Object({ name: Type.String(), version: Type.Integer({ minimum: 1 }) });
const AliasParams = Type.Object({ name: Type.String(), alias: Type.String() });
const Reason = Type.String({ minLength: 1, description: 'Why; recorded in alias_history' });

async function requireModel(app: { deps: { db: Parameters<typeof modelExists>[0] } }, name: string): Promise<void> {
  if (!(await modelExists(app.deps.db, name))) throw new NotFoundError(`Model ${name} does not exist.`);
}

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.deps.db;

  app.get(
    '/',
    {
      config: { roles: ['viewer'] },
      schema: {
        response: {
          200: Type.Object({
            models: Type.Array(
              Type.Object({
                name: Type.String(),
                description: Type.String(),
                createdAt: Type.String(),
                versions: Type.Integer(),
                latestVersion: Nullable(Type.Integer()),
                aliases: Type.Record(Type.String(), Type.Integer()),
                gatesDeclared: Type.Boolean(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ models: await listModels(db) }),
  );

  app.get(
    '/:name',
    { config: { roles: ['viewer'] }, schema: { params: NameParams, response: { 200: Type.Object({ name: Type.String(), versions: Type.Array(Version) }), ...errors(404) } } },
    async (request) => {
      const versions = await listModelVersions(db, request.params.name);
      if (versions.length === 0) throw new NotFoundError(`Model ${request.params.name} does not exist.`);
      return { name: request.params.name, versions };
    },
  );

  app.get(
    '/:name/versions',
    { config: { roles: ['viewer'] }, schema: { params: NameParams, response: { 200: Type.Object({ name: Type.String(), versions: Type.Array(Version) }), ...errors(404) } } },
    async (request) => {
      await requireModel(app, request.params.name);
      return { name: request.params.name, versions: await listModelVersions(db, request.params.name) };
    },
  );

  app.get(
    '/:name/versions/:version',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: VersionParams,
        response: {
          200: Type.Object({
            version: Version,
            dataset: Nullable(Type.Record(Type.String(), Type.Unknown())),
            featureViews: Type.Array(
              Type.Object({ name: Type.String(), version: Nullable(Type.Integer()), sha256: Type.String(), sourceDatasetVersionId: Type.String() }),
              { description: 'Feature views the training frame was built from (version: the registry version, null if the declaration was never registered)' },
            ),
            trainingRun: Nullable(Type.Record(Type.String(), Type.Unknown())),
            evaluation: Nullable(Type.Record(Type.String(), Type.Unknown())),
            decision: Nullable(Type.Record(Type.String(), Type.Unknown())),
            environment: Nullable(Type.Record(Type.String(), Type.Unknown())),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => getVersionLineage(db, request.params.name, request.params.version),
  );

  app.get(
    '/:name/versions/:version/report',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: VersionParams,
        produces: ['text/html'],
        response: { 200: Type.String({ description: 'The self-contained HTML evaluation report' }), ...errors(404) },
      },
    },
    async (request, reply) => {
      const evaluation = await getEvaluation(db, request.params.name, request.params.version);
      const html = await app.deps.artifacts.get(evaluation.reportUri);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(new TextDecoder().decode(html));
    },
  );

  app.get(
    '/:name/versions/:version/evaluation',
    { config: { roles: ['viewer'] }, schema: { params: VersionParams, response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errors(404) } } },
    async (request) => {
      const e = await getEvaluation(db, request.params.name, request.params.version);
      return { ...e, reportPath: reportPath(e.modelName, e.version) };
    },
  );

  app.post(
    '/:name/versions/:version/archive',
    { config: { roles: ['admin', 'trainer'] }, schema: { params: VersionParams, response: { 200: Version, ...errors(404, 409) } } },
    async (request) => archiveVersion(db, request.params.name, request.params.version, actorOf(request)),
  );

  app.get(
    '/:name/compare',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: NameParams,
        querystring: Type.Object({ a: Type.Integer({ minimum: 1 }), b: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Object({ modelName: Type.String(), a: Type.Integer(), b: Type.Integer(), sameEvaluationSet: Type.Boolean(), training: Comparison, evaluation: Comparison }),
          ...errors(404),
        },
      },
    },
    async (request) => compareVersions(db, request.params.name, request.query.a, request.query.b),
  );

  app.put(
    '/:name/aliases/:alias',
    {
      config: { roles: ['admin'] },
      schema: {
        params: Type.Object({ name: Type.String(), alias: Type.String({ pattern: ALIAS_PATTERN }) }),
        body: Type.Object({ version: Type.Integer({ minimum: 1 }), reason: Reason }, { additionalProperties: false }),
        response: { 200: Type.Object({ alias: Type.String(), version: Type.Integer(), previousVersion: Nullable(Type.Integer()), changed: Type.Boolean() }), ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      const moved = await setAlias(db, { modelName: name, alias, version: request.body.version, actor: actorOf(request), reason: request.body.reason, source: 'api' });
      return { alias, version: request.body.version, ...moved };
    },
  );

  app.get(
    '/:name/aliases/:alias/history',
    { config: { roles: ['viewer'] }, schema: { params: AliasParams, response: { 200: Type.Object({ history: Type.Array(HistoryEntry) }), ...errors(404) } } },
    async (request) => {
      await requireModel(app, request.params.name);
      return { history: await aliasHistory(db, request.params.name, request.params.alias) };
    },
  );

  app.get(
    '/:name/aliases/:alias/at',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: AliasParams,
        querystring: Type.Object({ time: Type.String({ description: 'ISO 8601 time, e.g. 2026-01-31T12:00:00Z' }) }),
        response: { 200: HistoryEntry, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      const at = new Date(request.query.time);
      if (Number.isNaN(at.getTime())) throw new ValidationError(`time=${JSON.stringify(request.query.time)} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z).`);
      await requireModel(app, name);
      const entry = await aliasAt(db, name, alias, at);
      if (!entry) throw new NotFoundError(`No version of ${name} was @${alias} at ${at.toISOString()}.`);
      return entry;
    },
  );

  app.post(
    '/:name/rollback',
    {
      config: { roles: ['admin'] },
      schema: {
        params: NameParams,
        body: Type.Object({ reason: Reason, alias: Type.Optional(Type.String({ pattern: ALIAS_PATTERN })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ alias: Type.String(), version: Type.Integer(), previousVersion: Type.Integer() }), ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const alias = request.body.alias ?? PRODUCTION_ALIAS;
      const r = await rollbackAlias(db, { modelName: request.params.name, alias, actor: actorOf(request), reason: request.body.reason });
      return { alias, ...r };
    },
  );

  app.get(
    '/:name/gates',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: NameParams,
        response: { 200: Type.Object({ declared: Type.Boolean(), config: Type.Unknown(), defaults: Type.Record(Type.String(), Type.Unknown()) }), ...errors(404) },
      },
    },
    async (request) => {
      const declared = await getGateConfig(db, request.params.name);
      const latest = (await listModelVersions(db, request.params.name))[0];
      if (!declared && !latest) throw new NotFoundError(`Model ${request.params.name} does not exist and has no gates declared.`);
      const defaults = { binary: defaultGateConfig('binary'), multiclass: defaultGateConfig('multiclass'), regression: defaultGateConfig('regression') };
      return { declared: declared !== null, config: declared ?? (latest ? defaultGateConfig(taskOf(latest.signature)) : null), defaults };
    },
  );

  app.put(
    '/:name/gates',
    {
      config: { roles: ['admin', 'trainer'] },
      schema: {
        params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }) }),
        body: Type.Object(
          { config: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'A GateConfig (lib/evaluation/types.ts), or null for the default' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ declared: Type.Boolean(), config: Type.Unknown() }), ...errors(400) },
      },
    },
    async (request) => {
      const config = request.body.config === null ? null : validateDeclaredGateConfig(request.body.config);
      await setGateConfig(db, request.params.name, config, actorOf(request));
      return { declared: config !== null, config };
    },
  );

  app.get(
    '/:name/approval-policy',
    { config: { roles: ['viewer'] }, schema: { params: NameParams, response: { 200: Type.Object({ policy: Type.Union([ApprovalPolicySchema, Type.Null()]) }) } } },
    async (request) => ({ policy: await getApprovalPolicy(db, request.params.name) }),
  );

  app.put(
    '/:name/approval-policy',
    {
      // Who may approve a model is itself a release decision: admins only.
      config: { roles: ['admin'] },
      schema: {
        params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }) }),
        body: Type.Object({ policy: Type.Union([ApprovalPolicySchema, Type.Null()], { description: 'null clears it' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ policy: Type.Union([ApprovalPolicySchema, Type.Null()]) }), ...errors(400) },
      },
    },
    async (request) => {
      const policy = request.body.policy;
      validatePolicy(policy ?? undefined);
      await setApprovalPolicy(db, request.params.name, policy, actorOf(request));
      return { policy };
    },
  );
};

export default modelRoutes;
