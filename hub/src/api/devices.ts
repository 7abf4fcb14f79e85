/**
 * GET /api/v1/devices       the registry, each device with its last reading per metric and its
 *                           newest unresolved alert
 * GET /api/v1/devices/:id   one device
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { metricDef } from '@ioc/shared';
import type { DeviceEntry } from '../config/schema.js';
import { DEVICE_ID_PATTERN } from '../config/schema.js';
import type { ApiDeps, ApiPluginOptions } from './types.js';

export function deviceView(deps: ApiDeps, d: DeviceEntry) {
  const latest: Record<string, unknown> = {};
  for (const v of deps.store.latest(d.id)) {
    latest[v.metric] = { value: v.value, unit: metricDef(v.metric)?.unit ?? null, ts: v.ts, q: v.q, ...(v.reason ? { reason: v.reason } : {}), gw: v.gw, seq: v.seq };
  }
  return { ...d, latest, openAlert: deps.alerts.openAlertFor(d.id) ?? null };
}

export const devicesRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/devices', async () => ({ devices: [...deps.registry.devices.values()].map((d) => deviceView(deps, d)) }));

  app.get(
    '/devices/:id',
    { schema: { params: Type.Object({ id: Type.String({ pattern: DEVICE_ID_PATTERN }) }, { additionalProperties: false }) } },
    async (req, reply) => {
      const d = deps.registry.devices.get(req.params.id);
      if (!d) return reply.code(404).send({ error: 'not_found', message: `device "${req.params.id}" is not in the registry` });
      return { device: deviceView(deps, d) };
    },
  );
};
