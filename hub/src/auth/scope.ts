/**
 * Scope: which devices and gateways a caller may see. Areas are administrative codes: `*` (the
 * whole system), a 2-digit province code or a 5-digit commune code (GSO). Built once per caller
 * from the registry, so every check afterwards is a set lookup; store queries take the device
 * set (DeviceScope) and filter in SQL.
 */
import { ALL_AREAS } from '../config/areas.js';
import type { Registry } from '../config/registry.js';
import type { DeviceScope } from '../store/types.js';
import type { Role } from './roles.js';

export { ALL_AREAS, AREA_PATTERN } from '../config/areas.js';

export interface Scope {
  readonly areas: readonly string[];
  readonly all: boolean;
  hasDevice(id: string): boolean;
  hasGateway(id: string): boolean;
  hasArea(code: string): boolean;
  /** For store queries. */
  readonly devices: DeviceScope;
}

export const FULL_SCOPE_DEVICES: DeviceScope = { all: true };

/** Admins always see everything, whatever areas their account lists. */
export function effectiveAreas(role: Role, areas: readonly string[]): readonly string[] {
  return role === 'admin' ? [ALL_AREAS] : areas;
}

export function buildScope(registry: Registry, areas: readonly string[]): Scope {
  const all = areas.includes(ALL_AREAS);
  const codes = new Set(areas);
  const inArea = (commune: string | undefined, province: string | undefined) =>
    all || (commune !== undefined && codes.has(commune)) || (province !== undefined && codes.has(province));
  const devices = new Set<string>();
  const gateways = new Set<string>();
  // Commune → province, from the registry: a province-wide area covers its communes.
  const provinceOf = new Map<string, string>();
  for (const d of registry.devices.values()) provinceOf.set(d.communeCode, d.provinceCode);
  for (const d of registry.devices.values()) {
    if (!inArea(d.communeCode, d.provinceCode)) continue;
    devices.add(d.id);
    // A gateway is visible to whoever sees one of its devices.
    gateways.add(d.gateway);
  }
  const gatewayInArea = (commune: string | undefined) => inArea(commune, commune && provinceOf.get(commune));
  for (const g of registry.gateways.values()) {
    if (gatewayInArea(g.communeCode)) gateways.add(g.id);
  }
  return {
    areas: [...areas],
    all,
    hasDevice: (id) => all ? registry.devices.has(id) : devices.has(id),
    // Gateways enrolled after this scope was built (registry.addGateway) are seen by their commune.
    hasGateway: (id) => all ? registry.gateways.has(id) : gateways.has(id) || gatewayInArea(registry.gateways.get(id)?.communeCode),
    hasArea: (code) => all || codes.has(code) || codes.has(provinceOf.get(code) ?? ''),
    devices: all ? FULL_SCOPE_DEVICES : { all: false, ids: devices, gateways },
  };
}
