/**
 * GET  /api/v1/alerts?state=&open=&active=&dev=&rule=&category=&limit=   newest first, with history
 * GET  /api/v1/alerts/:id
 * POST /api/v1/alerts/:id/ack            {note}              open → acknowledged
 * POST /api/v1/alerts/:id/assign         {assignee, note}    assign / hand over to the next shift
 * POST /api/v1/alerts/:id/shelve         {minutes | until, note}   maintenance: recorded, not notified
 * POST /api/v1/alerts/:id/unshelve       {note?}
 * POST /api/v1/alerts/:id/close          {note}              cleared → closed
 * POST /api/v1/alerts/:id/confirm-risk   {level, note?}      flood: the disaster-risk level in force
 *
 * Only alerts of devices (and gateways) in the caller's areas exist for it (404 otherwise). The
 * person acting is the authenticated caller, recorded in the alert's history and the audit log.
 */
import { Type, type FastifyPluginAsyncTypebox, type TSchema } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AlertActionError, type ActionContext } from '../alerts/lifecycle.js';
import type { AlertView } from '../alerts/types.js';
import type { AuditInput } from '../audit/types.js';
import type { Permission } from '../auth/roles.js';
import { DEVICE_ID_PATTERN } from '@ioc/shared';
import { actorOf, scopeOf } from './auth-hook.js';
import type { ApiPluginOptions } from './types.js';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const Note = Type.String({ minLength: 1, maxLength: 1024 });
const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
/** An alert (see AlertView in hub/src/alerts/types.ts); open so fields added later pass through. */
export const AlertSchema = Type.Object(
  {
    id: Type.Integer(),
    rule: Type.String(),
    kind: Type.String(),
    category: Type.String(),
    target: Type.String(),
    dev: Type.Union([Type.String(), Type.Null()]),
    level: Type.Integer(),
    maxLevel: Type.Integer(),
    state: Type.String(),
    active: Type.Boolean(),
    severity: Type.String(),
    message: Type.Object({ vi: Type.String(), en: Type.String() }),
  },
  { additionalProperties: true },
);
const One = { 200: Type.Object({ alert: AlertSchema }), '4xx': ErrorBody };

type Act = (deps: ApiPluginOptions['deps'], id: number, body: Record<string, unknown>, ctx: ActionContext) => AlertView;

interface ActionRoute {
  path: string;
  access: Permission;
  audit: AuditInput['action'];
  body: TSchema;
  act: Act;
  summary: (body: Record<string, unknown>) => string | undefined;
}

const ACTIONS: ActionRoute[] = [
  {
    path: 'ack', access: 'alerts.act', audit: 'alert.acknowledged', body: Type.Object({ note: Note }, { additionalProperties: false }),
    act: (d, id, b, c) => d.alertActions.acknowledge(id, b.note as string, c), summary: (b) => b.note as string,
  },
  {
    path: 'assign', access: 'alerts.act', audit: 'alert.assigned',
    body: Type.Object({ assignee: Type.String({ minLength: 1, maxLength: 128 }), note: Note }, { additionalProperties: false }),
    act: (d, id, b, c) => d.alertActions.assign(id, b.assignee as string, b.note as string, c), summary: (b) => `→ ${String(b.assignee)}: ${String(b.note)}`,
  },
  {
    path: 'shelve', access: 'alerts.shelve', audit: 'alert.shelved',
    body: Type.Object(
      { minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })), until: Type.Optional(Type.String({ format: 'date-time' })), note: Note },
      { additionalProperties: false },
    ),
    act: (d, id, b, c) => {
      const until = b.until !== undefined ? Date.parse(b.until as string) : b.minutes !== undefined ? Date.now() + (b.minutes as number) * 60_000 : NaN;
      if (!Number.isFinite(until)) throw new AlertActionError('invalid', 'say how long: minutes, or until (an ISO date-time)');
      return d.alertActions.shelve(id, until, b.note as string, c);
    },
    summary: (b) => `${b.until ?? `${String(b.minutes)} min`}: ${String(b.note)}`,
  },
  {
    path: 'unshelve', access: 'alerts.shelve', audit: 'alert.unshelved', body: Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false }),
    act: (d, id, b, c) => d.alertActions.unshelve(id, b.note as string | undefined, c), summary: (b) => b.note as string | undefined,
  },
  {
    path: 'close', access: 'alerts.act', audit: 'alert.closed', body: Type.Object({ note: Note }, { additionalProperties: false }),
    act: (d, id, b, c) => d.alertActions.close(id, b.note as string, c), summary: (b) => b.note as string,
  },
  {
    path: 'confirm-risk', access: 'alerts.act', audit: 'alert.risk-confirmed',
    body: Type.Object({ level: Type.Integer({ minimum: 1, maximum: 5 }), note: Type.Optional(Note) }, { additionalProperties: false }),
    act: (d, id, b, c) => d.alertActions.confirmRisk(id, b.level as number, b.note as string | undefined, c), summary: (b) => `level ${String(b.level)}${b.note ? `: ${String(b.note)}` : ''}`,
  },
];

export const alertsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/alerts',
    {
      config: { access: 'read' },
      schema: {
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union(['open', 'acknowledged', 'cleared', 'closed'].map((s) => Type.Literal(s)))),
            /** Everything not closed yet: the watch desk's board. */
            open: Type.Optional(Type.Boolean()),
            active: Type.Optional(Type.Boolean()),
            dev: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN })),
            rule: Type.Optional(Type.String({ maxLength: 64 })),
            category: Type.Optional(Type.Union(['flood', 'rain', 'fire', 'environment', 'technical'].map((s) => Type.Literal(s)))),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alerts: Type.Array(AlertSchema) }), '4xx': ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      return {
        alerts: deps.alerts.list({
          ...(q.state !== undefined ? { state: q.state as 'open' } : {}),
          ...(q.open ? { unclosed: true } : {}),
          ...(q.active !== undefined ? { active: q.active } : {}),
          ...(q.dev !== undefined ? { dev: q.dev } : {}),
          ...(q.rule !== undefined ? { rule: q.rule } : {}),
          ...(q.category !== undefined ? { category: q.category } : {}),
          limit: q.limit ?? 100,
          scope: scopeOf(req).devices,
        }),
      };
    },
  );

  app.get('/alerts/:id', { config: { access: 'read' }, schema: { params: IdParams, response: One } }, async (req, reply) => {
    const alert = deps.alerts.get(req.params.id, scopeOf(req).devices);
    if (!alert) return reply.code(404).send({ error: 'not_found', message: `alert ${req.params.id} not found` });
    return { alert };
  });

  for (const a of ACTIONS) {
    app.post(`/alerts/:id/${a.path}`, { config: { access: a.access }, schema: { params: IdParams, body: a.body, response: One } }, async (req: FastifyRequest, reply: FastifyReply) => {
      const { id } = req.params as { id: number };
      const body = req.body as Record<string, unknown>;
      const summary = a.summary(body);
      const ctx: ActionContext = {
        by: req.principal!.id,
        scope: scopeOf(req).devices,
        within: () => deps.audit.append({ actor: actorOf(req), action: a.audit, target: `alert:${id}`, ...(summary !== undefined ? { summary } : {}), ip: req.ip }),
      };
      try {
        return { alert: a.act(deps, id, body, ctx) };
      } catch (err) {
        if (err instanceof AlertActionError) {
          return reply.code(err.code === 'not_found' ? 404 : err.code === 'invalid' ? 400 : 409).send({ error: err.code, message: err.message });
        }
        throw err;
      }
    });
  }
};
