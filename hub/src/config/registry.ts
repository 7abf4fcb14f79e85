/** The registry of gateways and devices from hub.yaml, indexed for the hot path. */
import type { CommuneEntry, DeviceEntry, GatewayEntry, ResolvedHubConfig } from './schema.js';

export interface Registry {
  readonly gateways: ReadonlyMap<string, GatewayEntry>;
  readonly devices: ReadonlyMap<string, DeviceEntry>;
  /** Commune names by code (optional in hub.yaml: messages fall back to the code). */
  readonly communes: ReadonlyMap<string, CommuneEntry>;
  devicesOf(gw: string): DeviceEntry[];
  /**
   * A gateway enrolled with a token (hub/src/enrol) joins the registry with its id and commune;
   * its devices still come from hub.yaml (until then its readings are quarantined, acknowledged).
   * A gateway already listed in hub.yaml keeps its entry.
   */
  addGateway(g: GatewayEntry): void;
}

export function buildRegistry(registry: Omit<ResolvedHubConfig['registry'], 'communes'> & Partial<Pick<ResolvedHubConfig['registry'], 'communes'>>): Registry {
  const gateways = new Map(registry.gateways.map((g) => [g.id, g]));
  const devices = new Map(registry.devices.map((d) => [d.id, d]));
  return {
    gateways,
    devices,
    communes: new Map((registry.communes ?? []).map((c) => [c.code, c])),
    devicesOf: (gw) => registry.devices.filter((d) => d.gateway === gw),
    addGateway: (g) => {
      if (!gateways.has(g.id)) gateways.set(g.id, g);
    },
  };
}
