/**
 * The hub's HTTP API (fastify): one plugin per area, routes declared with TypeBox schemas and
 * the access they need (./auth-hook.ts). Security headers on every answer, the Host header
 * checked (DNS rebinding), no stack trace ever sent.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { formatAjvErrors } from '@ioc/shared';
import { buildScope } from '../auth/scope.js';
import type { Principal } from '../auth/principal.js';
import { alertsRoutes } from './alerts.js';
import { rulesRoutes } from './rules.js';
import { auditRoutes } from './audit.js';
import { authRoutes } from './auth.js';
import { backupsRoutes } from './backups.js';
import { installAuthHook } from './auth-hook.js';
import { capRoutes } from './cap.js';
import { consoleConfigRoutes, consoleRoutes } from './console.js';
import { devicesRoutes } from './devices.js';
import { enrolmentRoutes } from './enrolment.js';
import { gatewaysRoutes } from './gateways.js';
import { handoverRoutes } from './handover.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { notificationsRoutes } from './notifications.js';
import { openapiRoutes, registerOpenApi } from './openapi.js';
import { readingsRoutes } from './readings.js';
import { streamRoutes } from './stream.js';
import { usersRoutes } from './users.js';
import type { ApiDeps, ApiInstance } from './types.js';

export const API_PREFIX = '/api/v1';
/** Request bodies above this are refused before they are read (413). */
export const MAX_BODY_BYTES = 64 * 1024;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostName(header: string): string {
  // "[::1]:8080" → "[::1]", "example:8080" → "example"
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return (colon >= 0 ? header.slice(0, colon) : header).toLowerCase();
}

export function buildApi(deps: ApiDeps): ApiInstance {
  const app = Fastify({
    // HTTPS unless http.tls is false (loopback only); the type stays the plain server's (same API).
    // A TLS handshake that stalls (a slow or hostile client) is dropped after 10 s, not Node's 120 s.
    ...((deps.https ? { https: { handshakeTimeout: 10_000, ...deps.https } } : {}) as object),
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    // A request must arrive whole within 30 s (slow-loris); answers here are small and quick.
    requestTimeout: 30_000,
    // A bare JSON 'null' or deep nesting is refused by the schemas; prototype keys never reach them.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(`invalid ${dataVar}: ${formatAjvErrors(errors as Parameters<typeof formatAjvErrors>[0])}`),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const allowed = new Set([...LOOPBACK_HOSTS, ...(deps.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  app.addHook('onRequest', async (req, reply) => {
    const host = req.headers.host;
    if (!host || !allowed.has(hostName(host))) {
      return reply.code(421).send({ error: 'misdirected', message: `Host "${host ?? ''}" is not served here (add it to http.allowedHosts)` });
    }
  });

  void app.register(helmet, {
    // The API answers JSON; the consoles' own policy comes with them.
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } },
    hsts: false,
  });
  void app.register(cookie);
  void app.register(rateLimit, { global: false });
  // Stream clients send nothing but control frames: their messages are kept tiny.
  void app.register(websocket, { options: { maxPayload: 4096 } });

  // Before the routes: it describes each route as it is added.
  registerOpenApi(app, deps.version);

  const openPrincipal: Principal | null = deps.auth
    ? null
    : { kind: 'open', id: 'loopback', actor: 'open:loopback', role: 'operator', scope: buildScope(deps.registry, ['*']) };
  installAuthHook(app, { auth: deps.auth, openPrincipal });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500) {
      const error = status === 404 ? 'not_found' : status === 413 ? 'too_large' : status === 429 ? 'rate_limited' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      return reply.code(status).send({ error, message: err.message });
    }
    deps.logger.error({ err, method: req.method, url: req.url.split('?')[0] }, 'API request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const opts = { deps };
  void app.register(healthRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(authRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(usersRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(auditRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(backupsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(gatewaysRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(enrolmentRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(devicesRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(readingsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(alertsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(rulesRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(capRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(notificationsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(handoverRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(streamRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(openapiRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(metricsRoutes, opts);
  const consoleSettings = deps.console ?? { dir: null, tiles: null };
  void app.register(consoleConfigRoutes, { ...opts, settings: consoleSettings, prefix: API_PREFIX });
  // Last: its catch-all answers the app's pages, never an API path.
  void app.register(consoleRoutes, { ...opts, settings: consoleSettings });
  return app;
}

export interface RunningApi {
  app: ApiInstance;
  port: number;
  close(): Promise<void>;
}

export async function startApi(deps: ApiDeps, listen: { host: string; port: number }): Promise<RunningApi> {
  const app = buildApi(deps);
  await app.listen({ host: listen.host, port: listen.port });
  const port = (app.server.address() as AddressInfo).port;
  return { app, port, close: () => app.close() };
}
