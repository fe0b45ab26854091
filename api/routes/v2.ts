// The Open Inference Protocol (KServe v2) REST surface, so KServe, Triton and MLServer clients work unchanged:
// server and model metadata, liveness and readiness, and tensor inference. Inference goes through the same
// serving path as /v1 predict (routing, micro-batching, fallback, prediction log, metrics).
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { listModelVersions } from '../../lib/registry/registry.js';
import type { ModelVersion } from '../../lib/registry/types.js';
import { SCORING_BODY_LIMIT_BYTES } from '../../lib/serving/serving-config.js';
import { checkOutputSelection, predictionsToOutputs, readInferRequest, tensorMetadata, V2_PLATFORM, type V2InferRequest, type V2TensorMetadata } from '../../lib/serving/v2.js';
import { errors } from '../schemas.js';

const SERVER_NAME = 'mlcycle';

const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer(), { description: '-1 marks a variable dimension' }),
  parameters: Type.Optional(Type.Object({ features: Type.Array(Type.String(), { description: 'Features this tensor packs, in column order' }) })),
});

const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
});

const Parameters = Type.Record(Type.String(), Type.Unsafe<unknown>({}));

// `data` carries no type keyword: Fastify's coercion would otherwise rewrite values; lib/serving/v2.ts checks them.
const InferBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256 })),
    parameters: Type.Optional(Parameters),
    inputs: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          shape: Type.Array(Type.Unsafe<number>({ description: 'non-negative integer' })),
          datatype: Type.String(),
          data: Type.Unsafe<unknown>({ description: 'flat or nested row-major values' }),
          parameters: Type.Optional(Parameters),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String(), parameters: Type.Optional(Parameters) }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);

const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.String(),
  parameters: Type.Object({
    arm: Type.String(),
    request_id: Type.String(),
    prediction_ids: Type.Array(Type.String(), { description: 'One per row, for feedback' }),
    fallback_from_version: Type.Optional(Type.Integer()),
    fallback_reason: Type.Optional(Type.String()),
    fallback_to: Type.Optional(Type.String({ description: '`version` (the fallback version answered) or `default` (the declared default answer)' })),
  }),
  outputs: Type.Array(
    Type.Object({
      name: Type.String(),
      datatype: Type.String(),
      shape: Type.Array(Type.Integer()),
      data: Type.Array(Type.Union([Type.Number(), Type.String()])),
    }),
  ),
});

// Not-ready answers are 400 as the protocol asks; declared inline (not the shared $ref) so the reply is typed.
const NotReady = Type.Object({ error: Type.String(), code: Type.String() });

const NameParams = Type.Object({ name: Type.String() });
const VersionParams = Type.Object({ name: Type.String(), version: Type.String() });

/** Path versions are positive integers; anything else names no version (404, as the protocol asks). */
function parseVersion(name: string, version: string): number {
  if (!/^[1-9]\d{0,8}$/.test(version)) throw new NotFoundError(`Model ${name} has no version ${JSON.stringify(version)}.`);
  return Number(version);
}

/** The version a request names, or the one /infer without a version scores on: the deployment's stable, else @production. */
async function resolveVersion(app: FastifyInstance, name: string, version?: string): Promise<ModelVersion> {
  if (version !== undefined) return app.predictor.version(name, parseVersion(name, version));
  const state = app.deployments.get(name);
  return state ? app.predictor.version(name, state.stableVersion) : app.predictor.resolveAlias(name);
}

