/**
 * What one stream client may see and asked to see: the caller's scope (../auth/scope.ts) narrowed
 * by the query's areas, devices and kinds. Readings, alerts and device events are judged by their
 * device; gateway status and a gateway's own events (dev = the gateway's id) by the gateway.
 */
import { buildScope, type Scope } from '../auth/scope.js';
import type { Registry } from '../config/registry.js';
import type { LiveKind } from '../live.js';
import type { AlertTarget } from './from-alert.js';

export interface StreamQuery {
  /** Commune or province codes (none: the whole scope). */
  areas: readonly string[];
  /** Device ids (none: every device in scope). */
  devices: readonly string[];
  /** Kinds wanted (none: all). */
  kinds: readonly LiveKind[];
}

export interface StreamFilter {
  wants(kind: LiveKind): boolean;
  device(id: string): boolean;
  gateway(id: string): boolean;
  /** A device event: of a known device, of the gateway itself, or of a device the registry does not know. */
  event(gw: string, dev: string): boolean;
  alert(t: AlertTarget): boolean;
}

export function streamFilter(registry: Registry, scope: Scope, q: StreamQuery): StreamFilter {
  const area = q.areas.length ? buildScope(registry, q.areas) : null;
  const devs = q.devices.length ? new Set(q.devices) : null;
  const kinds = q.kinds.length ? new Set(q.kinds) : null;
  // Narrowed by a query of areas or devices: only what those name.
  const narrowed = area !== null || devs !== null;
  const device = (id: string) => scope.hasDevice(id) && (!area || area.hasDevice(id)) && (!devs || devs.has(id));
  const gateway = (id: string) =>
    scope.hasGateway(id) && (!area || area.hasGateway(id)) && (!devs || registry.devicesOf(id).some((d) => devs.has(d.id)));
  // A gateway's own events and alerts: not part of a device filter.
  const gatewayItself = (id: string) => !devs && gateway(id);
  return {
    wants: (kind) => !kinds || kinds.has(kind),
    device,
    gateway,
    event: (gw, dev) => (registry.devices.has(dev) ? device(dev) : dev === gw ? gatewayItself(gw) : scope.all && !narrowed),
    alert: (t) => {
      if (t.id !== null && registry.devices.has(t.id)) return device(t.id);
      if (t.id !== null && registry.gateways.has(t.id)) return gatewayItself(t.id);
      const code = t.communeCode ?? t.provinceCode;
      if (code === null) return scope.all && !narrowed;
      return !devs && scope.hasArea(code) && (!area || area.hasArea(code));
    },
  };
}
