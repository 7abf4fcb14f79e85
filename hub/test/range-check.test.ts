import { SYSTEM_SCOPE } from '../src/store/types.js';
/**
 * The hub repeats the edge normalizer's plausibility check: a reading sent as "good" with a value
 * outside the catalog range of its metric is stored as q "bad", reason "out_of_range" (as
 * edge/src/normalize/normalize.ts does), never evaluated by the alert rules, and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricDef, type Reading } from '@ioc/shared';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { createAdmission } from '../src/ingest/admission.js';
import { dispatch } from '../src/ingest/index.js';
import { DETECTOR, GW, GW2, KIM_LONG, ingestRig, tempDir, testConfig, wl } from './helpers.js';

const T0 = Date.now() - 60_000;

test('admission: a good or uncertain number outside the catalog range is flagged out_of_range; bad keeps its quality; quarantine causes come first', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const admit = createAdmission(buildRegistry(resolveHubConfig(testConfig(dir), dir).registry));
  const [lo, hi] = metricDef('water_level')!.range!;
  assert.deepEqual([lo, hi], [-10, 60], 'the catalog range this test is written against');
  const temp = (value: number, q: Reading['q'] = 'good'): Reading => ({ dev: DETECTOR, metric: 'temperature', value, unit: '°C', ts: T0, q });

  assert.equal(admit(GW, wl(900, T0)), 'out_of_range');
  assert.equal(admit(GW, wl(hi + 0.001, T0)), 'out_of_range');
  assert.equal(admit(GW, wl(lo - 0.001, T0)), 'out_of_range');
  assert.equal(admit(GW, wl(hi, T0)), null, 'the bounds are plausible');
  assert.equal(admit(GW, wl(lo, T0)), null);
  assert.equal(admit(GW, temp(250)), 'out_of_range');
  assert.equal(admit(GW, temp(36.6)), null);
  assert.equal(admit(GW, wl(900, T0, 'bad')), null, 'already bad: stored as sent (its own reason kept)');
  assert.equal(admit(GW, wl(900, T0, 'uncertain')), 'out_of_range', 'an impossible value is flagged whether sent as good or uncertain');
  assert.equal(admit(GW, wl(2.1, T0, 'uncertain')), null, 'an uncertain value in range keeps its quality');
  assert.equal(admit(GW, wl(null, T0, 'bad')), null);
  assert.equal(admit(GW, { dev: DETECTOR, metric: 'smoke', value: true, unit: 'bool', ts: T0, q: 'good' }), null, 'booleans have no range');
  assert.equal(admit(GW, wl(900, T0, 'good', 'no-such-device')), 'unknown_device');
  assert.equal(admit(GW2, wl(900, T0)), 'device_not_on_gateway');
  assert.equal(admit(GW, { ...wl(90_000, T0), unit: 'cm' }), 'unit_mismatch');
});

test('a good reading with an impossible value is stored as q bad, out_of_range (value kept), raises no alert, is counted once and acknowledged', async (t) => {
  const r = ingestRig(t);
  r.send([wl(900, T0)]);
  await r.turn();
  assert.deepEqual(r.acks, [1], 'accounted and acknowledged: the gateway does not resend it forever');
  assert.deepEqual(r.changes, [], 'no Báo động III from a 900 m reading');
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 0);
  const stored = r.store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: 0, to: T0 + 60_000, limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(stored.kind === 'raw' && stored.rows.map(({ value, q, reason }) => ({ value, q, reason })), [
    { value: 900, q: 'bad', reason: 'out_of_range' },
  ]);
  assert.deepEqual(r.store.latest(KIM_LONG, SYSTEM_SCOPE).map(({ value, q, reason }) => ({ value, q, reason })), [{ value: 900, q: 'bad', reason: 'out_of_range' }]);
  assert.deepEqual(r.liveReadings.map(({ value, q, reason }) => ({ value, q, reason })), [{ value: 900, q: 'bad', reason: 'out_of_range' }]);
  assert.equal(await r.metric('ioc_hub_readings_out_of_range_total', { gw: GW, metric: 'water_level' }), 1);
  assert.equal(await r.metric('ioc_hub_readings_stored_total', { gw: GW }), 1, 'stored, not quarantined');
  assert.equal(r.store.gatewayStats(GW).quarantined, 0);

  // A resend is a duplicate: not counted again. Plausible readings still raise alerts as before.
  r.send([wl(900, T0)], 1);
  r.send([wl(1.2, T0 + 1000)]);
  await r.turn();
  assert.deepEqual(r.acks, [1, 2], 'one ack for the group of the duplicate and the new reading');
  assert.equal(await r.metric('ioc_hub_readings_out_of_range_total', { gw: GW, metric: 'water_level' }), 1);
  assert.deepEqual(r.kinds(), ['raised:1']);

  // What the edge already flagged (or called uncertain) keeps its quality and is not counted by the hub.
  r.send([{ ...wl(950, T0 + 2000, 'bad'), reason: 'out_of_range' }, { ...wl(null, T0 + 3000, 'bad'), reason: 'comm_error' }, wl(2.1, T0 + 4000, 'uncertain')]);
  await r.turn();
  const rows = r.store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: T0 + 2000, to: T0 + 60_000, limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(rows.kind === 'raw' && rows.rows.map(({ value, q, reason }) => [value, q, reason ?? null]), [
    [950, 'bad', 'out_of_range'],
    [null, 'bad', 'comm_error'],
    [2.1, 'uncertain', null],
  ]);
  assert.equal(await r.metric('ioc_hub_readings_out_of_range_total', { gw: GW, metric: 'water_level' }), 1);
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2'], 'the uncertain 2.1 m is evaluated, as before');
});

test('a raw payload with 1e400 (Infinity once parsed) is refused by the schema: counted, logged, not stored, not acknowledged', async (t) => {
  const r = ingestRig(t);
  const raw = `{"v":1,"gw":"${GW}","seq":[1,1],"readings":[{"dev":"${KIM_LONG}","metric":"water_level","value":1e400,"unit":"m","ts":${T0},"q":"good"}]}`;
  assert.equal(JSON.parse(raw).readings[0].value, Infinity, 'what JSON.parse makes of it');
  dispatch(r.ctx, `ioc/v1/${GW}/telemetry`, Buffer.from(raw));
  await r.turn();
  assert.equal(await r.metric('ioc_hub_rejected_total', { reason: 'schema' }), 1);
  assert.ok(r.logs.some((l) => l.reason === 'schema' && /readings\.0\.value/.test(String(l.detail))));
  assert.deepEqual(r.acks, []);
  assert.equal(r.store.upTo(GW), 0);
  assert.deepEqual(r.changes, [], 'no alert from an infinite water level');
});
