/**
 * GET /api/v1/health — liveness and whether the hub can do its job: the database answers, writes
 * to it succeed, there is free disk space (health/storage.ts), the broker's clients.
 *
 * 503 when the database does not answer or its writes fail (nothing is being stored or
 * acknowledged: a load balancer or monitor must see it); "degraded" with 200 when only the free
 * disk space is below hub.minFreeDiskMB (everything still works, for now). `reasons` says why.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiPluginOptions } from './types.js';

export const healthRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/health', { config: { access: 'public' } }, async (_req, reply) => {
    const dbOk = deps.store.ping();
    const storage = deps.storage?.state();
    const reasons = [...(dbOk ? [] : ['db_unavailable']), ...(storage?.reasons ?? [])];
    const failing = !dbOk || storage?.writesFailing === true;
    const body = {
      status: reasons.length ? 'degraded' : 'ok',
      reasons,
      version: deps.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      db: { ok: dbOk && !failing, ...(storage ? { writesFailing: storage.writesFailing, ...storage.store } : {}) },
      ...(storage ? { disk: storage.disk } : {}),
      broker: { clients: deps.brokerClients() },
    };
    return reply.code(failing ? 503 : 200).send(body);
  });
};
