/**
 * The CAP routes on a real store, alert engine and logins (fastify inject): content types,
 * `?n=`, area scope (404 outside it), and the feed following an episode to its end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '@ioc/shared';
import type { AlertEngine } from '../src/alerts/engine.js';
import type { AlertViews } from '../src/alerts/views.js';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import { capSettings } from '../src/cap/settings.js';
import type { HubDatabase } from '../src/db/database.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { capAlertsInFeed, googleProblems, parseCap, xmllint, xmllintMissing } from './cap-check.js';
import { apiParts } from './api-fixture.js';
import { GW, tempDir, wl } from './helpers.js';

const T0 = Date.UTC(2020, 10, 12, 5, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
let clock = T0;
let db: HubDatabase;
let store: SqliteStore;
let engine: AlertEngine;
let views: AlertViews;
let app: ApiInstance;
let cleanup: () => void;
let seq = 0;
/** API key per caller. */
const keys = new Map<string, string>();

function feed(...readings: Reading[]) {
  const res = store.writeBatch(GW, seq + 1, readings);
  seq += readings.length;
  engine.evaluate(res.fresh);
}

async function get(url: string, user?: string) {
  const headers: Record<string, string> = user ? { authorization: `Bearer ${keys.get(user)!}` } : {};
  const res = await app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: res.body };
}

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const parts = apiParts(t.dir, { now: () => clock, alerts: { flapWindowMs: 0 } });
  const { auth } = parts;
  ({ db, store } = parts);
  ({ engine, views } = parts.stack);
  app = buildApi({ ...parts.deps, cap: capSettings({ sender: 'ioc@hue.gov.vn' }) });
  await app.ready();
  // API keys, as the systems that read CAP use: Kim Long is in commune 19816; commune 19801 has no flood station.
  for (const [name, role, areas] of [['xa', 'commune', ['19816']], ['kt', 'technician', ['19801']]] as const) {
    keys.set(name, auth.createApiKey({ name, role, areas: [...areas] }, 'cli:test').key);
  }
});

after(async () => {
  await app?.close();
  store?.close();
  db?.close();
  cleanup();
});

function assertValidCap(docs: string[]) {
  for (const xml of docs) assert.deepEqual(googleProblems(xml), [], xml);
  if (xmllintMissing()) return;
  const r = xmllint(docs);
  assert.ok(r.ok, r.output);
}

test('an episode through the routes: cap.xml per message, the feed, area scope', async (t) => {
  if (xmllintMissing()) t.diagnostic(`schema validation skipped: ${xmllintMissing()}`);
  clock = T0 + HOUR;
  feed(wl(1.3, T0), wl(2.4, T0 + 30 * MIN));
  const id = views.list({ scope: SYSTEM_SCOPE })[0]!.id;

  // The latest message (the Update to BĐ2) and, with ?n=, the first.
  let r = await get(`/api/v1/alerts/${id}/cap.xml`, 'xa');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/cap+xml; charset=utf-8');
  const update = parseCap(r.body);
  assert.deepEqual([update.msgType, update.identifier, update.sender], ['Update', `ioc@hue.gov.vn.alert.${id}.2`, 'ioc@hue.gov.vn']);
  r = await get(`/api/v1/alerts/${id}/cap.xml?n=1`, 'xa');
  assert.equal(parseCap(r.body).msgType, 'Alert');
  assertValidCap([r.body]);
  r = await get(`/api/v1/alerts/${id}/cap.xml?n=3`, 'xa');
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).error, 'not_found');
  assert.equal((await get(`/api/v1/alerts/${id}/cap.xml?n=0`, 'xa')).status, 400);

  // Outside the caller's area the alert does not exist; without a login, 401.
  r = await get(`/api/v1/alerts/${id}/cap.xml`, 'kt');
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).message, `alert ${id} not found`);
  assert.equal((await get(`/api/v1/alerts/${id}/cap.xml`)).status, 401);
  assert.equal((await get('/api/v1/cap/alerts.xml')).status, 401);
  assert.equal((await get(`/api/v1/alerts/${id + 1000}/cap.xml`, 'xa')).status, 404);

  // The feed lists the episode's current message, inline and linked.
  r = await get('/api/v1/cap/alerts.xml', 'xa');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/atom+xml; charset=utf-8');
  assert.match(r.body, new RegExp(`<link rel="alternate" type="application/cap\\+xml" href="http://localhost:80/api/v1/alerts/${id}/cap.xml\\?n=2"/>`));
  let inline = capAlertsInFeed(r.body);
  assert.deepEqual(inline.map((x) => parseCap(x).identifier), [`ioc@hue.gov.vn.alert.${id}.2`]);
  assertValidCap(inline);
  if (!xmllintMissing()) assert.ok(xmllint([r.body], false).ok, 'the feed is well-formed');
  assert.equal((await get('/api/v1/cap/alerts.xml?since=1', 'xa')).status, 400, 'the feed takes no query');
  const other = await get('/api/v1/cap/alerts.xml', 'kt');
  assert.equal(other.status, 200);
  assert.deepEqual(capAlertsInFeed(other.body), [], 'another commune sees an empty feed');

  // The river falls: the feed carries the Cancel for 6 hours, then lets it go.
  clock = T0 + 2 * HOUR + 5 * MIN;
  feed(wl(0.4, T0 + 2 * HOUR));
  inline = capAlertsInFeed((await get('/api/v1/cap/alerts.xml', 'xa')).body);
  const cancel = parseCap(inline[0]!);
  assert.equal(cancel.msgType, 'Cancel');
  assert.equal(cancel.references, `ioc@hue.gov.vn,ioc@hue.gov.vn.alert.${id}.1,2020-11-12T12:00:00+07:00 ioc@hue.gov.vn,ioc@hue.gov.vn.alert.${id}.2,2020-11-12T12:30:00+07:00`);
  assertValidCap(inline);
  assert.deepEqual(parseCap((await get(`/api/v1/alerts/${id}/cap.xml`, 'xa')).body), cancel, 'the feed carries the same message');
  clock = T0 + 2 * HOUR + 7 * HOUR;
  assert.deepEqual(capAlertsInFeed((await get('/api/v1/cap/alerts.xml', 'xa')).body), [], 'an ended alert leaves the feed after keepEndedHours');
});
