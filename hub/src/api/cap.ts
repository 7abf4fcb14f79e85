/**
 * CAP 1.2 (OASIS Common Alerting Protocol) for other systems:
 *
 * GET /api/v1/alerts/:id/cap.xml?n=   the episode's latest message, or its n-th (1-based)
 * GET /api/v1/cap/alerts.xml          Atom feed of the current messages of the caller's alerts
 *
 * Read access; only alerts of devices in the caller's areas exist for it (404 otherwise).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { episodeMessages } from '../cap/episode.js';
import { ATOM_CONTENT_TYPE, capFeedXml, inFeed, type FeedItem } from '../cap/feed.js';
import { capInputFromAlert } from '../cap/from-alert.js';
import { CAP_CONTENT_TYPE, capAlertXml } from '../cap/message.js';
import { capSettings } from '../cap/settings.js';
import { ErrorBody } from './auth.js';
import { scopeOf } from './auth-hook.js';
import type { ApiPluginOptions } from './types.js';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const MessageQuery = Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1, description: 'the n-th message of the episode (1 = the Alert)' })) }, { additionalProperties: false });
const NoQuery = Type.Object({}, { additionalProperties: false });
const CapXml = Type.String({ description: `an OASIS CAP 1.2 <alert> document (${CAP_CONTENT_TYPE})` });
const AtomXml = Type.String({ description: `an Atom 1.0 feed whose entries carry CAP 1.2 messages (${ATOM_CONTENT_TYPE})` });

/** Alerts the feed looks at: every active one, and the newest ended ones (the Cancels it keeps). */
const FEED_ACTIVE_LIMIT = 1000;
const FEED_ENDED_LIMIT = 500;

export const capRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const settings = deps.cap ?? capSettings();
  const now = deps.now ?? Date.now;
  /** Absolute URLs from the address the caller used (the Host header is checked by the server). */
  const base = (req: FastifyRequest) => `${req.protocol}://${req.host}${app.prefix}`;

  app.get(
    '/alerts/:id/cap.xml',
    { config: { access: 'read' }, schema: { params: IdParams, querystring: MessageQuery, response: { 200: CapXml, '4xx': ErrorBody } } },
    async (req, reply) => {
      const { id } = req.params;
      const alert = deps.alerts.get(id, scopeOf(req).devices);
      if (!alert) return reply.code(404).send({ error: 'not_found', message: `alert ${id} not found` });
      const input = capInputFromAlert(alert);
      const messages = episodeMessages(input, settings);
      const msg = req.query.n === undefined ? messages.at(-1) : messages[req.query.n - 1];
      if (!msg) return reply.code(404).send({ error: 'not_found', message: `alert ${id} has ${messages.length} CAP message(s)` });
      return reply.type(`${CAP_CONTENT_TYPE}; charset=utf-8`).send(capAlertXml(input, msg, settings));
    },
  );

  app.get('/cap/alerts.xml', { config: { access: 'read' }, schema: { querystring: NoQuery, response: { 200: AtomXml, '4xx': ErrorBody } } }, async (req, reply) => {
    const scope = scopeOf(req).devices;
    const t = now();
    const alerts = [...deps.alerts.list({ active: true, limit: FEED_ACTIVE_LIMIT, scope }), ...deps.alerts.list({ active: false, limit: FEED_ENDED_LIMIT, scope })];
    const items: FeedItem[] = [];
    for (const alert of alerts) {
      const input = capInputFromAlert(alert);
      const msg = episodeMessages(input, settings).at(-1);
      if (msg && inFeed({ input, msg }, settings, t)) items.push({ input, msg });
    }
    const api = base(req);
    const xml = capFeedXml({ items, settings, now: t, feedUrl: `${api}/cap/alerts.xml`, messageUrl: (id, n) => `${api}/alerts/${id}/cap.xml?n=${n}` });
    return reply.type(`${ATOM_CONTENT_TYPE}; charset=utf-8`).send(xml);
  });
};
