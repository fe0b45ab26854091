// POST /v1/model-uploads: bring your own model. An ONNX file trained elsewhere is checked against its signature,
// stored, registered as a new version, and handed to the release stage (the same approval path as trained models).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Type } from 'typebox';
import { ValidationError } from '../../lib/errors.js';
import { checkUploadedModel } from '../../lib/onnx/upload.js';
import { registerUploadedModelVersion } from '../../lib/registry/registry.js';
import { MODEL_NAME_PATTERN } from '../../lib/registry/types.js';
import { buildEvaluationSet } from '../../lib/training/evaluation-set.js';
import { getDatasetVersion } from '../../lib/data/datasets.js';
import { NotFoundError } from '../../lib/errors.js';
import { validatePolicy } from '../../lib/release/approval.js';
import type { ModelSignature } from '../../lib/training/types.js';
import { releaseWorkflow, releaseWorkflowId } from '../../workflows/release.js';
import { errors } from '../schemas.js';

const Signature = Type.Object(
  {
    inputName: Type.Optional(Type.String({ minLength: 1, description: 'The one float input, when `inputs` is absent' })),
    inputs: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1 }), type: Type.Union([Type.Literal('float'), Type.Literal('string')]), features: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    ),
    features: Type.Array(
      Type.Object(
        { name: Type.String({ minLength: 1 }), type: Type.Union([Type.Literal('float'), Type.Literal('string')]), categories: Type.Optional(Type.Array(Type.String())) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    outputs: Type.Object({ label: Type.String({ minLength: 1 }), probabilities: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    classes: Type.Array(Type.Union([Type.String(), Type.Number()])),
    task: Type.Optional(Type.Union([Type.Literal('classification'), Type.Literal('regression')])),
  },
  { additionalProperties: false },
);

const UploadBody = Type.Object(
  {
    modelName: Type.String({ pattern: MODEL_NAME_PATTERN }),
    onnxBase64: Type.String({ minLength: 1, description: 'The ONNX file, base64-encoded (at most ~12 MB)' }),
    signature: Signature,
    uploadedBy: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    evaluation: Type.Optional(
      Type.Object(
        {
          datasetVersionId: Type.String({ minLength: 1, description: 'A dataset version with the feature columns and the target' }),
          target: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false, description: 'The held-out set the release gates score the model on; the release stage needs one.' },
      ),
    ),
    /** Metrics measured elsewhere, recorded with the version. */
    metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
    approval: Type.Optional(
      Type.Object(
        {
          approvers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true })),
          reminderAfterSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          reminderWebhook: Type.Optional(Type.String({ pattern: '^https?://' })),
          deadlineSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const UploadResult = Type.Object({
  modelName: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  created: Type.Boolean({ description: 'False when these bytes were already uploaded for this model' }),
  releaseWorkflowId: Type.String(),
});

const modelUploadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/', { schema: { body: UploadBody, response: { 201: UploadResult, 200: UploadResult, ...errors(400) } } }, async (request, reply) => {
    const body = request.body;
    validatePolicy(body.approval);
    const bytes = Buffer.from(body.onnxBase64, 'base64');
    if (bytes.length === 0) throw new ValidationError('onnxBase64 decodes to no bytes.');
    const signature: ModelSignature = { ...body.signature, inputName: body.signature.inputName ?? body.signature.inputs?.find((i) => i.type === 'float')?.name ?? '' };
    if (!body.signature.inputs && !body.signature.inputName) throw new ValidationError('signature needs inputName (one float input holding every feature) or inputs.');
    if (signature.task === 'regression') signature.classes = [signature.outputs.probabilities];
    else if (signature.classes.length < 2) throw new ValidationError('signature.classes must list at least two class labels for a classifier (or set task: "regression").');
    await checkUploadedModel(bytes, signature);
    let evaluation;
    if (body.evaluation) {
      const dataset = await getDatasetVersion(app.deps.db, body.evaluation.datasetVersionId).catch((err) => {
        throw err instanceof NotFoundError ? new ValidationError(err.message) : err;
      });
      evaluation = await buildEvaluationSet(app.deps, dataset.id, body.evaluation.target, signature);
    }
    const stored = await app.deps.artifacts.put(bytes);
    const version = await registerUploadedModelVersion(app.deps.db, {
      modelName: body.modelName,
      sha256: stored.sha256,
      uri: stored.uri,
      signature,
      metrics: body.metrics ?? {},
      params: { source: 'upload', description: body.description ?? '', ...(body.evaluation ? { evaluationTarget: body.evaluation.target } : {}) },
      datasetVersionId: body.evaluation?.datasetVersionId,
      evaluationUri: evaluation?.uri,
      createdBy: body.uploadedBy,
    });
    const workflowId = releaseWorkflowId(body.modelName, version.version);
    try {
      await app.deps.client.workflow.start(releaseWorkflow, {
        workflowId,
        taskQueue: app.deps.config.taskQueues.orchestration,
        args: [{ modelName: body.modelName, version: version.version, startedBy: body.uploadedBy, approval: body.approval }],
        staticSummary: `Release uploaded ${body.modelName} v${version.version}`,
      });
    } catch (err) {
      // A repeated upload finds its release already started: one release per version.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return reply
      .status(version.created ? 201 : 200)
      .send({ modelName: body.modelName, version: version.version, sha256: stored.sha256, created: version.created, releaseWorkflowId: workflowId });
  });
};

export default modelUploadRoutes;
