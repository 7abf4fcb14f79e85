/** GET /api/v1/health — liveness and the state of the database and broker. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiPluginOptions } from './types.js';

export const healthRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/health', { config: { access: 'public' } }, async (_req, reply) => {
    const dbOk = deps.store.ping();
    const body = {
      status: dbOk ? 'ok' : 'degraded',
      version: deps.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      db: { ok: dbOk },
      broker: { clients: deps.brokerClients() },
    };
    return reply.code(dbOk ? 200 : 503).send(body);
  });
};
