// /v1/api-keys: create, list and revoke API keys (admin only). A new key's plaintext is answered once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors.js';
import { actorOf, createApiKey, listApiKeys, revokeApiKey, ROLES } from '../auth.js';
import { errors } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const KeyInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The start of the key, to recognise it' }),
  roles: Type.Array(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
  lastUsedAt: Nullable(Type.String()),
});

const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = { roles: ['admin'] as const };
  app.post(
    '/',
    {
      config: admin,
      schema: {
        body: Type.Object(
          { name: Type.String({ minLength: 1, description: 'Identity the calls are recorded under, e.g. carol@example.com' }), roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([KeyInfo, Type.Object({ key: Type.String({ description: 'Shown once; only its sha256 is stored' }) })]), ...errors(400) },
      },
    },
    async (request, reply) => reply.status(201).send(await createApiKey(app.deps.db, { ...request.body, createdBy: actorOf(request) })),
  );
  app.get('/', { config: admin, schema: { response: { 200: Type.Object({ keys: Type.Array(KeyInfo) }) } } }, async () => ({ keys: await listApiKeys(app.deps.db) }));
  app.delete(
    '/:id',
    { config: admin, schema: { params: Type.Object({ id: Type.String() }), response: { 200: KeyInfo, ...errors(404) } } },
    async (request) => {
      const key = await revokeApiKey(app.deps.db, request.params.id);
      if (!key) throw new NotFoundError(`No API key ${request.params.id}.`);
      app.auth.forget();
      return key;
    },
  );
};

export default apiKeyRoutes;
