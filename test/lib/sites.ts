/** Writes hub.yaml and edge.yaml for a test or the demo: one hub, one gateway, given devices. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from './procs.js';

export interface SiteDevice {
  id: string;
  profile: string;
  port: number;
  unitId?: number;
  pollIntervalMs?: number;
  /** Modbus connect/response timeout (edge.yaml connection.timeoutMs; default 1000). */
  timeoutMs?: number;
  /** Hub registry fields. */
  name: string;
  communeCode?: string;
  provinceCode?: string;
  lat?: number;
  lon?: number;
  river?: string;
  station?: string;
  alarmLevels?: { bd1: number; bd2: number; bd3: number };
  /** Its gateway in the hub registry (default: the site's gatewayId; a registry gateway of its own otherwise). */
  gateway?: string;
  /** More hub registry fields (e.g. intervalS, staleAfterS). */
  registry?: Record<string, unknown>;
}

export interface SiteOptions {
  dir: string;
  gatewayId: string;
  devices: SiteDevice[];
  mqttPort?: number;
  httpPort?: number;
  logLevel?: string;
  /** false: people log in and scripts use an API key (the demo, e2e); default true: the API answers without login (chaos tests). */
  openApi?: boolean;
  /** HTTPS for the API with the hub's own PKI (the hub's default); false (the default here): plain HTTP on loopback. */
  httpTls?: boolean;
  /** Extra top-level hub.yaml sections (e.g. enrolment), merged over the defaults. */
  hubExtra?: Record<string, unknown>;
  /** Extra keys of the http section (e.g. console: {tiles}), merged over host, port and tls. */
  httpExtra?: Record<string, unknown>;
  /** Commune names for the registry (alert messages, CAP areaDesc). */
  communes?: Array<{ code: string; name: string; provinceCode?: string; lat?: number; lon?: number }>;
}

export function writeHubConfig(o: SiteOptions): string {
  mkdirSync(o.dir, { recursive: true });
  const cfg = {
    hub: { dataDir: './hub-data' },
    mqtt: { host: '127.0.0.1', port: o.mqttPort ?? 0 },
    http: { host: '127.0.0.1', port: o.httpPort ?? 0, ...(o.httpTls ? {} : { tls: false }), ...o.httpExtra },
    auth: { open: o.openApi ?? true },
    registry: {
      gateways: [...new Set([o.gatewayId, ...o.devices.map((d) => d.gateway ?? o.gatewayId)])].map((id) => ({ id, name: `Gateway ${id}`, communeCode: '19816' })),
      devices: o.devices.map((d) => ({
        id: d.id,
        gateway: d.gateway ?? o.gatewayId,
        profile: d.profile,
        name: d.name,
        communeCode: d.communeCode ?? '19816',
        provinceCode: d.provinceCode ?? '46',
        lat: d.lat ?? 16.4637,
        lon: d.lon ?? 107.5588,
        ...(d.river ? { river: d.river } : {}),
        ...(d.station ? { station: d.station } : {}),
        ...(d.alarmLevels ? { alarmLevels: d.alarmLevels } : {}),
        ...d.registry,
      })),
      ...(o.communes ? { communes: o.communes } : {}),
    },
    log: { level: o.logLevel ?? 'info' },
    ...o.hubExtra,
  };
  const file = join(o.dir, 'hub.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

export interface EdgeExtras {
  /** Merged over the uplink section (e.g. `url` pointing at a proxy, keepaliveS, backoff). */
  uplink?: Record<string, unknown>;
  outbox?: Record<string, unknown>;
  /** File name in `dir` (default edge.yaml), e.g. a second config for the same gateway and outbox. */
  file?: string;
}

/**
 * `pkiDir` is the hub's demo PKI (the hub prints it in its ready line): the gateway uses the
 * client certificate made there. Without it the uplink section has only `extras.uplink`: the file
 * of a fresh gateway, which `ioc-edge enroll` completes.
 */
export function writeEdgeConfig(o: SiteOptions & { mqttPort?: number; pkiDir?: string }, extras: EdgeExtras = {}): string {
  mkdirSync(o.dir, { recursive: true });
  const uplink = o.pkiDir
    ? {
        url: `mqtts://localhost:${o.mqttPort}`,
        ca: join(o.pkiDir, 'ca.crt'),
        cert: join(o.pkiDir, 'clients', `${o.gatewayId}.crt`),
        key: join(o.pkiDir, 'clients', `${o.gatewayId}.key`),
        ...extras.uplink,
      }
    : extras.uplink;
  const cfg = {
    gateway: { id: o.gatewayId, dataDir: './edge-data' },
    ...(uplink ? { uplink } : {}),
    ...(extras.outbox ? { outbox: extras.outbox } : {}),
    profilesDir: join(ROOT, 'firmware-configs/profiles'),
    devices: o.devices.map((d) => ({
      id: d.id,
      profile: d.profile,
      driver: 'modbus',
      connection: { host: '127.0.0.1', port: d.port, unitId: d.unitId ?? 1, timeoutMs: d.timeoutMs ?? 1000 },
      ...(d.pollIntervalMs ? { pollIntervalMs: d.pollIntervalMs } : {}),
    })),
    log: { level: o.logLevel ?? 'info' },
  };
  const file = join(o.dir, extras.file ?? 'edge.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}
