/**
 * The demo site, whole: the hub, one field gateway enrolled with a one-time token, a river station
 * (Kim Long, sông Hương) replaying a flood and a smoke/heat detector over real Modbus TCP, and one
 * login per console. `npm start` runs it; the browser tests run the same site on free ports.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WaterLevelStationSimulator, kimLong2020Hydrograph, type HydrographPoint } from '../simulators/modbus-water-level.js';
import { SmokeHeatDetectorSimulator } from '../simulators/modbus-smoke-heat.js';
import { startEdgeProc, startHubProc, type Proc } from './procs.js';
import { writeEdgeConfig, writeHubConfig, type SiteDevice } from './sites.js';
import { provisionPeople, type DemoLogin } from './hub-cli.js';
import { enrolGateway, type TokenInfo } from './enrol.js';

export const DEMO_GATEWAY = 'gw-hue-01';
export const DEMO_LEVELS = { bd1: 1.0, bd2: 2.0, bd3: 3.5 };
export const DEMO_PASSWORD = 'ioc-demo-2026';

/** One login per console. (A real hub starts with `ioc-hub user add … --role admin`.) */
export const DEMO_LOGINS: readonly DemoLogin[] = [
  { username: 'trucban', password: DEMO_PASSWORD, role: 'operator', areas: '*', name: 'Trực ban IOC' },
  { username: 'xa.kimlong', password: DEMO_PASSWORD, role: 'commune', areas: '19816', name: 'Cán bộ phường Kim Long' },
  { username: 'kythuat', password: DEMO_PASSWORD, role: 'technician', areas: '46', name: 'Kỹ thuật viên' },
  { username: 'quantri', password: DEMO_PASSWORD, role: 'admin', areas: '*', name: 'Quản trị tỉnh' },
];

export const DEMO_COMMUNES = [
  { code: '19816', name: 'Phường Kim Long', provinceCode: '46', lat: 16.4617, lon: 107.5536 },
  { code: '19801', name: 'Phường Đông Ba', provinceCode: '46', lat: 16.4751, lon: 107.5838 },
];

export interface DemoSiteOptions {
  dir: string;
  /** 0: a free port. */
  httpPort: number;
  mqttPort: number;
  /** Hydrograph speed-up (1: the demo's own pace). */
  speed?: number;
  /** The river's course; default the Kim Long flood of 12 Nov 2020, scaled to the demo's levels. */
  hydrograph?: HydrographPoint[];
  /** Don't start the river until asked (tests that log in first). */
  holdRiver?: boolean;
  pollIntervalMs?: number;
  /** Copies of the hub's and gateway's log lines. */
  onHubLine?: (line: string) => void;
  onEdgeLine?: (line: string) => void;
  /** Extra hub.yaml sections. */
  hubExtra?: Record<string, unknown>;
  /** Extra keys of hub.yaml's http section (e.g. console: {tiles}), kept beside its port and TLS. */
  httpExtra?: Record<string, unknown>;
}

export interface DemoSite {
  base: string;
  httpPort: number;
  mqttPort: number;
  caFile: string;
  pkiDir: string;
  apiKey: string;
  hubConfig: string;
  edgeConfig: string;
  token: TokenInfo;
  hub: Proc;
  edge: Proc;
  river: WaterLevelStationSimulator;
  detector: SmokeHeatDetectorSimulator;
  /** Starts (or restarts) the river's replay. */
  startRiver(speed?: number): void;
  stop(): Promise<void>;
}

export async function startDemoSite(o: DemoSiteOptions): Promise<DemoSite> {
  // Fresh data every run so the river replays; the demo PKI is kept between runs.
  rmSync(join(o.dir, 'hub-data', 'hub.db'), { force: true });
  for (const f of ['hub.db-wal', 'hub.db-shm']) rmSync(join(o.dir, 'hub-data', f), { force: true });
  rmSync(join(o.dir, 'edge-data'), { recursive: true, force: true });
  mkdirSync(join(o.dir, 'logs'), { recursive: true });

  const river = new WaterLevelStationSimulator();
  await river.start({ port: 0 });
  const detector = new SmokeHeatDetectorSimulator();
  await detector.start({ port: 0 });
  const poll = o.pollIntervalMs ?? 2000;
  const devices: SiteDevice[] = [
    { id: 'wl-kimlong', profile: 'radar-water-level', port: river.port, pollIntervalMs: poll, name: 'Trạm Kim Long',
      river: 'Hương', station: 'Kim Long', lat: 16.4637, lon: 107.5588, communeCode: '19816', alarmLevels: DEMO_LEVELS,
      // The 1999 flood peak at Kim Long; the zone (khu vực, QĐ 18/2021/QĐ-TTg) is illustrative: a
      // province sets each station's zone from the decision.
      registry: { zone: 2, historicPeakM: 5.94 } },
    { id: 'fd-chodongba', profile: 'smoke-heat-detector', port: detector.port, pollIntervalMs: poll,
      name: 'Đầu báo khói chợ Đông Ba', lat: 16.4722, lon: 107.5856, communeCode: '19801' },
  ];
  // HTTPS, as the hub serves by default (the demo CA signs its certificate), and people log in.
  const site = { dir: o.dir, gatewayId: DEMO_GATEWAY, devices, mqttPort: o.mqttPort, httpPort: o.httpPort, httpTls: true, openApi: false, communes: DEMO_COMMUNES, ...(o.hubExtra ? { hubExtra: o.hubExtra } : {}), ...(o.httpExtra ? { httpExtra: o.httpExtra } : {}) };
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop('SIGTERM');
    await river.stop();
    await detector.stop();
  };
  try {
    const hubConfig = writeHubConfig(site);
    const apiKey = await provisionPeople(hubConfig, DEMO_LOGINS);
    const hub = startHubProc(hubConfig, { ...(o.onHubLine ? { onLine: o.onHubLine } : {}), retain: 200 });
    procs.push(hub);
    const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
    const httpPort = Number(ready.httpPort);
    // A fresh edge.yaml without certificate; the gateway gets one with a token, as in the field.
    const edgeConfig = writeEdgeConfig({ ...site, mqttPort: Number(ready.mqttPort) });
    const token = await enrolGateway({ hubConfig, httpPort, gatewayId: DEMO_GATEWAY, edgeConfig });
    const edge = startEdgeProc(edgeConfig, { ...(o.onEdgeLine ? { onLine: o.onEdgeLine } : {}), retain: 200 });
    procs.push(edge);
    await edge.waitFor((l) => l.msg === 'gateway started', 60_000);
    const hydrograph = o.hydrograph ?? kimLong2020Hydrograph();
    const startRiver = (speed = o.speed) => {
      void Promise.resolve(river.replay(hydrograph, speed ? { speed } : {})).catch(() => undefined);
    };
    if (!o.holdRiver) startRiver();
    const pkiDir = String(ready.pkiDir);
    return {
      base: `https://localhost:${httpPort}`, httpPort, mqttPort: Number(ready.mqttPort), caFile: join(pkiDir, 'ca.crt'), pkiDir,
      apiKey, hubConfig, edgeConfig, token, hub, edge, river, detector, startRiver, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function demoCa(site: DemoSite): Buffer {
  return readFileSync(site.caFile);
}
