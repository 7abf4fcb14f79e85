/**
 * GET  /api/v1/alerts?state=&active=&dev=&limit=   newest first, each with its level history
 * GET  /api/v1/alerts/:id
 * POST /api/v1/alerts/:id/ack       {note?}   open → acknowledged (409 otherwise)
 * POST /api/v1/alerts/:id/resolve   {note?}   → resolved, once the condition has cleared (409)
 *
 * Only alerts of devices in the caller's areas exist for it (404 otherwise). The person acting is
 * the authenticated caller, recorded in the alert's history and in the audit log.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertActionError } from '../alerts/engine.js';
import { DEVICE_ID_PATTERN } from '../config/schema.js';
import { actorOf, scopeOf } from './auth-hook.js';
import { Errors } from './auth.js';
import { AlertSchema } from './schemas.js';
import type { ApiPluginOptions } from './types.js';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const ActionBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false });

export const alertsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/alerts',
    {
      config: { access: 'read' },
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
        response: { 200: Type.Object({ alerts: Type.Array(AlertSchema) }), ...Errors },
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
          scope: scopeOf(req).devices,
        }),
      };
    },
  );

  const OneAlert = { 200: Type.Object({ alert: AlertSchema }), ...Errors };
  app.get('/alerts/:id', { config: { access: 'read' }, schema: { params: IdParams, response: OneAlert } }, async (req, reply) => {
    const alert = deps.alerts.get(req.params.id, scopeOf(req).devices);
    if (!alert) return reply.code(404).send({ error: 'not_found', message: `alert ${req.params.id} not found` });
    return { alert };
  });

  for (const action of ['ack', 'resolve'] as const) {
    app.post(`/alerts/:id/${action}`, { config: { access: 'alerts.act' }, schema: { params: IdParams, body: ActionBody, response: OneAlert } }, async (req, reply) => {
      const { note } = req.body;
      const by = req.principal!.id;
      const audit = () =>
        deps.audit.append({
          actor: actorOf(req),
          action: action === 'ack' ? 'alert.acknowledged' : 'alert.resolved',
          target: `alert:${req.params.id}`,
          ...(note !== undefined ? { summary: note } : {}),
          ip: req.ip,
        });
      try {
        const scope = scopeOf(req).devices;
        const alert = action === 'ack' ? deps.alerts.acknowledge(req.params.id, by, note, scope, audit) : deps.alerts.resolve(req.params.id, by, note, scope, audit);
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
