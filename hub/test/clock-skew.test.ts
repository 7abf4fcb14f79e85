import { SYSTEM_SCOPE } from '../src/store/types.js';
/**
 * Readings dated outside the hub's window around its own clock (hub.yaml ingest.maxClockSkewMs,
 * ingest.maxReadingAgeDays): stored as q "bad", reason "clock_skew", value kept, acknowledged,
 * counted and logged; never a device's latest value, never seen by an alert rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { clockWindow, createAdmission } from '../src/ingest/admission.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { GW, GW2, KIM_LONG, ingestRig, tempDir, testConfig, wl } from './helpers.js';

const MIN = 60_000;
const DAY = 86_400_000;

test('admission: ts beyond maxClockSkewMs ahead or maxReadingAgeDays behind the hub clock is clock_skew, whatever the quality; quarantine causes first', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const cfg = resolveHubConfig(testConfig(dir), dir);
  const now = 1_750_000_000_000;
  const admit = createAdmission(buildRegistry(cfg.registry), clockWindow(cfg.ingest, () => now));
  assert.deepEqual([cfg.ingest.maxClockSkewMs, cfg.ingest.maxReadingAgeDays], [10 * MIN, 30], 'the defaults this test is written against');
  assert.equal(admit(GW, wl(1.2, now + 10 * MIN)), null, 'at the limit: accepted');
  assert.equal(admit(GW, wl(1.2, now + 10 * MIN + 1)), 'clock_skew');
  assert.equal(admit(GW, wl(1.2, now + 365 * DAY)), 'clock_skew');
  assert.equal(admit(GW, wl(1.2, now - 30 * DAY)), null);
  assert.equal(admit(GW, wl(1.2, now - 30 * DAY - 1)), 'clock_skew');
  assert.equal(admit(GW, wl(1.2, 0)), 'clock_skew', 'a gateway clock reset to 1970');
  assert.equal(admit(GW, { ...wl(null, now + DAY, 'bad'), reason: 'comm_error' }), 'clock_skew', 'already bad: its ts still cannot be trusted');
  assert.equal(admit(GW, wl(900, now + DAY)), 'clock_skew', 'before out_of_range');
  assert.equal(admit(GW2, wl(1.2, now + DAY)), 'device_not_on_gateway');
  const noPastLimit = createAdmission(buildRegistry(cfg.registry), clockWindow({ maxClockSkewMs: MIN, maxReadingAgeDays: 0 }, () => now));
  assert.equal(noPastLimit(GW, wl(1.2, 0)), null, 'maxReadingAgeDays 0: no past limit');
  assert.equal(createAdmission(buildRegistry(cfg.registry))(GW, wl(1.2, now + 365 * DAY)), null, 'no window given: not checked');
});

test('a far-future reading is stored as q bad clock_skew and acknowledged, but never becomes latest nor raises an alert; counted and logged', async (t) => {
  const r = ingestRig(t);
  const now = Date.now();
  r.send([wl(1.2, now - MIN)]);
  await r.turn();
  assert.deepEqual(r.kinds(), ['raised:1']);
  // A gateway whose clock jumped a year ahead, reporting Báo động III.
  r.send([wl(3.9, now + 365 * DAY), wl(3.8, 1_000)]);
  await r.turn();
  assert.deepEqual(r.acks, [1, 3], 'accounted and acknowledged: the gateway does not resend them forever');
  assert.deepEqual(r.kinds(), ['raised:1'], 'no escalation from a reading whose time cannot be trusted');
  const rows = r.store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: 0, to: now + 400 * DAY, limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(rows.kind === 'raw' && rows.rows.map(({ seq, value, q, reason }) => [seq, value, q, reason ?? null]), [
    [3, 3.8, 'bad', 'clock_skew'],
    [1, 1.2, 'good', null],
    [2, 3.9, 'bad', 'clock_skew'],
  ]);
  assert.deepEqual(r.store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ seq, value }) => [seq, value]), [[1, 1.2]], 'latest is still the last trustworthy reading');
  assert.equal(await r.metric('ioc_hub_readings_clock_skew_total', { gw: GW }), 2);
  assert.ok(r.logs.some((l) => /clock window/.test(l.msg) && l.gw === GW), 'logged');

  // Time goes on: the next honest reading is latest and is evaluated (the rule's cursor was not
  // moved a year ahead).
  r.send([wl(2.1, now)]);
  await r.turn();
  assert.deepEqual(r.store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ seq, value }) => [seq, value]), [[4, 2.1]]);
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2']);
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
});

test('a latest value pinned far in the future (stored before the check) gives way to the next reading', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = openSqliteStore({ path: join(dir, 'hub.db') }); // no clock window: as an older hub stored it
  t.after(() => store.close());
  const now = Date.now();
  store.writeBatch(GW, 1, [wl(3.9, now + 365 * DAY)]);
  assert.deepEqual(store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ seq }) => seq), [1]);
  store.writeBatch(GW, 2, [wl(1.1, now)]);
  assert.deepEqual(store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ seq, value }) => [seq, value]), [[2, 1.1]]);
  store.writeBatch(GW, 3, [wl(1.0, now - MIN)]);
  assert.deepEqual(store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ seq }) => seq), [2], 'an older reading still does not replace a trustworthy latest');
});
