// /v1/feature-views and /v1/features: register feature view declarations, start materialization into
// the online store, and read one entity's online values (TTL enforced, staleness reported).
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { FEATURE_VIEW_NAME_PATTERN, FeatureViewSchema } from '../../lib/features/declaration.js';
import { getFeatureView, listFeatureViews, registerFeatureView } from '../../lib/features/registry.js';
import { DATASET_NAME_PATTERN } from '../../lib/data/types.js';
import { materializeWorkflow, trainingFrameWorkflow } from '../../workflows/features.js';
import { errors } from '../schemas.js';

const Registered = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  declaration: FeatureViewSchema,
  watermark: Type.Union([Type.String(), Type.Null()]),
  watermarkDatasetVersionId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const MaterializeResult = Type.Object({
  runId: Type.String(),
  view: Type.String(),
  datasetVersionId: Type.String(),
  full: Type.Boolean(),
  previousWatermark: Type.Union([Type.String(), Type.Null()]),
  watermark: Type.Union([Type.String(), Type.Null()]),
  entitiesUpserted: Type.Integer(),
  entitiesRemoved: Type.Integer(),
});
const Started = Type.Object({ workflowId: Type.String() });
const Value = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);
const OnlineFeatures = Type.Object({
  view: Type.String(),
  entityId: Type.String(),
  status: Type.Union([Type.Literal('present'), Type.Literal('expired'), Type.Literal('missing')]),
  values: Type.Record(Type.String(), Value),
  eventTime: Type.Union([Type.String(), Type.Null()]),
  materializedAt: Type.Union([Type.String(), Type.Null()]),
  stalenessSeconds: Type.Union([Type.Number(), Type.Null()]),
  ttlSeconds: Type.Integer(),
});
const FrameBody = Type.Object(
  {
    labelsVersionId: Type.String({ minLength: 1, description: 'Dataset version holding the label table.' }),
    timestampColumn: Type.String({ minLength: 1, description: 'Label column (timestamp) features are taken as of.' }),
    entityColumn: Type.Optional(Type.String({ minLength: 1, description: 'Default: the first view\'s entity join key.' })),
    views: Type.Array(Type.String({ pattern: FEATURE_VIEW_NAME_PATTERN }), { minItems: 1 }),
    createdTimeGuard: Type.Optional(Type.Boolean({ description: 'Also leave out source rows created after the label time.' })),
    outputName: Type.String({ pattern: DATASET_NAME_PATTERN, description: 'Dataset the frame is stored under.' }),
  },
  { additionalProperties: false },
);
const FrameResult = Type.Object({
  datasetVersionId: Type.String(),
  datasetName: Type.String(),
  rowCount: Type.Integer(),
  created: Type.Boolean(),
  featureColumns: Type.Array(Type.String()),
  missing: Type.Record(Type.String(), Type.Integer()),
});
const ViewParams = Type.Object({ name: Type.String({ pattern: FEATURE_VIEW_NAME_PATTERN }) });

const featureRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/feature-views',
    {
      config: { roles: ['trainer'] },
      schema: { body: FeatureViewSchema, response: { 200: Registered, 201: Registered, ...errors(400) } },
    },
    async (request, reply) => {
      const { created, ...view } = await registerFeatureView(app.deps.db, app.onlineStore, request.body);
      return reply.status(created ? 201 : 200).send(view);
    },
  );

  app.post(
    '/feature-views/training-frames',
    { config: { roles: ['trainer'] }, schema: { body: FrameBody, response: { 200: FrameResult, 201: FrameResult, ...errors(400, 404) } } },
    async (request, reply) => {
      for (const name of request.body.views) await getFeatureView(app.deps.db, name);
      const { client, config } = app.deps;
      const result = await client.workflow.execute(trainingFrameWorkflow, {
        workflowId: `training-frame-${request.body.outputName}-${randomUUID()}`,
        taskQueue: config.taskQueues.orchestration,
        args: [request.body],
        staticSummary: `Training frame ${request.body.outputName} from ${request.body.views.join(', ')}`,
      });
      return reply.status(result.created ? 201 : 200).send(result);
    },
  );

  app.get('/feature-views', { config: { roles: ['viewer'] }, schema: { response: { 200: Type.Array(Registered) } } }, async () => listFeatureViews(app.deps.db));

  app.get(
    '/feature-views/:name',
    { config: { roles: ['viewer'] }, schema: { params: ViewParams, response: { 200: Registered, ...errors(404) } } },
    async (request) => getFeatureView(app.deps.db, request.params.name),
  );

  app.post(
    '/feature-views/:name/materialize',
    {
      config: { roles: ['trainer'] },
      schema: {
        params: ViewParams,
        querystring: Type.Object(
          { wait: Type.Optional(Type.Boolean({ description: 'Wait for the run and return its result (200) instead of answering 202 at once.' })) },
          { additionalProperties: false },
        ),
        response: { 200: MaterializeResult, 202: Started, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      await getFeatureView(app.deps.db, name); // 404 before starting anything
      const { client, config } = app.deps;
      const workflowId = `materialize-${name}-${randomUUID()}`;
      const options = { workflowId, taskQueue: config.taskQueues.orchestration, args: [{ view: name }] as [{ view: string }], staticSummary: `Materialize feature view ${name}` };
      if (request.query.wait) return reply.status(200).send(await client.workflow.execute(materializeWorkflow, options));
      await client.workflow.start(materializeWorkflow, options);
      return reply.status(202).send({ workflowId });
    },
  );

  app.get(
    '/features/:view/:entityId',
    {
      config: { roles: ['viewer'] },
      schema: {
        params: Type.Object({ view: Type.String({ pattern: FEATURE_VIEW_NAME_PATTERN }), entityId: Type.String({ minLength: 1 }) }),
        response: { 200: OnlineFeatures, ...errors(404) },
      },
    },
    async (request) => (await app.onlineStore.read(request.params.view, [request.params.entityId]))[0],
  );
};

export default featureRoutes;
