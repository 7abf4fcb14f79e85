/**
 * GET /api/v1/stream (WebSocket) — the live feed (../live.ts) for the consoles: readings, alert
 * changes, gateway status and device events, scoped to the caller and filtered by the query:
 *
 *   area=19816,46      communes or provinces (repeatable or comma-separated)
 *   dev=wl-kimlong     devices (repeatable or comma-separated)
 *   kind=alert,status  readings, alert, status, event
 *   since=<id>         resume: what was published after this id, then live
 *
 * Authenticated like every route (the upgrade is a GET through the same hook: no credentials, no
 * upgrade), re-checked at every heartbeat: a session that ended, a revoked key or changed areas
 * close the connection. Message shapes, close codes and flow control: ../stream/.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { can } from '../auth/roles.js';
import { DEVICE_ID_PATTERN } from '@ioc/shared';
import { COMMUNE_CODE_PATTERN, PROVINCE_CODE_PATTERN } from '../config/schema.js';
import { LIVE_KINDS, type LiveEntry, type LiveFeed, type LiveKind } from '../live.js';
import { StreamClient } from '../stream/client.js';
import { DEFAULT_STREAM_OPTIONS, type StreamOptions } from '../stream/options.js';
import { streamFilter } from '../stream/filter.js';
import { CLOSE } from '../stream/messages.js';
import { authenticateRequest, scopeOf } from './auth-hook.js';
import { ErrorBody } from './auth.js';
import type { ApiPluginOptions } from './types.js';


/** A comma-separated list of items matching `item` (a regex source without anchors). */
const list = (item: string) => `^${item}(,${item})*$`;
const AREA = `(${COMMUNE_CODE_PATTERN.slice(1, -1)}|${PROVINCE_CODE_PATTERN.slice(1, -1)})`;
const DEV = DEVICE_ID_PATTERN.slice(1, -1);
const KIND = `(${LIVE_KINDS.join('|')})`;
const repeatable = (item: string, description: string) =>
  Type.Optional(Type.Union([Type.String({ pattern: list(item), maxLength: 4096 }), Type.Array(Type.String({ pattern: list(item), maxLength: 4096 }), { maxItems: 100 })], { description }));

export const StreamQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Resume after this id (the highest id received before the connection dropped)' })),
    area: repeatable(AREA, 'Commune (5 digits) or province (2 digits) codes'),
    dev: repeatable(DEV, 'Device ids'),
    kind: repeatable(KIND, 'Message types: readings, alert, status, event'),
  },
  { additionalProperties: false },
);

const items = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat().flatMap((s) => s.split(',')));

export const streamRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const feed: LiveFeed | undefined = deps.live;
  if (!feed) return;
  const opts: StreamOptions = { ...DEFAULT_STREAM_OPTIONS, ...deps.stream };
  const clients = new Set<StreamClient>();
  const closed = (reason: string) => deps.metrics.streamClosed.inc({ reason });

  // One listener for every client: one failing client does not keep the others from their messages.
  const onEntry = (e: LiveEntry) => {
    for (const c of clients) {
      try {
        c.onEntry(e);
      } catch (err) {
        deps.logger.error({ err }, 'stream client failed');
        c.terminate('shutdown');
      }
    }
  };
  feed.on('entry', onEntry);

  // Heartbeat, and the credentials of each connection checked again.
  const rechecks = new WeakMap<StreamClient, () => boolean>();
  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.terminate('heartbeat');
        continue;
      }
      if (rechecks.get(c)?.() === false) {
        c.close('credentials', CLOSE.credentials, 'credentials no longer valid or areas changed: log in again and reconnect');
        continue;
      }
      c.alive = false;
      c.ping();
    }
  }, opts.heartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    feed.off('entry', onEntry);
    for (const c of clients) c.close('shutdown', CLOSE.shutdown, 'hub shutting down');
  });

  app.get(
    '/stream',
    {
      websocket: true,
      config: { access: 'read' },
      schema: { querystring: StreamQuery, response: { '4xx': ErrorBody, '5xx': ErrorBody } },
      // Before the upgrade: answers that are still HTTP.
      preHandler: async (req, reply) => {
        const scope = scopeOf(req);
        // A page of another site must not open the stream from a console's browser with its cookie, or
        // in open mode at all (cross-site WebSocket hijacking). Programs send no Origin.
        if (req.headers.origin !== undefined && !sameHost(req.headers.origin, req.headers.host)) {
          return reply.code(403).send({ error: 'forbidden', message: `Origin ${req.headers.origin} may not open the stream` });
        }
        for (const dev of items(req.query.dev)) {
          if (!deps.registry.devices.has(dev) || !scope.hasDevice(dev)) return reply.code(404).send({ error: 'not_found', message: `device "${dev}" is not in the registry` });
        }
        for (const area of items(req.query.area)) {
          if (!scope.hasArea(area)) return reply.code(404).send({ error: 'not_found', message: `area ${area} is not in your areas` });
        }
        if (clients.size >= opts.maxClients) {
          return reply.code(503).send({ error: 'unavailable', message: `the stream serves ${opts.maxClients} connections at most; try again later` });
        }
      },
    },
    (socket, req) => {
      const scope = scopeOf(req);
      const filter = streamFilter(deps.registry, scope, {
        areas: items(req.query.area),
        devices: items(req.query.dev),
        kinds: items(req.query.kind) as LiveKind[],
      });
      const last = feed.lastId;
      const since = req.query.since;
      const oldest = feed.history.oldestId();
      let start = last;
      let first: object;
      if (since === undefined) first = { id: last, type: 'hello', resumed: false };
      else if (since > last) first = { id: last, type: 'reset', reason: `since ${since} is not a position of this hub's stream` };
      else if (since === last || (oldest !== undefined && since + 1 >= oldest)) {
        start = since;
        first = { id: since, type: 'hello', resumed: true };
      } else first = { id: last, type: 'reset', reason: `since ${since} is older than what the hub keeps (from ${oldest ?? last + 1})` };

      const client = new StreamClient(socket, feed, filter, start, opts, closed);
      rechecks.set(client, credentialCheck(req, deps.auth));
      clients.add(client);
      deps.metrics.streamClients.inc();
      socket.on('close', () => {
        clients.delete(client);
        deps.metrics.streamClients.dec();
      });
      // A client sends nothing; anything it does send is ignored.
      client.sendControl(first);
      client.pump();
    },
  );
};

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Whether the connection's credentials still hold, with the same role and areas. */
function credentialCheck(req: FastifyRequest, auth: ApiPluginOptions['deps']['auth']): () => boolean {
  const first = req.principal!;
  if (!auth) return () => true;
  const areas = first.scope.areas.join(',');
  return () => {
    const now = authenticateRequest(req, auth);
    return now !== null && now.id === first.id && now.role === first.role && can(now.role, 'read') && now.scope.areas.join(',') === areas;
  };
}
