/**
 * End to end over loopback with real TLS and real processes: Modbus simulator → ioc-edge → aedes
 * (mutual TLS) → hub ingest → SQLite → alert engine → HTTP API. The river rises through BĐ1, BĐ2,
 * BĐ3; the gateway is killed and restarted mid-run. The gateway gets its certificate the way a field
 * gateway does: an enrolment token from `ioc-hub gateway token`, then `ioc-edge enroll` over HTTPS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaterLevelStationSimulator } from '../simulators/modbus-water-level.js';
import { startHubProc, startEdgeProc, getJson, requestJson, type Proc } from '../lib/procs.js';
import { writeHubConfig, writeEdgeConfig, type SiteDevice } from '../lib/sites.js';
import { hubClient } from '../lib/hub-client.js';
import { provisionPeople } from '../lib/hub-cli.js';
import { enrolGateway } from '../lib/enrol.js';
import { until } from '../lib/until.js';

const GW = 'gw-e2e-01';
const DEV = 'wl-kimlong';
const LEVELS = { bd1: 1.0, bd2: 2.0, bd3: 3.5 }; // Kim Long, Hương river (shared/data/flood-alarm-levels-vn.csv)

test('flood alert escalates BĐ1→BĐ2→BĐ3 end to end; readings match the device; gateway restart keeps seq', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-e2e-'));
  const sim = new WaterLevelStationSimulator();
  await sim.start({ port: 0 });
  sim.setLevel(0.6);
  const procs: Proc[] = [];
  t.after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const device: SiteDevice = {
    id: DEV, profile: 'radar-water-level', port: sim.port, pollIntervalMs: 200,
    name: 'Trạm Kim Long', river: 'Hương', station: 'Kim Long', alarmLevels: LEVELS,
  };
  // As deployed: HTTPS, people log in, scripts use an API key (made with ioc-hub before the hub
  // starts), and the gateway enrols with a one-time token.
  const site = { dir, gatewayId: GW, devices: [device], httpTls: true, openApi: false };
  const hubConfig = writeHubConfig(site);
  const key = await provisionPeople(hubConfig, [{ username: 'truc.ban', password: 'Nước-lên-nhanh-2020', role: 'operator', areas: '*', name: 'Trực ban' }]);
  const hub = startHubProc(hubConfig);
  procs.push(hub);
  const ready = await hub.waitFor((l) => l.msg === 'hub ready');
  const ca = readFileSync(join(String(ready.pkiDir), 'ca.crt'));
  const base = `https://localhost:${ready.httpPort}`;
  const api = hubClient(base, { ca, apiKey: key });
  assert.equal((await requestJson(`${base}/api/v1/alerts`, { ca })).status, 401, 'nothing without credentials');
  const edgeConfig = writeEdgeConfig(site);
  await enrolGateway({ hubConfig, httpPort: Number(ready.httpPort), gatewayId: GW, edgeConfig });

  let edge = startEdgeProc(edgeConfig);
  procs.push(edge);
  await edge.waitFor((l) => l.msg === 'gateway started');

  // Step the river through the alarm levels; wait at each step until the hub has seen it.
  for (const level of [0.6, 1.25, 2.4, 3.72]) {
    sim.setLevel(level);
    await until(async () => (await api.readings(DEV, 'water_level')).filter((r) => r.value === level).length >= 3, `hub to store ${level} m three times`);
  }

  // Kill the gateway hard mid-run, keep the river high, start it again: seq continues.
  await edge.kill9();
  sim.setLevel(3.75);
  edge = startEdgeProc(edgeConfig);
  procs.push(edge);
  await edge.waitFor((l) => l.msg === 'gateway started');
  await until(async () => (await api.readings(DEV, 'water_level')).some((r) => r.value === 3.75), 'hub to store 3.75 m after restart');

  // Exactly one alert episode, level history 1 → 2 → 3.
  const alerts = await api.alerts(DEV);
  assert.equal(alerts.length, 1, `one episode, got ${JSON.stringify(alerts)}`);
  const episode = alerts[0]!;
  assert.equal(episode.level, 3);
  assert.deepEqual(episode.levels, [1, 2, 3]);

  // The watch desk logs in and acknowledges it; who did it is the logged-in person.
  const login = await requestJson<{ csrfToken: string }>(`${base}/api/v1/auth/login`, { ca, body: { username: 'truc.ban', password: 'Nước-lên-nhanh-2020' } });
  assert.equal(login.status, 200);
  const setCookie = login.headers['set-cookie'] ?? [];
  assert.match(setCookie.join(), /Secure/, 'over HTTPS the session cookie is Secure');
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  const ack = await requestJson<{ alert: { acknowledgedBy: string } }>(`${base}/api/v1/alerts/${episode.id}/ack`, { ca, headers: { cookie, 'x-csrf-token': login.body.csrfToken }, body: { note: 'đã báo UBND phường Kim Long' } });
  assert.equal(ack.status, 200);
  assert.equal(ack.body.alert.acknowledgedBy, 'truc.ban');

  // Stop the gateway cleanly: everything it read is at the hub or still in its outbox (a poll
  // written just before the stop waits there for the next start; it is not sent on the way out).
  // Its last status (online: false) tells its outbox at the stop; a batch the hub stored whose ack
  // came too late for the stopping gateway is at the hub and still in that outbox (sent again at
  // the next start, and taken once).
  await edge.stop('SIGTERM');
  let lastView: unknown;
  const gw = await until(async () => {
    const g = (lastView = (await getJson<{ gateways: Array<{ id: string; online: boolean; upTo: number; status?: { outbox?: { lastSeq: number; depth: number } } }> }>(`${api.base}/api/v1/gateways`, { ca, headers: { authorization: `Bearer ${key}` } })).gateways.find((x) => x.id === GW));
    const o = g?.status?.outbox;
    return g && !g.online && o && g.upTo >= o.lastSeq - o.depth && g.upTo <= o.lastSeq ? g : undefined;
  }, 'the gateway offline, and the hub holding all it had acked').catch((err: Error) => {
    throw new Error(`${err.message}; last view of the gateway: ${JSON.stringify(lastView)}`);
  });

  // Every reading the device served appears at the hub, scaled cm → m, once, in order.
  const stored = (await api.readings(DEV, 'water_level', 100_000)).sort((a, b) => a.seq - b.seq);
  const served = sim.served.filter((s) => s.address === 0).map((s) => s.raw / 100);
  assert.ok(stored.length >= 13, `enough readings stored (${stored.length})`);
  // A poll whose reading was in flight when the gateway was killed may be lost before the outbox
  // write (the read was not "done"); everything written must be there.
  const unsent = gw.status!.outbox!.depth;
  assert.ok(served.length - stored.length <= 1 + unsent, `served ${served.length}, stored ${stored.length}, ${unsent} still in the outbox`);
  let j = 0;
  for (const r of stored) {
    while (j < served.length && Math.abs(served[j]! - (r.value as number)) > 1e-9) j++;
    assert.ok(j < served.length, `stored value ${r.value} (seq ${r.seq}) was served by the device, in order`);
    j++;
  }

  // All readings of this gateway (every metric): seq 1..N, no gap, no duplicate, across the restart.
  const all = await api.allSeqs(GW);
  assert.equal(all.length, gw.upTo);
  all.forEach((seq, i) => assert.equal(seq, i + 1, 'contiguous seq without duplicates'));
});
