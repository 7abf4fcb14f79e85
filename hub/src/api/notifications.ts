/**
 * The notification queue, for admins (notify.manage):
 *
 * GET  /api/v1/notifications?status=&channel=&alertId=&beforeId=&limit=   newest first, each with its attempts
 * GET  /api/v1/notifications/dead?channel=&beforeId=&limit=               dead letters
 * GET  /api/v1/notifications/routes                                       channels, routes and escalation tiers in force (no secrets)
 * GET  /api/v1/notifications/:id                                          one row, its attempts and what it carries
 * POST /api/v1/notifications/:id/replay                                   a dead letter back into the queue
 * POST /api/v1/notifications/dead/replay   {channel?}                     every dead letter (of a channel)
 *
 * Rows of alerts outside the caller's areas do not exist for it (404). Replays are audited.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { alertsTopic } from '@ioc/shared';
import { CHANNEL_ID_PATTERN } from '../notify/config.js';
import type { ChannelConfig } from '../notify/config.js';
import type { NotificationView } from '../notify/service.js';
import { actorOf, scopeOf } from './auth-hook.js';
import { ErrorBody } from './auth.js';
import type { ApiPluginOptions } from './types.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  startedAt: Type.Integer(),
  durationMs: Type.Integer(),
  outcome: Type.Union([Type.Literal('delivered'), Type.Literal('retry'), Type.Literal('dead')]),
  error: Nullable(Type.String()),
});

const NotificationSchema = Type.Object({
  id: Type.Integer(),
  notificationId: Type.String(),
  channel: Type.String(),
  alertId: Type.Integer(),
  eventKind: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  attempts: Type.Integer(),
  nextAt: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  deliveredAt: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  deadReason: Nullable(Type.String()),
  replays: Type.Integer(),
  attemptLog: Type.Array(AttemptSchema),
});

const ChannelId = Type.String({ pattern: CHANNEL_ID_PATTERN });
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 }));
const BeforeId = Type.Optional(Type.Integer({ minimum: 1 }));
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const List = Type.Object({ notifications: Type.Array(NotificationSchema) });

const Severity = Type.Union([Type.Literal('minor'), Type.Literal('moderate'), Type.Literal('severe'), Type.Literal('extreme')]);
const ChannelView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  /** Where it goes, without credentials: a webhook's origin and path, e-mail recipients, the MQTT topic's area. */
  destination: Type.String(),
  /** Whether a secret (webhook signing key, SMTP password) is configured; never the secret or where it is kept. */
  secret: Type.Boolean(),
  concurrency: Type.Integer(),
  timeoutMs: Type.Integer(),
  maxAttempts: Type.Integer(),
  maxAgeMinutes: Type.Number(),
  retry: Type.Object({ initialMs: Type.Integer(), maxMs: Type.Integer() }),
  pending: Type.Integer(),
  dead: Type.Integer(),
  oldestPendingAt: Nullable(Type.Integer()),
});
const RoutesView = Type.Object({
  channels: Type.Array(ChannelView),
  routes: Type.Array(
    Type.Object({
      channels: Type.Array(Type.String()),
      areas: Type.Array(Type.String()),
      minSeverity: Type.Optional(Severity),
      levels: Type.Optional(Type.Array(Type.Integer())),
      kinds: Type.Optional(Type.Array(Type.String())),
      categories: Type.Optional(Type.Array(Type.String())),
      events: Type.Optional(Type.Array(Type.String())),
      includeExercise: Type.Boolean(),
    }),
  ),
  escalation: Type.Array(
    Type.Object({ afterMinutes: Type.Number(), channels: Type.Array(Type.String()), areas: Type.Array(Type.String()), minSeverity: Type.Optional(Severity), includeExercise: Type.Boolean() }),
  ),
});

/** A channel's settings without its secrets: a whitelist, so a channel type's new option is not shown by accident. */
function channelView(c: ChannelConfig): Omit<Static<typeof ChannelView>, 'pending' | 'dead' | 'oldestPendingAt'> {
  let destination = '';
  if (c.type === 'webhook' && typeof c.url === 'string') {
    try {
      const u = new URL(c.url);
      destination = `${u.origin}${u.pathname}`;
    } catch {
      destination = '';
    }
  } else if (c.type === 'email' && Array.isArray(c.to)) destination = (c.to as string[]).join(', ');
  else if (c.type === 'mqtt') destination = alertsTopic(c.area === 'province' ? '{province}' : '{commune}');
  return {
    id: c.id,
    type: c.type,
    destination,
    secret: ['secretFile', 'secretEnv', 'passwordFile', 'passwordEnv'].some((k) => c[k] !== undefined),
    concurrency: c.concurrency,
    timeoutMs: c.timeoutMs,
    maxAttempts: c.maxAttempts,
    maxAgeMinutes: c.maxAgeMinutes,
    retry: { initialMs: c.retry.initialMs, maxMs: c.retry.maxMs },
  };
}

