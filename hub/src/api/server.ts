/**
 * The hub's HTTP API (fastify): one plugin per area, routes declared with TypeBox schemas.
 * No authentication yet (a later issue adds it): the hub binds it to 127.0.0.1 by default.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { formatAjvErrors } from '@ioc/shared';
import { alertsRoutes } from './alerts.js';
import { devicesRoutes } from './devices.js';
import { gatewaysRoutes } from './gateways.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { readingsRoutes } from './readings.js';
import type { ApiDeps, ApiInstance } from './types.js';

export const API_PREFIX = '/api/v1';

export function buildApi(deps: ApiDeps): ApiInstance {
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(`invalid ${dataVar}: ${formatAjvErrors(errors as Parameters<typeof formatAjvErrors>[0])}`),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Reads see every telemetry batch that has arrived (the hub flushes its group commit first).
  const beforeRequest = deps.beforeRequest;
  if (beforeRequest) {
    app.addHook('onRequest', (_req, _reply, done) => {
      beforeRequest();
      done();
    });
  }

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: status === 404 ? 'not_found' : 'bad_request', message: err.message });
    deps.logger.error({ err, method: req.method, url: req.url }, 'API request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const opts = { deps };
  void app.register(healthRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(gatewaysRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(devicesRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(readingsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(alertsRoutes, { ...opts, prefix: API_PREFIX });
  void app.register(metricsRoutes, opts);
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
