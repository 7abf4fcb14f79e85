/**
 * GET /api/v1/gateways            every registered gateway: online, last seen, the hub's upTo,
 *                                 counts (stored, duplicates, dropped, quarantined), last status,
 *                                 technical problems (gatewayProblems)
 * GET /api/v1/gateways/:id        one of them
 * GET /api/v1/gateways/:id/seqs   seqs of the readings stored for it (accounting checks)
 * GET /api/v1/gateways/:id/quarantine   readings the hub refused, with the cause
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GATEWAY_ID_PATTERN } from '@ioc/shared';
import type { GatewayEntry } from '../config/schema.js';
import { gatewayProblems } from '../health/gateway-problems.js';
import { scopeOf } from './auth-hook.js';
import { Errors } from './auth.js';
import { GatewaySchema, QuarantineRowSchema } from './schemas.js';
import type { ApiDeps, ApiPluginOptions } from './types.js';

export function gatewayView(deps: ApiDeps, g: GatewayEntry, visibleDevices: number) {
  const stats = deps.store.gatewayStats(g.id);
  const state = deps.store.gatewayState(g.id);
  const status = state?.status ?? null;
  return {
    id: g.id,
    name: g.name ?? null,
    communeCode: g.communeCode ?? null,
    devices: visibleDevices,
    online: state?.online ?? false,
    lastSeen: state?.lastSeen ?? null,
    upTo: stats.upTo,
    stored: stats.stored,
    duplicates: stats.duplicates,
    dropped: stats.dropped,
    quarantined: stats.quarantined,
    /** Accounted seq ranges beyond upTo show the gaps the hub is waiting for. */
    accountedRanges: stats.ranges.slice(0, 50).map(([first, last]): [number, number] => [first, last]),
    outbox: status?.outbox ?? null,
    /** Outbox writes failing or the outbox over its cap at the gateway (health/gateway-problems.ts); [] when none. */
    gatewayProblems: gatewayProblems(status),
    link: status?.link ?? null,
    status,
    statusAt: state?.statusAt ?? null,
  };
}

const IdParams = Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }) }, { additionalProperties: false });

export const gatewaysRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const notFound = (id: string) => ({ error: 'not_found' as const, message: `gateway "${id}" is not in the registry` });

  // A gateway is visible to whoever sees one of its devices (or its commune); the device count is of those in scope.
  const view = (g: GatewayEntry, scope: ReturnType<typeof scopeOf>) =>
    gatewayView(deps, g, deps.registry.devicesOf(g.id).filter((d) => scope.hasDevice(d.id)).length);

  app.get('/gateways', { config: { access: 'read' }, schema: { response: { 200: Type.Object({ gateways: Type.Array(GatewaySchema) }), ...Errors } } }, async (req) => {
    const scope = scopeOf(req);
    return { gateways: [...deps.registry.gateways.values()].filter((g) => scope.hasGateway(g.id)).map((g) => view(g, scope)) };
  });

  app.get('/gateways/:id', { config: { access: 'read' }, schema: { params: IdParams, response: { 200: Type.Object({ gateway: GatewaySchema }), ...Errors } } }, async (req, reply) => {
    const scope = scopeOf(req);
    const g = deps.registry.gateways.get(req.params.id);
    if (!g || !scope.hasGateway(g.id)) return reply.code(404).send(notFound(req.params.id));
    return { gateway: view(g, scope) };
  });

  app.get(
    '/gateways/:id/seqs',
    {
      config: { access: 'gateways.seqs' },
      schema: {
        params: IdParams,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ gw: Type.String(), seqs: Type.Array(Type.Integer()) }), ...Errors },
      },
    },
    async (req, reply) => {
      if (!deps.registry.gateways.has(req.params.id) || !scopeOf(req).hasGateway(req.params.id)) return reply.code(404).send(notFound(req.params.id));
      const seqs = deps.store.storedSeqs(req.params.id, req.query.after ?? 0, req.query.limit ?? 1_000_000);
      return { gw: req.params.id, seqs };
    },
  );

  app.get(
    '/gateways/:id/quarantine',
    {
      config: { access: 'gateways.seqs' },
      schema: {
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ gw: Type.String(), quarantine: Type.Array(QuarantineRowSchema) }), ...Errors },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      if (!deps.registry.gateways.has(req.params.id) || !scope.hasGateway(req.params.id)) return reply.code(404).send(notFound(req.params.id));
      return { gw: req.params.id, quarantine: deps.store.quarantined(req.params.id, req.query.limit ?? 100, scope.devices) };
    },
  );
};
