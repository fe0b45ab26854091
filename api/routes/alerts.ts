// GET /v1/alerts: alerts raised by monitoring, newest first, with their delivery state.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listAlerts } from '../../lib/monitoring/alert-store.js';

const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    { schema: { querystring: Type.Object({ model: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }), response: { 200: Type.Object({ alerts: Type.Array(Type.Unknown()) }) } } },
    async (request) => ({ alerts: await listAlerts(app.deps.db, { modelName: request.query.model, limit: request.query.limit }) }),
  );
};

export default alertRoutes;