/** What the API shows of a row (the payload only on GET /:id). */
const view = (v: NotificationView) => ({
  ...v,
  attemptLog: v.attemptLog.map(({ attempt, startedAt, durationMs, outcome, error }) => ({ attempt, startedAt, durationMs, outcome, error })),
});

export const notificationsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const notify = deps.notify;
  if (!notify) return;

  app.get(
    '/notifications',
    {
      config: { access: 'notify.manage' },
      schema: {
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')])),
            channel: Type.Optional(ChannelId),
            alertId: Type.Optional(Type.Integer({ minimum: 1 })),
            beforeId: BeforeId,
            limit: Limit,
          },
          { additionalProperties: false },
        ),
        response: { 200: List, '4xx': ErrorBody },
      },
    },
    async (req) => {
      const { status, channel, alertId, beforeId, limit } = req.query;
      const rows = notify.list(
        { ...(status ? { status } : {}), ...(channel ? { channel } : {}), ...(alertId !== undefined ? { alertId } : {}), ...(beforeId !== undefined ? { beforeId } : {}), limit: limit ?? 100 },
        scopeOf(req).devices,
      );
      return { notifications: rows.map(view) };
    },
  );

  app.get(
    '/notifications/dead',
    {
      config: { access: 'notify.manage' },
      schema: {
        querystring: Type.Object({ channel: Type.Optional(ChannelId), beforeId: BeforeId, limit: Limit }, { additionalProperties: false }),
        response: { 200: List, '4xx': ErrorBody },
      },
    },
    async (req) => {
      const { channel, beforeId, limit } = req.query;
      const rows = notify.list({ status: 'dead', ...(channel ? { channel } : {}), ...(beforeId !== undefined ? { beforeId } : {}), limit: limit ?? 100 }, scopeOf(req).devices);
      return { notifications: rows.map(view) };
    },
  );

  app.get(
    '/notifications/routes',
    { config: { access: 'notify.manage' }, schema: { response: { 200: RoutesView, '4xx': ErrorBody } } },
    async () => {
      const cfg = notify.config;
      const stats = new Map(notify.stats().map((s) => [s.channel, s]));
      return {
        channels: cfg.channels.map((c) => ({ ...channelView(c), pending: stats.get(c.id)?.pending ?? 0, dead: stats.get(c.id)?.dead ?? 0, oldestPendingAt: stats.get(c.id)?.oldestPendingAt ?? null })),
        routes: cfg.routes.map((r) => ({ ...r })),
        escalation: cfg.escalation.map((e) => ({ ...e })),
      };
    },
  );

  app.get(
    '/notifications/:id',
    {
      config: { access: 'notify.manage' },
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ notification: NotificationSchema, payload: Type.Unknown() }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req).devices;
      const row = notify.get(req.params.id, scope);
      if (!row) return reply.code(404).send({ error: 'not_found', message: `notification ${req.params.id} not found` });
      return { notification: view(row), payload: notify.notification(req.params.id, scope) ?? null };
    },
  );

  app.post(
    '/notifications/:id/replay',
    {
      config: { access: 'notify.manage' },
      schema: { params: IdParams, response: { 200: Type.Object({ notification: NotificationSchema }), '4xx': ErrorBody } },
    },
    async (req, reply) => {
      const scope = scopeOf(req).devices;
      const r = notify.replay(req.params.id, scope, (row) =>
        deps.audit.append({
          actor: actorOf(req),
          action: 'notify.replayed',
          target: `notification:${row.id}`,
          summary: `replayed ${row.notificationId} on channel ${row.channel}`,
          before: { status: row.status, attempts: row.attempts, deadReason: row.deadReason },
          ip: req.ip,
        }),
      );
      if (!r.ok) return reply.code(r.code === 'not_found' ? 404 : 409).send({ error: r.code, message: r.message });
      return { notification: view(notify.get(r.row.id, scope)!) };
    },
  );

  app.post(
    '/notifications/dead/replay',
    {
      config: { access: 'notify.manage' },
      schema: {
        body: Type.Object({ channel: Type.Optional(ChannelId) }, { additionalProperties: false }),
        response: { 200: Type.Object({ replayed: Type.Integer(), ids: Type.Array(Type.Integer()) }), '4xx': ErrorBody },
      },
    },
    async (req) => {
      const channel = req.body.channel;
      const ids = notify.replayDead(channel, scopeOf(req).devices, (replayed) =>
        deps.audit.append({
          actor: actorOf(req),
          action: 'notify.replayed',
          target: channel ? `channel:${channel}` : 'notifications:dead',
          summary: `replayed ${replayed.length} dead letter(s)${channel ? ` of channel ${channel}` : ''}`,
          after: { ids: replayed },
          ip: req.ip,
        }),
      );
      return { replayed: ids.length, ids };
    },
  );
};
