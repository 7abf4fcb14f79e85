/**
 * `npm start`: the whole system on one machine — hub (embedded aedes broker with mutual TLS,
 * SQLite), one field gateway, and simulated devices speaking real Modbus TCP. The Hương river at
 * Kim Long replays a flood hydrograph and rises through BĐ1 → BĐ2 → BĐ3 (peaking at BĐ3 + 0.3 m) within a few minutes.
 * The gateway enrols the way a field gateway does: a one-time token from `ioc-hub gateway token`,
 * then `ioc-edge enroll` over HTTPS with the hub CA's fingerprint pinned.
 *
 * Env: DEMO_HTTP_PORT (8080), DEMO_MQTT_PORT (8883), DEMO_SPEED (hydrograph speed-up), DEMO_DIR.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/procs.js';
import { hubClient } from '../lib/hub-client.js';
import { DEMO_GATEWAY, DEMO_LEVELS, DEMO_LOGINS, demoCa, startDemoSite, type DemoSite } from '../lib/demo-site.js';

const dir = process.env.DEMO_DIR ?? join(ROOT, '.demo');
const httpPort = Number(process.env.DEMO_HTTP_PORT ?? 8080);
const mqttPort = Number(process.env.DEMO_MQTT_PORT ?? 8883);
const speed = process.env.DEMO_SPEED ? Number(process.env.DEMO_SPEED) : undefined;
mkdirSync(join(dir, 'logs'), { recursive: true });

function logTo(file: string) {
  const out = createWriteStream(join(dir, 'logs', file), { flags: 'a' });
  return (line: string) => out.write(line + '\n');
}

let site: DemoSite | undefined;
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the demo…');
  await site?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

console.log('starting the demo: hub, gateway, a river station and a smoke detector…');
site = await startDemoSite({ dir, httpPort, mqttPort, ...(speed ? { speed } : {}), onHubLine: logTo('hub.log'), onEdgeLine: logTo('edge.log') }).catch((err) => {
  console.error(`the demo did not start: ${(err as Error).message}\n(is port ${httpPort} or ${mqttPort} in use? set DEMO_HTTP_PORT / DEMO_MQTT_PORT; logs in ${join(dir, 'logs')})`);
  process.exit(1);
});
const { base, caFile, apiKey, token } = site;
const curl = `curl -s --cacert ${caFile} -H "Authorization: Bearer $IOC_KEY"`;
const pad = (s: string) => s.padEnd(11);
console.log(`
IOC demo is running — hub, gateway ${DEMO_GATEWAY}, a river station (Kim Long, sông Hương) and a smoke/heat detector.

  CONSOLE:        ${base}/
                  (the demo's own CA signs the hub's certificate: your browser asks you to accept it once,
                   or import ${caFile})
  demo logins:    ${DEMO_LOGINS.map((l) => `${pad(l.username)} / ${l.password}  ${l.role}${l.role === 'admin' ? ' (enrols TOTP at first login)' : ''}`).join('\n                  ')}
  API key:        export IOC_KEY=${apiKey}
  devices:        ${curl} ${base}/api/v1/devices
  alerts:         ${curl} ${base}/api/v1/alerts
  readings:       ${curl} '${base}/api/v1/readings?dev=wl-kimlong&metric=water_level&limit=20'
  API document:   ${base}/api/v1/openapi.json
  metrics:        ${curl} ${base}/metrics
  MQTT (TLS):     mqtts://localhost:${site.mqttPort}  (mutual TLS; demo CA in ${site.pkiDir})
  enrolment:      ${DEMO_GATEWAY} enrolled with a one-time token (ioc-hub gateway token → ioc-edge enroll),
                  hub CA fingerprint ${token.caFingerprint}
  logs:           ${join(dir, 'logs')}

Log in as trucban: the river rises through BĐ1 ${DEMO_LEVELS.bd1} m → BĐ2 ${DEMO_LEVELS.bd2} m → BĐ3 ${DEMO_LEVELS.bd3} m within about three minutes,
with a sound at BĐ3 on the watch desk. Press Ctrl+C to stop.
`);

const api = hubClient(base, { ca: demoCa(site), apiKey });
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
await site.hub.exited;
if (!stopping) {
  console.error('the hub exited unexpectedly; see the logs in ' + join(dir, 'logs'));
  await shutdown(1);
}
