/**
 * Shift handover at the API: what happened since the last handover of the caller's desk, within
 * the caller's scope; writing one is audited and moves "since" — on a real hub.db, alert engine,
 * AuthService and audit log, through fastify inject.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '@ioc/shared';
import type { AlertEngine } from '../src/alerts/engine.js';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import type { SqliteAuditLog } from '../src/audit/sqlite.js';
import type { HubDatabase } from '../src/db/database.js';
import { HandoverService } from '../src/handover/service.js';
import { SqliteHandoverStore } from '../src/handover/store.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { apiParts, login as apiLogin, type Session } from './api-fixture.js';
import { DETECTOR, FLOOD_RULE, GW, KIM_LONG, tempDir, wl } from './helpers.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
let clock = T0;
let db: HubDatabase;
let store: SqliteStore;
let audit: SqliteAuditLog;
let app: ApiInstance;
let engine: AlertEngine;
let cleanup: () => void;
let seq = 0;
const PW = 'correct horse battery';
const FIRE_RULE = {
  id: 'fire', kind: 'composite', name: { vi: 'Cháy', en: 'Fire' },
  when: { all: [{ metric: 'smoke', is: true }, { metric: 'temperature', gte: 57 }] },
};

async function req(method: string, url: string, session: Session, body?: unknown) {
  const headers: Record<string, string> = { cookie: session.cookie, 'x-csrf-token': session.csrf };
  const res = await app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

async function login(username: string): Promise<Session> {
  const session = await apiLogin(app, username, PW);
  assert.equal(session.status, 200, `login ${username}`);
  return session;
}

function feed(...readings: Reading[]) {
  const res = store.writeBatch(GW, seq + 1, readings);
  seq += readings.length;
  engine.evaluate(res.fresh);
}

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const parts = apiParts(t.dir, { now: () => clock, alerts: { rules: [FLOOD_RULE, FIRE_RULE] } });
  const { stack, auth } = parts;
  ({ db, store, audit } = parts);
  engine = stack.engine;
  app = buildApi({ ...parts.deps, handovers: new HandoverService(new SqliteHandoverStore(db), stack.views, () => clock) });
  await app.ready();
  for (const [username, role, areas] of [['op', 'operator', ['*']], ['xa', 'commune', ['19816']]] as const) {
    await auth.addUser({ username, role, areas: [...areas], password: PW }, 'cli:test');
  }
  // Kim Long (commune 19816) floods to BĐ2; a fire at Chợ Đông Ba (commune 19801).
  feed(wl(2.5, T0), { dev: DETECTOR, metric: 'smoke', value: true, unit: 'bool', ts: T0, q: 'good' }, { dev: DETECTOR, metric: 'temperature', value: 62, unit: '°C', ts: T0, q: 'good' });
});

after(async () => {
  await app?.close();
  store?.close();
  db?.close();
  cleanup();
});

test('without a handover: the last 24 h, alerts in scope only (a commune user never sees another commune\'s)', async () => {
  clock = T0 + HOUR;
  const op = await login('op');
  const r = await req('GET', '/api/v1/handovers/current', op);
  assert.equal(r.status, 200);
  assert.equal(r.body.since, clock - 24 * HOUR);
  assert.equal(r.body.lastHandover, null);
  assert.deepEqual(r.body.openAlerts.map((a: any) => a.category).sort(), ['fire', 'flood']);
  assert.deepEqual(r.body.alertsChanged.map((c: any) => `${c.kind}:${c.alert.category}`).sort(), ['raised:fire', 'raised:flood']);

  const xa = await login('xa');
  const x = await req('GET', '/api/v1/handovers/current', xa);
  assert.equal(x.status, 200);
  assert.deepEqual(x.body.openAlerts.map((a: any) => a.deviceName), ['Trạm Kim Long']);
  assert.ok(x.body.alertsChanged.every((c: any) => c.alert.communeCode === '19816'), JSON.stringify(x.body.alertsChanged));
  assert.equal(x.body.alertsChanged.length, 1);
  // A commune user may read, not hand over the province's desk.
  assert.equal((await req('POST', '/api/v1/handovers', xa, { note: 'x' })).status, 403);
});

test('notes on alerts since then; writing a handover is audited and moves "since" to now', async () => {
  clock = T0 + 2 * HOUR;
  const op = await login('op');
  const flood = (await req('GET', '/api/v1/handovers/current', op)).body.openAlerts.find((a: any) => a.category === 'flood');
  assert.equal((await req('POST', `/api/v1/alerts/${flood.id}/ack`, op, { note: 'Đã báo UBND xã Kim Long' })).status, 200);
  let r = await req('GET', '/api/v1/handovers/current', op);
  assert.deepEqual(r.body.notes.map((n: any) => [n.kind, n.note, n.by, n.alert.id]), [['acknowledged', 'Đã báo UBND xã Kim Long', 'op', flood.id]]);
  assert.equal(r.body.alertsChanged[0].kind, 'acknowledged', 'newest first');

  assert.equal((await req('POST', '/api/v1/handovers', op, { note: '   ' })).status, 400);
  clock = T0 + 3 * HOUR;
  const w = await req('POST', '/api/v1/handovers', op, { note: 'Ca đêm: lũ Kim Long BĐ2 đã báo xã; cháy chợ Đông Ba chưa xử lý xong.' });
  assert.equal(w.status, 200);
  assert.equal(w.body.handover.by, 'op');
  assert.equal(w.body.handover.openAlerts.length, 2);
  const entry = audit.list({ action: 'handover.written', limit: 10 })[0];
  assert.ok(entry, 'audit entry written');
  assert.equal(entry.actor, 'user:op');
  assert.equal(entry.target, `handover:${w.body.handover.id}`);
  assert.match(entry.summary ?? '', /Ca đêm/);

  r = await req('GET', '/api/v1/handovers/current', op);
  assert.equal(r.body.since, T0 + 3 * HOUR);
  assert.equal(r.body.lastHandover.note, 'Ca đêm: lũ Kim Long BĐ2 đã báo xã; cháy chợ Đông Ba chưa xử lý xong.');
  assert.equal(r.body.lastHandover.by, 'op');
  assert.deepEqual(r.body.alertsChanged, []);
  assert.deepEqual(r.body.notes, []);
  assert.equal(r.body.openAlerts.length, 2, 'what is still open is handed over');

  // The next shift sees what happens after the handover: Kim Long escalates to BĐ3.
  clock = T0 + 4 * HOUR;
  feed(wl(3.6, T0 + 4 * HOUR));
  r = await req('GET', '/api/v1/handovers/current', op);
  assert.deepEqual(r.body.alertsChanged.map((c: any) => [c.kind, c.level, c.alert.id]), [['escalated', 3, flood.id]]);

  // The commune's desk keeps its own handovers: the province desk's is not its.
  const xa = await login('xa');
  const x = await req('GET', '/api/v1/handovers/current', xa);
  assert.equal(x.body.lastHandover, null);
});
