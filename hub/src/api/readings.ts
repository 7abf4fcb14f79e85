/**
 * GET /api/v1/readings?dev=&metric=&from=&to=&step=&limit=&order=
 *
 * Without `step`: raw readings (with gw and seq), oldest first. Without `from`, the newest `limit`
 * readings up to `to` (still oldest first); with `from`, the first `limit` from there (paging).
 * With `step` (ms): buckets aligned to multiples of step since the epoch, each with avg/min/max/
 * count over the readings of quality good or uncertain that have a value; without `from`, the
 * last `limit` bucket widths up to `to` (buckets without readings are left out).
 * `from` and `to` are epoch ms, inclusive; `to` defaults to now (+10 min for raw rows).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEVICE_ID_PATTERN, METRIC_NAME_PATTERN, metricDef } from '@ioc/shared';
import { scopeOf } from './auth-hook.js';
import { Errors } from './auth.js';
import { BucketSchema, ReadingRowSchema } from './schemas.js';
import type { ApiPluginOptions } from './types.js';

export const MAX_READINGS_LIMIT = 100_000;

const ReadingsQuery = Type.Object(
  {
    dev: Type.String({ pattern: DEVICE_ID_PATTERN }),
    metric: Type.String({ pattern: METRIC_NAME_PATTERN }),
    /** Epoch ms, inclusive. */
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    to: Type.Optional(Type.Integer({ minimum: 0 })),
    step: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86_400_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_READINGS_LIMIT })),
  },
  { additionalProperties: false },
);

/** Raw rows (without `step`) or buckets (with it). */
const ReadingsBody = Type.Object({
  dev: Type.String(),
  metric: Type.String(),
  unit: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  step: Type.Optional(Type.Integer()),
  readings: Type.Optional(Type.Array(ReadingRowSchema)),
  buckets: Type.Optional(Type.Array(BucketSchema)),
});

export const readingsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/readings', { config: { access: 'read' }, schema: { querystring: ReadingsQuery, response: { 200: ReadingsBody, ...Errors } } }, async (req, reply) => {
    const q = req.query;
    const scope = scopeOf(req);
    const def = metricDef(q.metric);
    if (!def) return reply.code(400).send({ error: 'bad_request', message: `metric: unknown metric "${q.metric}" (not in the catalog)` });
    if (!deps.registry.devices.has(q.dev) || !scope.hasDevice(q.dev)) {
      return reply.code(404).send({ error: 'not_found', message: `device "${q.dev}" is not in the registry` });
    }
    // Raw rows: up to 10 minutes ahead by default, so a gateway clock slightly fast is still seen.
    const now = (deps.now ?? Date.now)();
    const to = q.to ?? (q.step === undefined ? now + 10 * 60_000 : now);
    const limit = q.limit ?? 1000;
    // No `from`: the newest `limit` rows (or buckets), returned oldest first.
    const newest = q.from === undefined;
    let from = q.from ?? 0;
    if (from > to) return reply.code(400).send({ error: 'bad_request', message: `from (${from}) must not be after to (${to})` });
    if (q.step !== undefined) {
      if (newest) from = Math.max(0, (Math.floor(to / q.step) - (limit - 1)) * q.step);
      const res = deps.store.queryReadings({ dev: q.dev, metric: q.metric, from, to, step: q.step, limit }, scope.devices);
      return { dev: q.dev, metric: q.metric, unit: def.unit, from, to, step: q.step, buckets: res.kind === 'buckets' ? res.buckets : [] };
    }
    const res = deps.store.queryReadings({ dev: q.dev, metric: q.metric, from, to, limit, order: newest ? 'desc' : 'asc' }, scope.devices);
    const rows = res.kind === 'raw' ? res.rows : [];
    if (newest) rows.reverse();
    return { dev: q.dev, metric: q.metric, unit: def.unit, from, to, readings: rows };
  });
};
