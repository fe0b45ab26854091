// GET /health: the API is up and can reach Postgres and Temporal.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  postgres: Type.String(),
  temporal: Type.String(),
});

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', { schema: { response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const postgres = await app.deps.db.query('select 1').then(() => 'ok', (e: Error) => `unreachable: ${e.message}`);
    const temporal = await app.deps.client.workflowService
      .getSystemInfo({})
      .then(() => 'ok', (e: Error) => `unreachable: ${e.message}`);
    const ok = postgres === 'ok' && temporal === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', postgres, temporal });
  });
};

export default healthRoutes;
