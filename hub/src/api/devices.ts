/**
 * GET /api/v1/devices       the registry, each device with its last reading per metric and its
 *                           newest unresolved alert
 * GET /api/v1/devices/:id   one device
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { DEVICE_ID_PATTERN, metricDef } from '@ioc/shared';
import type { DeviceEntry } from '../config/schema.js';
import type { DeviceScope } from '../store/types.js';
import { scopeOf } from './auth-hook.js';
import { Errors } from './auth.js';
import { DeviceSchema, LatestValueSchema } from './schemas.js';
import type { ApiDeps, ApiPluginOptions } from './types.js';

export function deviceView(deps: ApiDeps, d: DeviceEntry, scope: DeviceScope) {
  const latest: Record<string, Static<typeof LatestValueSchema>> = {};
  for (const v of deps.store.latest(d.id, scope)) {
    latest[v.metric] = { value: v.value, unit: metricDef(v.metric)?.unit ?? null, ts: v.ts, q: v.q, ...(v.reason ? { reason: v.reason } : {}), gw: v.gw, seq: v.seq };
  }
  return { ...d, latest, openAlert: deps.alerts.openAlertFor(d.id, scope) ?? null };
}

export const devicesRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get('/devices', { config: { access: 'read' }, schema: { response: { 200: Type.Object({ devices: Type.Array(DeviceSchema) }), ...Errors } } }, async (req) => {
    const scope = scopeOf(req);
    return { devices: [...deps.registry.devices.values()].filter((d) => scope.hasDevice(d.id)).map((d) => deviceView(deps, d, scope.devices)) };
  });

  app.get(
    '/devices/:id',
    {
      config: { access: 'read' },
      schema: {
        params: Type.Object({ id: Type.String({ pattern: DEVICE_ID_PATTERN }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ device: DeviceSchema }), ...Errors },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      const d = deps.registry.devices.get(req.params.id);
      // Outside the caller's areas reads exactly like an unknown id: 404, nothing to learn.
      if (!d || !scope.hasDevice(d.id)) return reply.code(404).send({ error: 'not_found', message: `device "${req.params.id}" is not in the registry` });
      return { device: deviceView(deps, d, scope.devices) };
    },
  );
};
