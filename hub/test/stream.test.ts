/**
 * The WebSocket stream (/api/v1/stream) with real `ws` clients against a listening API: refused
 * without credentials, scoped to the caller, filtered, resumable, and a client that falls behind
 * or stops answering pings is closed. The last test runs it in a whole hub, from an MQTT publish.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import WebSocket from 'ws';
import type { DeviceEvent, Reading } from '@ioc/shared';
import type { AlertChange } from '../src/alerts/types.js';
import { buildApi } from '../src/api/server.js';
import type { StreamOptions } from '../src/stream/options.js';
import type { ApiInstance } from '../src/api/types.js';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import { SqlitePeopleStore } from '../src/auth/people-store.js';
import { AuthService } from '../src/auth/service.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry, type Registry } from '../src/config/registry.js';
import { openHubDatabase, type HubDatabase } from '../src/db/database.js';
import { startHub } from '../src/hub.js';
import { LiveFeed } from '../src/live.js';
import { createHubMetrics, type HubMetrics } from '../src/metrics.js';
import { keyringFromKey } from '../src/secrets/keyring.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import type { StoredReading } from '../src/store/types.js';
import { StreamMessage } from '../src/stream/messages.js';
import { DETECTOR, GW, GW2, KIM_LONG, alertStack, batch, ruleSetOf, connectGateway, metricValue, silentLogger, tempDir, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

const T0 = 1_700_000_000_000;
const PW = 'correct horse battery';
let db: HubDatabase;
let store: SqliteStore;
let auth: AuthService;
let registry: Registry;
let stack: ReturnType<typeof alertStack>;
let cleanup: () => void;
/** API keys by who holds them: op (operator, everything), xa (commune 19816: Kim Long), kt (technician, 19801). */
const keys: Record<string, string> = {};

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  registry = buildRegistry(resolveHubConfig(testConfig(t.dir), t.dir).registry);
  db = openHubDatabase(join(t.dir, 'hub.db'));
  store = openSqliteStore({ db });
  const keyring = keyringFromKey(Buffer.alloc(32, 1));
  const audit = new SqliteAuditLog(db, keyring.subkey('audit-chain'));
  auth = new AuthService({ people: new SqlitePeopleStore(db), audit, keyring, registry });
  stack = alertStack(store, registry);
  for (const [name, role, areas] of [['op', 'operator', ['*']], ['xa', 'commune', ['19816']], ['kt', 'technician', ['19801']]] as const) {
    keys[name] = auth.createApiKey({ name, role, areas: [...areas] }, 'cli:test').key;
  }
  await auth.addUser({ username: 'xa', role: 'commune', areas: ['19816'], password: PW }, 'cli:test');
});

after(() => {
  store?.close();
  db?.close();
  cleanup();
});

interface Api {
  app: ApiInstance;
  feed: LiveFeed;
  metrics: HubMetrics;
  url: string;
}

