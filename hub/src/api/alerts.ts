/**
 * GET  /api/v1/alerts?state=&active=&dev=&limit=   newest first, each with its level history
 * GET  /api/v1/alerts/:id
 * POST /api/v1/alerts/:id/ack       {by, note?}   open → acknowledged (409 otherwise)
 * POST /api/v1/alerts/:id/resolve   {by, note?}   → resolved, once the condition has cleared (409)
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertActionError } from '../alerts/engine.js';
import { DEVICE_ID_PATTERN } from '../config/schema.js';
import type { ApiPluginOptions } from './types.js';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const ActionBody = Type.Object(
  {
    by: Type.String({ minLength: 1, maxLength: 64 }),
    note: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const alertsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/alerts',
    {
      schema: {
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')])),
            active: Type.Optional(Type.Boolean()),
            dev: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { state, active, dev, limit } = req.query;
      return {
        alerts: deps.alerts.list({
          ...(state !== undefined ? { state } : {}),
          ...(active !== undefined ? { active } : {}),
          ...(dev !== undefined ? { dev } : {}),
          limit: limit ?? 100,
        }),
      };
    },
  );

  app.get('/alerts/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const alert = deps.alerts.get(req.params.id);
    if (!alert) return reply.code(404).send({ error: 'not_found', message: `alert ${req.params.id} not found` });
    return { alert };
  });

  for (const action of ['ack', 'resolve'] as const) {
    app.post(`/alerts/:id/${action}`, { schema: { params: IdParams, body: ActionBody } }, async (req, reply) => {
      const { by, note } = req.body;
      try {
        const alert = action === 'ack' ? deps.alerts.acknowledge(req.params.id, by, note) : deps.alerts.resolve(req.params.id, by, note);
        return { alert };
      } catch (err) {
        if (err instanceof AlertActionError) {
          return reply.code(err.code === 'not_found' ? 404 : 409).send({ error: err.code, message: err.message });
        }
        throw err;
      }
    });
  }
};
