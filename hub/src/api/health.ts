/**
 * GET /api/v1/health — liveness and whether the hub can do its job: the database answers, writes
 * to it succeed, there is free disk space (health/storage.ts), the broker's clients.
 *
 * 503 when the database does not answer or its writes fail (nothing is being stored or
 * acknowledged: a load balancer or monitor must see it); "degraded" with 200 when only the free
 * disk space is below hub.minFreeDiskMB (everything still works, for now). `reasons` says why.
 */
import { Type, type FastifyPluginAsyncTypebox, type TSchema } from '@fastify/type-provider-typebox';
import type { ApiPluginOptions } from './types.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  /** db_unavailable, store_writes_failing, disk_low, disk_unreadable */
  reasons: Type.Array(Type.String()),
  version: Type.String(),
  uptimeS: Type.Integer(),
  db: Type.Object({
    ok: Type.Boolean(),
    writesFailing: Type.Optional(Type.Boolean()),
    writeFailures: Type.Optional(Type.Record(Type.String(), Type.Integer())),
    failingSince: Type.Optional(Nullable(Type.Integer())),
    lastError: Type.Optional(Nullable(Type.Object({ ts: Type.Integer(), code: Type.String(), message: Type.String() }))),
  }),
  disk: Type.Optional(
    Type.Object({ dataDir: Type.String(), freeBytes: Nullable(Type.Integer()), minFreeBytes: Type.Integer(), low: Type.Boolean(), checkedAt: Nullable(Type.Integer()) }),
  ),
  broker: Type.Object({ clients: Type.Integer() }),
});

export const healthRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/health', { config: { access: 'public' }, schema: { response: { 200: HealthBody, 503: HealthBody } } }, async (_req, reply) => {
    const dbOk = deps.store.ping();
    const storage = deps.storage?.state();
    const reasons = [...(dbOk ? [] : ['db_unavailable']), ...(storage?.reasons ?? [])];
    const failing = !dbOk || storage?.writesFailing === true;
    const body = {
      status: reasons.length ? ('degraded' as const) : ('ok' as const),
      reasons,
      version: deps.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      db: { ok: dbOk && !failing, ...(storage ? { writesFailing: storage.writesFailing, ...storage.store } : {}) },
      ...(storage ? { disk: storage.disk } : {}),
      broker: { clients: deps.brokerClients() },
    };
    return reply.code(failing ? 503 : 200).send(body);
  });
};
