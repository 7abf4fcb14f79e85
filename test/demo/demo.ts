/**
 * `npm start`: the whole system on one machine — hub (embedded aedes broker with mutual TLS,
 * SQLite), one field gateway, and simulated devices speaking real Modbus TCP. The Hương river at
 * Kim Long replays a flood hydrograph and rises through BĐ1 → BĐ2 → BĐ3 (peaking at BĐ3 + 0.3 m) within a few minutes.
 * The gateway enrols the way a field gateway does: a one-time token from `ioc-hub gateway token`,
 * then `ioc-edge enroll` over HTTPS with the hub CA's fingerprint pinned.
 *
 * Env: DEMO_HTTP_PORT (8080), DEMO_MQTT_PORT (8883), DEMO_SPEED (hydrograph speed-up), DEMO_DIR.
 */
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WaterLevelStationSimulator, kimLong2020Hydrograph } from '../simulators/modbus-water-level.js';
import { SmokeHeatDetectorSimulator } from '../simulators/modbus-smoke-heat.js';
import { ROOT, startEdgeProc, startHubProc, type Proc } from '../lib/procs.js';
import { writeEdgeConfig, writeHubConfig, type SiteDevice } from '../lib/sites.js';
import { hubClient } from '../lib/hub-client.js';
import { provisionPeople, type DemoLogin } from '../lib/hub-cli.js';
import { enrolGateway } from '../lib/enrol.js';

const dir = process.env.DEMO_DIR ?? join(ROOT, '.demo');
const httpPort = Number(process.env.DEMO_HTTP_PORT ?? 8080);
const mqttPort = Number(process.env.DEMO_MQTT_PORT ?? 8883);
const speed = process.env.DEMO_SPEED ? Number(process.env.DEMO_SPEED) : undefined;
const GW = 'gw-hue-01';
const LEVELS = { bd1: 1.0, bd2: 2.0, bd3: 3.5 };

// Fresh data every run so the river replays; the demo PKI is kept between runs.
rmSync(join(dir, 'hub-data', 'hub.db'), { force: true });
for (const f of ['hub.db-wal', 'hub.db-shm']) rmSync(join(dir, 'hub-data', f), { force: true });
rmSync(join(dir, 'edge-data'), { recursive: true, force: true });
mkdirSync(join(dir, 'logs'), { recursive: true });

const river = new WaterLevelStationSimulator();
await river.start({ port: 0 });
const detector = new SmokeHeatDetectorSimulator();
await detector.start({ port: 0 });

const devices: SiteDevice[] = [
  { id: 'wl-kimlong', profile: 'radar-water-level', port: river.port, pollIntervalMs: 2000, name: 'Trạm Kim Long',
    river: 'Hương', station: 'Kim Long', lat: 16.4637, lon: 107.5588, communeCode: '19816', alarmLevels: LEVELS },
  { id: 'fd-chodongba', profile: 'smoke-heat-detector', port: detector.port, pollIntervalMs: 2000,
    name: 'Đầu báo khói chợ Đông Ba', lat: 16.4722, lon: 107.5856, communeCode: '19801' },
];
// HTTPS, as the hub serves by default (the demo CA signs its certificate), and people log in.
const communes = [
  { code: '19816', name: 'Phường Kim Long', provinceCode: '46' },
  { code: '19801', name: 'Phường Đông Ba', provinceCode: '46' },
];
const site = { dir, gatewayId: GW, devices, mqttPort, httpPort, httpTls: true, openApi: false, communes };

// Demo logins, one per console; printed below. (A real hub starts with `ioc-hub user add … --role admin`.)
const LOGINS: DemoLogin[] = [
  { username: 'trucban', password: 'ioc-demo-2026', role: 'operator', areas: '*', name: 'Trực ban IOC' },
  { username: 'xa.kimlong', password: 'ioc-demo-2026', role: 'commune', areas: '19816', name: 'Cán bộ phường Kim Long' },
  { username: 'kythuat', password: 'ioc-demo-2026', role: 'technician', areas: '46', name: 'Kỹ thuật viên' },
  { username: 'quantri', password: 'ioc-demo-2026', role: 'admin', areas: '*', name: 'Quản trị tỉnh' },
];

function logTo(file: string) {
  const out = createWriteStream(join(dir, 'logs', file), { flags: 'a' });
  return (line: string) => out.write(line + '\n');
}