const v2Routes: FastifyPluginAsyncTypebox = async (app) => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  // Tensor metadata per model bytes (sha256): derived once from the loaded session.
  const metadataCache = new Map<string, Promise<{ inputs: V2TensorMetadata[]; outputs: V2TensorMetadata[] }>>();
  const tensorsOf = (version: ModelVersion) => {
    let m = metadataCache.get(version.sha256);
    if (!m) {
      m = app.predictor.load(version).then((session) =>
        tensorMetadata(version.signature, {
          inputs: session.inputMetadata.map((x) => ({ ...x })),
          outputs: session.outputMetadata.map((x) => ({ ...x })),
        }),
      );
      void m.catch(() => metadataCache.delete(version.sha256));
      metadataCache.set(version.sha256, m);
    }
    return m;
  };

  app.get(
    '/',
    // Only `/v2`, not also `/v2/`: the protocol names the one path.
    { prefixTrailingSlash: 'no-slash', config: { roles: 'public' }, schema: { response: { 200: Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) }) } } },
    async () => ({ name: SERVER_NAME, version: pkg.version, extensions: [] }),
  );

  app.get('/health/live', { config: { roles: 'public' }, schema: { response: { 200: Type.Object({ live: Type.Boolean() }) } } }, async () => ({ live: true }));

  // Ready when the database (registry, deployment state, prediction log) answers; the protocol wants 4xx otherwise.
  app.get(
    '/health/ready',
    { config: { roles: 'public' }, schema: { response: { 200: Type.Object({ ready: Type.Boolean() }), 400: NotReady } } },
    async (_request, reply) => {
      const problem = await app.deps.db.query('select 1').then(
        () => null,
        (e: Error) => e.message,
      );
      if (problem) return reply.status(400).send({ error: `Not ready: Postgres is unreachable (${problem}).`, code: 'NotReady' });
      return { ready: true };
    },
  );

  const metadata = async (name: string, version?: string) => {
    const v = await resolveVersion(app, name, version);
    const { inputs, outputs } = await tensorsOf(v);
    const versions =
      version !== undefined
        ? [String(v.version)]
        : (await listModelVersions(app.deps.db, name)).filter((x) => x.archivedAt === null).map((x) => String(x.version)).reverse();
    return { name, versions, platform: V2_PLATFORM, inputs, outputs };
  };
  const metadataSchema = <P extends TSchema>(params: P) => ({ params, response: { 200: ModelMetadata, ...errors(404) } });
  app.get('/models/:name', { config: { roles: ['viewer'] }, schema: metadataSchema(NameParams) }, async (request) => metadata(request.params.name));
  app.get('/models/:name/versions/:version', { config: { roles: ['viewer'] }, schema: metadataSchema(VersionParams) }, async (request) =>
    metadata(request.params.name, request.params.version),
  );

  // Ready once the version's session is loaded, verified and warm. The first ask starts loading and answers 400.
  const ready = async (name: string, version: string | undefined, reply: FastifyReply) => {
    const v = await resolveVersion(app, name, version);
    if (await app.predictor.isReady(v)) return { name, version: String(v.version), ready: true };
    void app.predictor.load(v).catch((err: unknown) => app.log.error({ err }, `loading ${name} v${v.version} failed`));
    return reply.status(400).send({ error: `Model ${name} v${v.version} is not ready: its session is loading; ask again shortly.`, code: 'NotReady' });
  };
  const readySchema = <P extends TSchema>(params: P) => ({
    params,
    response: { 200: Type.Object({ name: Type.String(), version: Type.String(), ready: Type.Boolean() }), 400: NotReady, ...errors(404) },
  });
  app.get('/models/:name/ready', { config: { roles: ['viewer'] }, schema: readySchema(NameParams) }, async (request, reply) => ready(request.params.name, undefined, reply));
  app.get('/models/:name/versions/:version/ready', { config: { roles: ['viewer'] }, schema: readySchema(VersionParams) }, async (request, reply) =>
    ready(request.params.name, request.params.version, reply),
  );

  const infer = async (name: string, version: string | undefined, body: V2InferRequest) => {
    // Routed first (the version is resolved once), so rows are read with the signature of the version that
    // scores them, canary included.
    const routingKey = typeof body.parameters?.routing_key === 'string' ? body.parameters.routing_key : undefined;
    const target = await app.serving.target({ modelName: name, routingKey, version: version === undefined ? undefined : parseVersion(name, version) });
    const { rows, matrix } = readInferRequest(body, target.version.signature);
    const selected = body.outputs?.map((o) => o.name);
    checkOutputSelection(target.version.signature, selected);
    const served = await app.serving.serve(target, rows, { matrix });
    const answered = served.version === target.version.version ? target.version : await app.predictor.version(name, served.version);
    const { outputs } = await tensorsOf(answered);
    return {
      model_name: name,
      model_version: String(served.version),
      id: body.id ?? served.requestId,
      parameters: {
        arm: served.arm,
        request_id: served.requestId,
        prediction_ids: served.predictions.map((p) => p.id),
        ...(served.fallback ? { fallback_from_version: served.fallback.fromVersion, fallback_reason: served.fallback.reason, fallback_to: served.fallback.to } : {}),
      },
      outputs: predictionsToOutputs(served.predictions, answered.signature, outputs, selected),
    };
  };
  const inferSchema = <P extends TSchema>(params: P) => ({ params, body: InferBody, response: { 200: InferResponse, ...errors(400, 404, 413, 503, 504) } });
  app.post('/models/:name/infer', { config: { roles: ['scorer'] }, bodyLimit: SCORING_BODY_LIMIT_BYTES, schema: inferSchema(NameParams) }, async (request) =>
    infer(request.params.name, undefined, request.body as V2InferRequest),
  );
  app.post('/models/:name/versions/:version/infer', { config: { roles: ['scorer'] }, bodyLimit: SCORING_BODY_LIMIT_BYTES, schema: inferSchema(VersionParams) }, async (request) =>
    infer(request.params.name, request.params.version, request.body as V2InferRequest),
  );
};

export default v2Routes;
