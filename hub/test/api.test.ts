/** The HTTP API on a real store and alert engine, through fastify's inject (no socket). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { AlertEngine } from '../src/alerts/engine.js';
import { buildApi } from '../src/api/server.js';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import type { ApiInstance } from '../src/api/types.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { createAdmission } from '../src/ingest/admission.js';
import { createHubMetrics } from '../src/metrics.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { DETECTOR, GW, KIM_LONG, alertStack, metricValue, ruleSetOf, silentLogger, tempDir, testConfig, wl } from './helpers.js';

const T0 = 1_700_000_040_000; // a multiple of 60 000
let store: SqliteStore;
let engine: AlertEngine;
let app: ApiInstance;
let cleanup: () => void;
let seq = 0;

function feed(...readings: Reading[]) {
  const res = store.writeBatch(GW, seq + 1, readings);
  seq += readings.length;
  engine.evaluate(res.fresh);
}

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as any };
}

async function post(url: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: res.json() as any };
}

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const registry = buildRegistry(resolveHubConfig(testConfig(t.dir), t.dir).registry);
  store = openSqliteStore({ path: join(t.dir, 'hub.db'), admit: createAdmission(registry) });
  const stack = alertStack(store, registry, { now: () => T0 + 3_600_000 });
  engine = stack.engine;
  const metrics = createHubMetrics();
  metrics.bindState({
    gateways: () => [{ gw: GW, online: true, upTo: store.upTo(GW), outbox: { depth: 5, oldestUnsentAgeS: 2, bytes: 100, dropped: 0 } }],
    brokerClients: () => 1,
    unresolvedAlerts: () => store.alerts.unresolvedByLevel(),
  });
  app = buildApi({ store, registry, alerts: stack.views, alertActions: stack.actions, rules: ruleSetOf(store, registry), metrics, logger: silentLogger(), version: '0.1.0', startedAt: Date.now(), brokerClients: () => 1, now: () => T0 + 3_600_000,
    audit: new SqliteAuditLog(store.db, Buffer.alloc(32, 7)), auth: null });
  await app.ready();
});

after(async () => {
  await app?.close();
  store?.close();
  cleanup();
});

test('readings: raw rows with gw and seq; newest `limit` without from; paging with from', async () => {
  feed(wl(0.5, T0), wl(0.7, T0 + 10_000), wl(null, T0 + 20_000, 'bad'), wl(0.9, T0 + 60_000), wl(1.1, T0 + 70_000));
  let r = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level`);
  assert.equal(r.status, 200);
  assert.equal(r.body.unit, 'm');
  assert.deepEqual(r.body.readings.map((x: any) => [x.gw, x.seq, x.ts, x.value, x.q]), [
    [GW, 1, T0, 0.5, 'good'], [GW, 2, T0 + 10_000, 0.7, 'good'], [GW, 3, T0 + 20_000, null, 'bad'],
    [GW, 4, T0 + 60_000, 0.9, 'good'], [GW, 5, T0 + 70_000, 1.1, 'good'],
  ]);
  r = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level&limit=2`);
  assert.deepEqual(r.body.readings.map((x: any) => x.seq), [4, 5], 'the newest two, oldest first');
  r = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level&from=${T0 + 10_000}&limit=2`);
  assert.deepEqual(r.body.readings.map((x: any) => x.seq), [2, 3]);
  r = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level&from=${T0}&to=${T0 + 15_000}`);
  assert.deepEqual(r.body.readings.map((x: any) => x.seq), [1, 2]);
});

test('readings with step: avg/min/max/count buckets over good and uncertain readings', async () => {
  const r = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level&from=${T0}&to=${T0 + 119_999}&step=60000`);
  assert.equal(r.status, 200);
  assert.equal(r.body.step, 60_000);
  assert.equal(r.body.readings, undefined);
  assert.equal(r.body.buckets.length, 2);
  const [a, b] = r.body.buckets;
  assert.deepEqual([a.t, a.min, a.max, a.count], [T0, 0.5, 0.7, 2]);
  assert.ok(Math.abs(a.avg - 0.6) < 1e-9);
  assert.deepEqual([b.t, b.min, b.max, b.count], [T0 + 60_000, 0.9, 1.1, 2]);
  // Without from: the last `limit` buckets up to `to`.
  const newest = await get(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level&to=${T0 + 119_999}&step=60000&limit=1`);
  assert.deepEqual(newest.body.buckets.map((x: any) => x.t), [T0 + 60_000]);
});

test('readings: a bad query is a 400 naming the parameter; an unknown device a 404', async () => {
  const cases: Array<[string, RegExp]> = [
    [`metric=water_level`, /querystring: dev: required key is missing/],
    [`dev=${KIM_LONG}&metric=water_level&from=yesterday`, /querystring: from: must be integer/],
    [`dev=${KIM_LONG}&metric=water_level&step=0`, /querystring: step: must be >= 1/],
    [`dev=${KIM_LONG}&metric=water_level&limit=1000000`, /querystring: limit: must be <= 100000/],
    [`dev=${KIM_LONG}&metric=water_level&metrc=x`, /querystring: metrc: unknown key/],
    [`dev=${KIM_LONG}&metric=water_level&from=20&to=10`, /from \(20\) must not be after to \(10\)/],
    [`dev=${KIM_LONG}&metric=flow_rate`, /metric: unknown metric "flow_rate"/],
  ];
  for (const [q, re] of cases) {
    const r = await get(`/api/v1/readings?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error, 'bad_request', q);
    assert.match(r.body.message, re, q);
  }
  const r = await get(`/api/v1/readings?dev=nope&metric=water_level`);
  assert.equal(r.status, 404);
  assert.match(r.body.message, /device "nope" is not in the registry/);
});

test('alerts: list with level history, acknowledge, resolve; 404 and 409', async () => {
  feed(wl(2.3, T0 + 80_000), wl(3.6, T0 + 90_000));
  let r = await get(`/api/v1/alerts?dev=${KIM_LONG}&state=open&active=true`);
  assert.equal(r.status, 200);
  assert.equal(r.body.alerts.length, 1);
  const a = r.body.alerts[0];
  assert.deepEqual(a.history.map((h: any) => [h.kind, h.level]), [['raised', 1], ['escalated', 2], ['escalated', 3]]);
  assert.equal(a.message.vi, 'Báo động III — Trạm Kim Long (sông Hương): 3.60 m');
  assert.equal(a.device.station, 'Kim Long');

  assert.equal((await post('/api/v1/alerts/999/ack', { note: 'x' })).status, 404);
  assert.equal((await post(`/api/v1/alerts/${a.id}/ack`, { note: 'x', by: 'A' })).status, 400, 'who acts is the caller, not a field');
  assert.equal((await post(`/api/v1/alerts/${a.id}/ack`, {})).status, 400, 'a note is required');
  assert.equal((await get('/api/v1/alerts?state=resolved')).status, 400);

  r = await post(`/api/v1/alerts/${a.id}/ack`, { note: 'đã báo UBND xã' });
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.alert.state, r.body.alert.acknowledgedBy, r.body.alert.note], ['acknowledged', 'loopback', 'đã báo UBND xã']);
  r = await post(`/api/v1/alerts/${a.id}/ack`, { note: 'again' });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'conflict');
  r = await post(`/api/v1/alerts/${a.id}/close`, { note: 'x' });
  assert.equal(r.status, 409, 'not while the water is above BĐ1');
  assert.match(r.body.message, /condition is present/);
  r = await post(`/api/v1/alerts/${a.id}/assign`, { assignee: 'ca2', note: 'bàn giao ca' });
  assert.equal(r.body.alert.assignee, 'ca2');
  r = await post(`/api/v1/alerts/${a.id}/confirm-risk`, { level: 3, note: 'theo bản tin Đài KTTV' });
  assert.deepEqual([r.status, r.body.alert.riskLevel], [200, 3]);
  r = await post(`/api/v1/alerts/${a.id}/shelve`, { note: 'x' });
  assert.equal(r.status, 400, 'a shelf says how long');

  let metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(metricValue(metrics, 'ioc_hub_alerts_open', { level: '3' }), 1);

  feed(wl(0.4, T0 + 100_000));
  r = await post(`/api/v1/alerts/${a.id}/close`, { note: 'nước rút' });
  assert.equal(r.status, 200);
  assert.equal(r.body.alert.state, 'closed');
  assert.equal((await post(`/api/v1/alerts/${a.id}/close`, { note: 'x' })).status, 409);
  assert.equal((await get('/api/v1/alerts?state=closed')).body.alerts.length, 1);
  assert.equal((await get(`/api/v1/alerts/${a.id}`)).body.alert.history.at(-1).kind, 'closed');
  metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(metricValue(metrics, 'ioc_hub_alerts_open', { level: '3' }), undefined);
});

test('health, gateways, devices and metrics', async () => {
  const h = await get('/api/v1/health');
  assert.deepEqual([h.status, h.body.status, h.body.version, h.body.db.ok, h.body.broker.clients], [200, 'ok', '0.1.0', true, 1]);

  const g = (await get('/api/v1/gateways')).body.gateways.find((x: any) => x.id === GW);
  assert.deepEqual([g.upTo, g.stored, g.devices, g.online], [seq, seq, 2, false]);
  assert.equal((await get('/api/v1/gateways/gw-nope')).status, 404);

  feed({ dev: DETECTOR, metric: 'smoke', value: false, unit: 'bool', ts: T0 + 110_000, q: 'good' });
  const devices = (await get('/api/v1/devices')).body.devices;
  const kimLong = devices.find((d: any) => d.id === KIM_LONG);
  assert.deepEqual(kimLong.latest.water_level, { value: 0.4, unit: 'm', ts: T0 + 100_000, q: 'good', gw: GW, seq: seq - 1 });
  assert.equal(kimLong.openAlert, null, 'the episode is resolved');
  assert.equal(devices.find((d: any) => d.id === DETECTOR).latest.smoke.value, false);

  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(metricValue(text, 'ioc_hub_gateway_outbox_depth', { gw: GW }), 5);
  assert.equal(metricValue(text, 'ioc_hub_broker_clients'), 1);
  assert.match(text, /# TYPE ioc_hub_ingest_batch_seconds histogram/);
  assert.match(text, /# TYPE ioc_hub_rejected_total counter/);
  assert.equal((await get('/api/v1/nothing')).status, 404);
});