const procs: Proc[] = [];
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the demo…');
  for (const p of procs.reverse()) await p.stop('SIGTERM');
  await river.stop();
  await detector.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

const hubConfig = writeHubConfig(site);
const apiKey = await provisionPeople(hubConfig, LOGINS);
const hub = startHubProc(hubConfig, { onLine: logTo('hub.log'), retain: 200 });
procs.push(hub);
const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000).catch((err) => {
  console.error(`the hub did not start: ${(err as Error).message}\n(is port ${httpPort} or ${mqttPort} in use? set DEMO_HTTP_PORT / DEMO_MQTT_PORT)`);
  return shutdown(1);
});
if (!ready) process.exit(1);
// A fresh edge.yaml without certificate; the gateway gets one with a token, as in the field.
const edgeConfig = writeEdgeConfig(site);
const token = await enrolGateway({ hubConfig, httpPort: Number(ready.httpPort), gatewayId: GW, edgeConfig }).catch((err) => {
  console.error(`the gateway could not enrol: ${(err as Error).message}`);
  return shutdown(1);
});
if (!token) process.exit(1);
const edge = startEdgeProc(edgeConfig, { onLine: logTo('edge.log'), retain: 200 });
procs.push(edge);
await edge.waitFor((l) => l.msg === 'gateway started', 60_000);
const replay = river.replay(kimLong2020Hydrograph(), speed ? { speed } : {});
void Promise.resolve(replay).catch(() => undefined);

const base = `https://localhost:${ready.httpPort}`;
const caFile = join(String(ready.pkiDir), 'ca.crt');
const curl = `curl -s --cacert ${caFile} -H "Authorization: Bearer $IOC_KEY"`;
console.log(`
IOC demo is running — hub, gateway ${GW}, a river station (Kim Long, sông Hương) and a smoke/heat detector.

  API (HTTPS):    ${base}/api/v1/health   (the demo CA: ${caFile})
  demo logins:    ${LOGINS.map((l) => `${l.username} / ${l.password} (${l.role}${l.role === 'admin' ? ', enrols TOTP at first login' : ''})`).join('\n                  ')}
  API key:        export IOC_KEY=${apiKey}
  devices:        ${curl} ${base}/api/v1/devices
  alerts:         ${curl} ${base}/api/v1/alerts
  readings:       ${curl} '${base}/api/v1/readings?dev=wl-kimlong&metric=water_level&limit=20'
  gateways:       ${curl} ${base}/api/v1/gateways
  identity:       ${curl} ${base}/api/v1/gateways/${GW}/identity
  metrics:        ${curl} ${base}/metrics
  MQTT (TLS):     mqtts://localhost:${ready.mqttPort}  (mutual TLS; demo CA in ${ready.pkiDir})
  enrolment:      ${GW} enrolled with a one-time token (ioc-hub gateway token → ioc-edge enroll),
                  hub CA fingerprint ${token.caFingerprint}; its key and certificate are in ${join(dir, 'pki')}
  logs:           ${join(dir, 'logs')}

The river rises through BĐ1 ${LEVELS.bd1} m → BĐ2 ${LEVELS.bd2} m → BĐ3 ${LEVELS.bd3} m within about three minutes.
Press Ctrl+C to stop.
`);

const api = hubClient(base, { ca: readFileSync(caFile), apiKey });
const timer = setInterval(async () => {
  try {
    const [last] = (await api.readings('wl-kimlong', 'water_level', 1)).slice(-1);
    const alerts = await api.alerts('wl-kimlong');
    const open = alerts.find((a) => a.active);
    const level = typeof last?.value === 'number' ? `${last.value.toFixed(2)} m` : '—';
    const alert = open ? `${open.levelLabel?.vi ?? `Cấp ${open.level}`} (${open.levelLabel?.en ?? `level ${open.level}`}), levels so far ${open.levels.join('→')}` : 'no active alert';
    console.log(`${new Date().toLocaleTimeString('vi-VN')}  Kim Long ${level}  ${alert}`);
  } catch (err) {
    console.log(`hub not answering: ${(err as Error).message}`);
  }
}, 5000);
timer.unref();
await hub.exited;
if (!stopping) {
  console.error('the hub exited unexpectedly; see the logs in ' + join(dir, 'logs'));
  await shutdown(1);
}
