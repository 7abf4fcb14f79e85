/** GET /metrics — Prometheus text format. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors } from './auth.js';
import type { ApiPluginOptions } from './types.js';

export const metricsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/metrics',
    {
      config: { access: 'metrics.read' },
      schema: { response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } }, ...Errors } },
    },
    async (_req, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.header('content-type', deps.metrics.registry.contentType).send(text);
    },
  );
};
