// /v1/training-runs: start the training workflow and read its live status through its query.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { getDatasetVersion } from '../../lib/data/datasets.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { resolveParams } from '../../lib/training/train.js';
import { GBDT_PARAM_NAMES } from '../../lib/training/params.js';
import { validateSearch } from '../../lib/training/search.js';
import { CATEGORICAL_ENCODINGS, IMPUTE_STRATEGIES, LEARNERS, SCALINGS, type TrainingInput } from '../../lib/training/types.js';
import { validatePolicy } from '../../lib/release/approval.js';
import { resolveRollout } from '../../lib/serving/rollout.js';
import { statusQuery, trainingWorkflow } from '../../workflows/training.js';
import { releaseStatusQuery } from '../../workflows/release.js';
import { actingAs } from '../auth.js';
import { ApprovalPolicySchema, DecisionRecord, errors, RolloutOptionsSchema } from '../schemas.js';

const StartBody = Type.Object(
  {
    modelName: Type.String({ pattern: MODEL_NAME_PATTERN }),
    datasetVersionId: Type.String({ minLength: 1 }),
    target: Type.String({ minLength: 1 }),
    features: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true })),
    params: Type.Optional(
      Type.Object(
        {
          learner: Type.Optional(Type.Union(LEARNERS.map((l) => Type.Literal(l)))),
          C: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          alpha: Type.Optional(Type.Number({ minimum: 0 })),
          maxIterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          validationFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
          seed: Type.Optional(Type.Integer()),
          impute: Type.Optional(Type.Union(IMPUTE_STRATEGIES.map((l) => Type.Literal(l)))),
          imputeConstant: Type.Optional(Type.Number()),
          scaling: Type.Optional(Type.Union(SCALINGS.map((l) => Type.Literal(l)))),
          categorical: Type.Optional(Type.Union(CATEGORICAL_ENCODINGS.map((l) => Type.Literal(l)))),
          maxCategories: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          gbdt: Type.Optional(Type.Object(Object.fromEntries(GBDT_PARAM_NAMES.map((n) => [n, Type.Optional(Type.Number())])), { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
    task: Type.Optional(Type.Union([Type.Literal('classification'), Type.Literal('regression')])),
    split: Type.Optional(
      Type.Union([
        Type.Object(
          {
            method: Type.Union([Type.Literal('random'), Type.Literal('stratified')]),
            validationFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
            testFraction: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
          },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            method: Type.Literal('time'),
            timeColumn: Type.String({ minLength: 1 }),
            t1: Type.Union([Type.String(), Type.Number()]),
            t2: Type.Optional(Type.Union([Type.String(), Type.Number()])),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
    search: Type.Optional(
      Type.Object(
        {
          strategy: Type.Union([Type.Literal('grid'), Type.Literal('random'), Type.Literal('halving')]),
          space: Type.Record(
            Type.String(),
            Type.Union([
              Type.Object({ values: Type.Array(Type.Union([Type.Number(), Type.String()]), { minItems: 1 }) }, { additionalProperties: false }),
              Type.Object(
                { min: Type.Number(), max: Type.Number(), log: Type.Optional(Type.Boolean()), integer: Type.Optional(Type.Boolean()) },
                { additionalProperties: false },
              ),
            ]),
          ),
          trials: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
          metric: Type.Optional(Type.String()),
          cvFolds: Type.Optional(Type.Integer({ minimum: 2, maximum: 20 })),
          eta: Type.Optional(Type.Integer({ minimum: 2 })),
          minBudget: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    experiment: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN })),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    startedBy: Type.Optional(Type.String({ minLength: 1 })),
    approval: Type.Optional(ApprovalPolicySchema),
    rollout: Type.Optional(RolloutOptionsSchema),
  },
  { additionalProperties: false },
);

const Refused = Type.Object({ approver: Type.String(), decision: Type.String(), error: Type.String(), at: Type.String(), via: Type.String() });

const RunStatus = Type.Object({
  id: Type.String(),
  workflowStatus: Type.String(),
  stage: Type.Optional(Type.String()),
  modelName: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
  maxAbsDiff: Type.Optional(Type.Number()),
  trialsDone: Type.Optional(Type.Integer()),
  trialsTotal: Type.Optional(Type.Integer()),
  bestTrial: Type.Optional(
    Type.Object({
      trialId: Type.String(),
      params: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
      score: Type.Number(),
      metric: Type.String(),
      rung: Type.Integer(),
    }),
  ),
  release: Type.Optional(
    Type.Object({
      workflowId: Type.String(),
      stage: Type.String(),
      decision: Type.Optional(DecisionRecord),
      refusedDecisions: Type.Array(Refused),
      reminderSentAt: Type.Optional(Type.String()),
    }),
  ),
  failure: Type.Optional(Type.String()),
});

const trainingRunRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    { schema: { body: StartBody, response: { 202: Type.Object({ id: Type.String(), statusUrl: Type.String() }), ...errors(400) } } },
    async (request, reply) => {
      // The schema has checked the shape; unions built from the learner/option lists lose their literal types.
      const body = { ...(request.body as unknown as TrainingInput) };
      // The run's starter is the caller's key, so nobody can approve a run they started under another name.
      body.startedBy = actingAs(request.principal, body.startedBy, 'startedBy', true);
      const params = resolveParams(body.params);
      if (body.search) validateSearch(body.search, params);
      validatePolicy(body.approval);
      resolveRollout(body.rollout);
      const dataset = await getDatasetVersion(app.deps.db, body.datasetVersionId).catch((err) => {
        throw err instanceof NotFoundError ? new ValidationError(err.message) : err;
      });
      const columns = dataset.columns.map((c) => c.name);
      const timeColumn = body.split?.method === 'time' ? [body.split.timeColumn] : [];
      for (const col of [body.target, ...(body.features ?? []), ...timeColumn]) {
        if (!columns.includes(col)) throw new ValidationError(`Column ${JSON.stringify(col)} is not in dataset ${dataset.id}; its columns are ${columns.join(', ')}.`);
      }
      const id = `train-${body.modelName}-${randomUUID().slice(0, 8)}`;
      await app.deps.client.workflow.start(trainingWorkflow, {
        workflowId: id,
        taskQueue: app.deps.config.taskQueues.orchestration,
        args: [body],
        staticSummary: `Train ${body.modelName} on ${dataset.id}`,
        staticDetails: `Target \`${body.target}\`, ${dataset.rowCount} rows. Approve with the \`approve\` Update ({"approver": "...", "reason": "..."}).`,
      });
      return reply.status(202).send({ id, statusUrl: `/v1/training-runs/${id}` });
    },
  );

  app.get(
    '/:id',
    { schema: { params: Type.Object({ id: Type.String() }), response: { 200: RunStatus, ...errors(404) } } },
    async (request) => {
      const handle = app.deps.client.workflow.getHandle(request.params.id);
      const description = await handle.describe();
      if (description.type !== trainingWorkflow.name) throw new NotFoundError(`${request.params.id} is not a training run.`);
      const status = await handle.query(statusQuery).catch(() => undefined);
      let failure: string | undefined;
      if (description.status.name === 'FAILED') {
        failure = await handle.result().then(
          () => undefined,
          (err: Error) => {
            let cur: Error | undefined = err;
            while ((cur as { cause?: Error })?.cause) cur = (cur as { cause?: Error }).cause;
            return cur?.message ?? err.message;
          },
        );
      }
      let release;
      if (status?.releaseWorkflowId) {
        const r = await app.deps.client.workflow.getHandle(status.releaseWorkflowId).query(releaseStatusQuery).catch(() => undefined);
        if (r) release = { workflowId: status.releaseWorkflowId, stage: r.stage, decision: r.decision, refusedDecisions: r.refusedDecisions, reminderSentAt: r.reminderSentAt };
      }
      return { id: request.params.id, workflowStatus: description.status.name, ...status, release, failure };
    },
  );
};

export default trainingRunRoutes;