/** A listening API over its own live feed (history bounds and stream options as given). */
async function api(t: { after(fn: () => Promise<void> | void): void }, o: { history?: { maxItems?: number; maxAgeMs?: number }; stream?: Partial<StreamOptions> } = {}): Promise<Api> {
  const feed = new LiveFeed(silentLogger(), { ...(o.history ? { history: o.history } : {}), startId: 1000 });
  const metrics = createHubMetrics();
  const app = buildApi({
    store, registry, alerts: stack.views, alertActions: stack.actions, rules: ruleSetOf(store, registry), metrics, logger: silentLogger(), version: 't', startedAt: T0, brokerClients: () => 0,
    audit: new SqliteAuditLog(db, Buffer.alloc(32, 2)), auth, live: feed, ...(o.stream ? { stream: o.stream } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return { app, feed, metrics, url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/stream` };
}

interface Conn {
  ws: WebSocket;
  messages: any[];
  /** The next message not taken yet. */
  next(what?: string): Promise<any>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a stream (resolves once open), or rejects with the HTTP status that refused the upgrade. */
function connect(url: string, o: { key?: string; query?: string; headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<Conn> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  const ws = new WebSocket(`${url}${o.query ? `?${o.query}` : ''}`, { headers, autoPong: o.autoPong ?? true });
  const messages: any[] = [];
  let taken = 0;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    assert.ok(Value.Check(StreamMessage, m), `message matches the published schema: ${String(data).slice(0, 300)}`);
    messages.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws, messages, closed,
        next: async (what = 'a message') => {
          await until(() => messages.length > taken, what);
          return messages[taken++];
        },
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

async function refused(p: Promise<Conn>): Promise<number> {
  try {
    const c = await p;
    c.ws.close();
  } catch (err) {
    return (err as { status: number }).status;
  }
  assert.fail('the upgrade was accepted');
}

let seq = 0;
const stored = (readings: Reading[], gw = GW): StoredReading[] => readings.map((r) => ({ ...r, gw, seq: ++seq }));
const readings = (feed: LiveFeed, rs: Reading[], gw = GW) => feed.publish('readings', { gw, readings: stored(rs, gw) });
const smoke = (value: boolean): Reading => ({ dev: DETECTOR, metric: 'smoke', value, unit: '', ts: T0, q: 'good' });
const deviceEvent = (dev: string, event = 'tamper'): DeviceEvent => ({ v: 1, kind: 'device', ts: T0, dev, event });
const status = (feed: LiveFeed, gw: string) => feed.publish('status', { gw, online: true, lastSeen: T0, status: null, statusAt: null });
function alertChange(dev: string, level: number): AlertChange {
  const d = registry.devices.get(dev)!;
  const alert = {
    id: level, dev, metric: 'water_level', rule: 'flood-level', level, maxLevel: level, state: 'open', active: true, openedAt: T0, updatedAt: T0, clearedAt: null,
    acknowledgedBy: null, acknowledgedAt: null, resolvedBy: null, resolvedAt: null, note: null, lastValue: 3.6,
    message: { vi: 'Báo động', en: 'Alarm' }, device: { name: d.name, communeCode: d.communeCode, provinceCode: d.provinceCode, lat: d.lat, lon: d.lon },
    history: [], severity: 'severe',
  };
  return { alert, event: { ts: T0, kind: 'raised', level, value: 3.6, by: null, note: null }, message: alert.message } as unknown as AlertChange;
}

test('no credentials, a forged key or a page of another origin: refused before the upgrade', async (t) => {
  const { url } = await api(t);
  assert.equal(await refused(connect(url)), 401);
  assert.equal(await refused(connect(url, { key: 'ioc_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })), 401);
  const { sessionToken } = await auth.login({ username: 'xa', password: PW, ip: '127.0.0.1' });
  const cookie = `ioc_session=${sessionToken}`;
  assert.equal(await refused(connect(url, { headers: { cookie, origin: 'https://evil.example' } })), 403);
  assert.equal(await refused(connect(url, { key: keys.op!, headers: { origin: 'https://evil.example' } })), 403);
  // The console's own page (same host) may.
  const host = new URL(url).host;
  const c = await connect(url, { headers: { cookie, origin: `http://${host}` } });
  assert.equal((await c.next()).type, 'hello');
  c.ws.close();
});

test('scope: a commune user gets nothing of another commune; the operator gets everything', async (t) => {
  const { feed, url } = await api(t);
  const xa = await connect(url, { key: keys.xa! });
  const kt = await connect(url, { key: keys.kt! });
  const op = await connect(url, { key: keys.op! });
  for (const c of [xa, kt, op]) assert.deepEqual(await c.next(), { id: 1000, type: 'hello', resumed: false });

  readings(feed, [wl(0.4, T0, 'good', 'wl-other')], GW2); // 1001: commune 19801
  readings(feed, [wl(1.2, T0), smoke(false)]); // 1002: Kim Long (19816) and the detector (19801), one batch
  feed.publish('alert', alertChange(KIM_LONG, 3)); // 1003
  feed.publish('alert', alertChange('wl-other', 1)); // 1004
  status(feed, GW2); // 1005: GW2 carries only wl-other
  status(feed, GW); // 1006
  feed.publish('event', { gw: GW, event: deviceEvent(DETECTOR) }); // 1007
  feed.publish('event', { gw: GW, event: deviceEvent(GW, 'outbox_write_failed') }); // 1008: the gateway's own
  feed.publish('event', { gw: GW2, event: deviceEvent('unknown-dev') }); // 1009: not in the registry
  readings(feed, [wl(1.3, T0 + 1000)]); // 1010: the marker everyone in scope of Kim Long waits for

  await until(() => xa.messages.at(-1)?.id === 1010, 'xa to get the marker');
  const got = (c: Conn) => c.messages.slice(1).map((m) => `${m.id}:${m.type}`);
  assert.deepEqual(got(xa), ['1002:readings', '1003:alert', '1006:status', '1008:event', '1010:readings']);
  assert.deepEqual(xa.messages[1].readings.map((r: any) => r.dev), [KIM_LONG], 'only its device of the mixed batch');
  await until(() => op.messages.at(-1)?.id === 1010, 'op to get the marker');
  assert.deepEqual(got(op).map((s) => Number(s.split(':')[0])), [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
  assert.equal(op.messages[2].readings.length, 2, 'the whole batch');
  assert.equal(op.messages[3].alert.severity, 'severe', 'fields the stream does not know pass through');
  // The technician of 19801 sees wl-other, the detector and both gateways (each carries a device of 19801), never Kim Long.
  readings(feed, [smoke(true)]); // 1011
  await until(() => kt.messages.at(-1)?.id === 1011, 'kt to get the detector');
  assert.deepEqual(got(kt), ['1001:readings', '1002:readings', '1004:alert', '1005:status', '1006:status', '1007:event', '1008:event', '1011:readings']);
  assert.deepEqual(kt.messages[2].readings.map((r: any) => r.dev), [DETECTOR]);
  for (const c of [xa, kt, op]) c.ws.close();
});

test('filters: kind, dev and area narrow the scope; a device or area outside it is a 404, a bad filter a 400', async (t) => {
  const { feed, url } = await api(t);
  const alerts = await connect(url, { key: keys.op!, query: 'kind=alert,status' });
  const dev = await connect(url, { key: keys.op!, query: `dev=${DETECTOR}&dev=wl-other&kind=readings&kind=event` });
  const area = await connect(url, { key: keys.op!, query: 'area=19816' });
  const province = await connect(url, { key: keys.kt!, query: 'area=19801' });
  for (const c of [alerts, dev, area, province]) assert.equal((await c.next()).type, 'hello');

  readings(feed, [wl(1.2, T0), smoke(false)]); // 1001
  feed.publish('alert', alertChange(KIM_LONG, 2)); // 1002
  status(feed, GW2); // 1003
  feed.publish('event', { gw: GW, event: deviceEvent(DETECTOR) }); // 1004
  feed.publish('event', { gw: GW, event: deviceEvent(GW, 'outbox_over_cap') }); // 1005
  readings(feed, [wl(0.5, T0, 'good', 'wl-other')], GW2); // 1006
  const end = feed.publish('alert', alertChange('wl-other', 1)); // 1007: every connection but `area` and `dev` sees it

  const got = async (c: Conn, last: number) => {
    await until(() => c.messages.at(-1)?.id === last, `message ${last}`);
    return c.messages.slice(1).map((m) => `${m.id}:${m.type}`);
  };
  assert.deepEqual(await got(alerts, end), ['1002:alert', '1003:status', '1007:alert']);
  assert.deepEqual(await got(dev, 1006), ['1001:readings', '1004:event', '1006:readings']);
  assert.deepEqual(dev.messages[1].readings.map((r: any) => r.dev), [DETECTOR]);
  assert.deepEqual(await got(area, 1005), ['1001:readings', '1002:alert', '1005:event']);
  assert.deepEqual(area.messages[1].readings.map((r: any) => r.dev), [KIM_LONG]);
  assert.deepEqual(await got(province, end), ['1001:readings', '1003:status', '1004:event', '1005:event', '1006:readings', '1007:alert']);
  for (const c of [alerts, dev, area, province]) c.ws.close();

  assert.equal(await refused(connect(url, { key: keys.xa!, query: 'dev=wl-other' })), 404);
  assert.equal(await refused(connect(url, { key: keys.xa!, query: 'dev=no-such-device' })), 404);
  assert.equal(await refused(connect(url, { key: keys.xa!, query: 'area=19801' })), 404);
  assert.equal(await refused(connect(url, { key: keys.xa!, query: 'area=46' })), 404, 'a commune user does not get its province');
  assert.equal(await refused(connect(url, { key: keys.op!, query: 'kind=readings,gossip' })), 400);
  assert.equal(await refused(connect(url, { key: keys.op!, query: 'since=-1' })), 400);
  assert.equal(await refused(connect(url, { key: keys.op!, query: 'colour=red' })), 400);
});

test('resume: a client that reconnects with since= gets exactly what it missed (as filtered), then live', async (t) => {
  const { feed, url } = await api(t);
  const first = await connect(url, { key: keys.xa! });
  await first.next('hello');
  readings(feed, [wl(1.0, T0)]); // 1001
  const seen = (await first.next()).id;
  assert.equal(seen, 1001);
  first.ws.close();
  await first.closed;

  // While it is away: some for it, some not.
  readings(feed, [wl(1.1, T0 + 1000)]); // 1002
  readings(feed, [wl(0.4, T0, 'good', 'wl-other')], GW2); // 1003: another commune
  feed.publish('alert', alertChange(KIM_LONG, 1)); // 1004
  status(feed, GW); // 1005

  const again = await connect(url, { key: keys.xa!, query: `since=${seen}` });
  assert.deepEqual(await again.next(), { id: seen, type: 'hello', resumed: true });
  readings(feed, [wl(1.2, T0 + 2000)]); // 1006: live
  await until(() => again.messages.at(-1)?.id === 1006, 'the live message');
  assert.deepEqual(again.messages.slice(1).map((m) => m.id), [1002, 1004, 1005, 1006]);
  assert.deepEqual(again.messages.slice(1).map((m) => m.type), ['readings', 'alert', 'status', 'readings']);

  // Resuming from the newest id: nothing missed, nothing repeated.
  const current = await connect(url, { key: keys.xa!, query: 'since=1006' });
  assert.deepEqual(await current.next(), { id: 1006, type: 'hello', resumed: true });
  readings(feed, [wl(1.3, T0 + 3000)]); // 1007
  assert.equal((await current.next()).id, 1007);
  for (const c of [again, current]) c.ws.close();
});

test('resume from further back than the hub keeps, or from another run: a reset first, then live', async (t) => {
  const { feed, url } = await api(t, { history: { maxItems: 3 } });
  for (let i = 0; i < 6; i++) readings(feed, [wl(1 + i / 10, T0 + i * 1000)]); // 1001..1006; 1004..1006 kept
  assert.equal(feed.history.oldestId(), 1004);

  const old = await connect(url, { key: keys.xa!, query: 'since=1001' });
  const reset = await old.next();
  assert.equal(reset.type, 'reset');
  assert.equal(reset.id, 1006, 'reload through the REST API, then go on from the newest id');
  assert.match(reset.reason, /older than what the hub keeps/);
  readings(feed, [wl(2, T0 + 10_000)]); // 1007
  assert.equal((await old.next()).id, 1007, 'then live, nothing replayed');

  // Now 1005..1007 are kept: since=1004 still resumes (nothing after it is lost), since=1003 does not.
  const edge = await connect(url, { key: keys.xa!, query: 'since=1004' });
  assert.deepEqual(await edge.next(), { id: 1004, type: 'hello', resumed: true });
  await until(() => edge.messages.length === 4, 'the three kept messages');
  assert.deepEqual(edge.messages.slice(1).map((m) => m.id), [1005, 1006, 1007]);
  const before = await connect(url, { key: keys.xa!, query: 'since=1003' });
  assert.equal((await before.next()).type, 'reset');

  // A since beyond this run's ids (a position the hub never gave out): reset.
  const ahead = await connect(url, { key: keys.xa!, query: 'since=99999999' });
  assert.equal((await ahead.next()).type, 'reset');
  for (const c of [old, edge, before, ahead]) c.ws.close();
});

test('a client that stops reading is closed as slow (4008) instead of holding memory, and counted', async (t) => {
  const { feed, metrics, url } = await api(t, { history: { maxItems: 5000 }, stream: { highWaterBytes: 16 * 1024, maxLagMs: 60_000, closeGraceMs: 30_000, heartbeatMs: 60_000 } });
  const slow = await connect(url, { key: keys.op!, query: 'kind=readings' });
  const brisk = await connect(url, { key: keys.op!, query: 'kind=alert' });
  await slow.next('hello');
  slow.ws.pause();
  const big = Array.from({ length: 500 }, (_, i) => wl(1 + i / 1000, T0 + i));
  // Until the kernel's socket buffers are full and the history has moved past what it was sent.
  await until(async () => {
    for (let i = 0; i < 20; i++) readings(feed, big);
    await new Promise((r) => setImmediate(r));
    return metricValue(await metrics.registry.metrics(), 'ioc_hub_stream_closed_total', { reason: 'slow' }) === 1;
  }, 'the slow client to be closed', 20_000);
  // The other client is served on.
  feed.publish('alert', alertChange(KIM_LONG, 2));
  assert.equal((await brisk.next('hello')).type, 'hello');
  assert.equal((await brisk.next('the alert')).type, 'alert');
  slow.ws.resume();
  const { code, reason } = await slow.closed;
  assert.equal(code, 4008);
  assert.match(reason, /too slow/);
  brisk.ws.close();
});

test('heartbeat: a client that does not answer pings is dropped; one that does stays; a revoked key is closed (4401)', async (t) => {
  const { metrics, url } = await api(t, { stream: { heartbeatMs: 250 } });
  const dead = await connect(url, { key: keys.op!, autoPong: false });
  const alive = await connect(url, { key: keys.op! });
  const { key } = auth.createApiKey({ name: 'revoked-soon', role: 'viewer', areas: ['46'] }, 'cli:test');
  const revoked = await connect(url, { key });
  const deadClosed = await dead.closed;
  assert.equal(deadClosed.code, 1006, 'cut off, no close handshake');
  assert.equal(metricValue(await metrics.registry.metrics(), 'ioc_hub_stream_closed_total', { reason: 'heartbeat' }), 1);
  assert.equal(alive.ws.readyState, WebSocket.OPEN, 'a client answering pings outlives one that does not');

  auth.revokeApiKey(key.slice(4, 20), 'cli:test');
  const r = await revoked.closed;
  assert.equal(r.code, 4401);
  assert.equal(alive.ws.readyState, WebSocket.OPEN);
  alive.ws.close();
});

test('connections beyond stream.maxClients are refused with 503', async (t) => {
  const { url } = await api(t, { stream: { maxClients: 1 } });
  const one = await connect(url, { key: keys.op! });
  assert.equal(await refused(connect(url, { key: keys.op! })), 503);
  one.ws.close();
  await one.closed;
  // The place is free again once the hub has seen the close.
  await until(async () => {
    try {
      (await connect(url, { key: keys.op! })).ws.close();
      return true;
    } catch {
      return false;
    }
  }, 'a new connection to be accepted');
});

test('in a whole hub: a reading crossing BĐ3 published over MQTT reaches the stream as readings and an alert', async (t) => {
  const { dir, cleanup: rm } = tempDir();
  t.after(rm);
  const hub = await startHub(testConfig(dir), { logger: silentLogger() });
  t.after(() => hub.close());
  const base = hub.apiUrl.replace(/^http/, 'ws');
  const all = await connect(`${base}/stream`);
  const alerts = await connect(`${base}/stream`, { query: `kind=alert&dev=${KIM_LONG}` });
  const hello = await alerts.next('hello');
  const gw = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW });
  t.after(() => gw.endAsync());
  const now = Date.now();
  await gw.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(batch(GW, 1, [wl(1.5, now - 1000), wl(3.6, now)])), { qos: 1 });
  const alert = await alerts.next('the alert');
  assert.equal(alert.type, 'alert');
  assert.ok(alert.id > hello.id);
  assert.equal(alert.alert.dev, KIM_LONG);
  assert.equal(alert.alert.level, 3);
  assert.equal(alert.event.kind, 'raised');
  await until(() => all.messages.some((m) => m.type === 'readings'), 'the readings');
  const r = all.messages.find((m) => m.type === 'readings');
  assert.deepEqual(r.readings.map((x: any) => [x.seq, x.value]), [[1, 1.5], [2, 3.6]]);
  for (const c of [all, alerts]) c.ws.close();
});
