/**
 * Chaos 5: the outbox cap is hit during a long partition. The gateway reads 10 counter devices
 * every 20 ms (routine telemetry) and a river station every 50 ms whose water_level feeds the flood
 * rule (alerting, never dropped); the outbox holds at most 2,000 rows; the link is blackholed for
 * 14 s (about 8,000 readings). The gateway must drop the oldest routine rows, count them, report
 * the seq ranges to the hub, and keep every alerting row. In the end:
 *   - the gateway's drop count (ioc-edge status) = the hub's per-gateway dropped count = the seqs in
 *     the hub's dropped ranges, and the hub's upTo reached the outbox's lastSeq;
 *   - stored ∪ dropped = 1..lastSeq, disjoint;
 *   - every water_level reading the station served is at the hub, in order;
 *   - every routine reading not dropped arrives exactly once, and each one missing sits where
 *     dropped seqs are; missing routine readings add up to exactly the dropped count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterDeviceSimulator } from '../simulators/modbus-counter.js';
import { WaterLevelStationSimulator } from '../simulators/modbus-water-level.js';

import { BlackholeProxy } from '../lib/proxy.js';
import type { SiteDevice } from '../lib/sites.js';
import { ChaosSite, accountCounters, counterDevices, outboxSnapshot, readHubDb, report, seqProblems, sleep } from '../lib/chaos.js';
import { until } from '../lib/until.js';

const GW = 'gw-chaos-diskcap';
const MAX_ROWS = 2_000;
const PARTITION_MS = 14_000;
const STATION = 'wl-kimlong';
const ROUTINE_STATION_METRICS = ['battery_voltage', 'status_word', 'fault'];

test('outbox cap hit during a long partition: oldest routine rows dropped, counted, reported; alerting rows and the rest arrive once', { timeout: 150_000 }, async (t) => {
  const counters = new CounterDeviceSimulator();
  await counters.start();
  t.after(() => counters.stop());
  const river = new WaterLevelStationSimulator();
  await river.start();
  t.after(() => river.stop());
  // The river rises 0.5 → 4.5 m over a minute: every few polls a new level (cm resolution).
  void river.replay([{ tS: 0, levelM: 0.5 }, { tS: 60, levelM: 4.5 }]);

  const cnt = counterDevices(10, counters.port, 20);
  const station: SiteDevice = {
    id: STATION, profile: 'radar-water-level', port: river.port, pollIntervalMs: 50, timeoutMs: 5000,
    name: 'Trạm Kim Long', river: 'Hương', station: 'Kim Long', alarmLevels: { bd1: 1.0, bd2: 2.0, bd3: 3.5 },
  };
  const site = ChaosSite.create(t, {
    name: 'disk-cap', gatewayId: GW, devices: [...cnt, station],
    edge: { uplink: { keepaliveS: 5, backoff: { initialMs: 200, maxMs: 1000 } }, outbox: { maxRows: MAX_ROWS } },
  });
  await site.startHub();
  const proxy = new BlackholeProxy(site.hubReady!.mqttPort);
  await proxy.start();
  t.after(() => proxy.stop());
  site.writeEdgeConfigs(proxy.port);
  const edge = await site.startEdge();
  await site.waitUpTo(1_000, 'the hub to store 1,000 readings', 30_000);

  proxy.blackhole();
  await edge.waitFor((l) => l.msg === 'uplink link lost', PARTITION_MS);
  await until(() => outboxSnapshot(site.dir).dropped > 0, 'the cap to be hit', PARTITION_MS, 200);
  await sleep(PARTITION_MS - 8_000);
  const atHeal = outboxSnapshot(site.dir);
  t.diagnostic(`at heal: outbox ${atHeal.depth} rows (cap ${MAX_ROWS}), lastSeq ${atHeal.lastSeq}, acked ${atHeal.ackedUpTo}, dropped ${atHeal.dropped}`);
  assert.ok(atHeal.dropped > 0, 'the cap was hit');
  // Cap drops commit in the same transaction as the append that caused them: a reader never sees more.
  assert.ok(atHeal.depth <= MAX_ROWS, `the outbox stayed within its cap (${atHeal.depth} rows)`);
  // All drops happened in this partition, above the last ack: each unacknowledged seq is a row or a drop.
  assert.equal(atHeal.lastSeq - atHeal.ackedUpTo, atHeal.depth + atHeal.dropped, 'every unacknowledged seq is a row or a drop');
  proxy.heal();
  // Reported and accounted: the hub's high-water mark passes the dropped ranges.
  await site.waitUpTo(atHeal.lastSeq, 'the hub to account past the drops');

  const { lastSeq, run, final } = await site.finish();
  const gw = await site.gateway();
  await site.hub!.stop('SIGTERM');
  const rec = readHubDb(site.dataDir, GW);

  // Counted on the gateway (ioc-edge status: the outbox itself, and the gateway's last status).
  const edgeDropped = final.outbox!.dropped;
  assert.ok(edgeDropped > 0);
  assert.equal(run.lastStatus?.outbox?.dropped, edgeDropped, 'the gateway\'s status reports the drops');
  assert.equal(gw.upTo, lastSeq);
  assert.deepEqual(seqProblems(rec, lastSeq), [], 'stored ∪ dropped = 1..lastSeq, disjoint');
  assert.equal(rec.quarantineSeqs.length, 0);

  // Which seqs the gateway dropped: each cap drop deletes every routine row in its logged
  // [first, last]; the alerting rows in between stay (they are the station's water levels).
  const stationLevelSeqs = new Set(rec.rows.filter((r) => r.dev === STATION && r.metric === 'water_level').map((r) => r.seq));
  const edgeDrops = new Set<number>();
  for (const l of edge.logs.filter((x) => x.msg === 'outbox dropped unsent routine readings')) {
    let n = 0;
    for (let s = Number(l.first); s <= Number(l.last); s++) if (!stationLevelSeqs.has(s)) { edgeDrops.add(s); n++; }
    assert.equal(n, Number(l.count), `drop ${l.first}..${l.last}: ${l.count} routine rows`);
  }
  assert.equal(edgeDrops.size, edgeDropped, 'the drops the gateway logged add up to its count');
  // Reported to the hub and accounted there: every seq the hub has as dropped was dropped by the
  // gateway; a dropped seq the hub does not count is one it had already stored — sent before the
  // partition, its ack lost in it, then dropped by the cap (the reading is at the hub, not lost).
  const hubDrops = new Set<number>();
  for (const [a, b] of rec.dropped) for (let s = a; s <= b; s++) hubDrops.add(s);
  const storedSeqs = new Set(rec.rows.map((r) => r.seq));
  let droppedButStored = 0;
  for (const s of hubDrops) assert.ok(edgeDrops.has(s), `hub counts seq ${s} dropped; the gateway never dropped it`);
  for (const s of edgeDrops) {
    if (hubDrops.has(s)) continue;
    assert.ok(storedSeqs.has(s), `seq ${s} dropped by the gateway is neither dropped nor stored at the hub`);
    droppedButStored++;
  }
  t.diagnostic(`lastSeq ${lastSeq}; dropped: gateway ${edgeDropped}, hub ${gw.dropped} in ${rec.dropped.length} range(s), of which stored before the drop ${droppedButStored}; stored ${rec.rows.length}; hub duplicates ${rec.stats.duplicates}`);
  assert.equal(gw.dropped, hubDrops.size, 'the hub\'s dropped count = its dropped ranges');
  assert.equal(gw.dropped, edgeDropped - droppedButStored, 'hub dropped count = gateway dropped count, less readings the hub had before the drop');

  // No alerting reading dropped: every water level the station served is at the hub, in order.
  const polls = river.served.filter((s) => s.address === 0).map((s) => s.raw / 100);
  const levels = rec.rows.filter((r) => r.dev === STATION && r.metric === 'water_level');
  assert.ok(levels.every((r) => r.q === 'good'), 'water levels all good');
  assert.deepEqual(levels.map((r) => r.value), polls, `all ${polls.length} water levels served are stored, in order`);

  // Routine readings: each missing one sits where the hub has dropped seqs, and they add up.
  const dropped = new Uint8Array(lastSeq + 1);
  for (const [a, b] of rec.dropped) dropped.fill(1, a, b + 1);
  const droppedBetween = (lo: number, hi: number): boolean => {
    for (let s = lo + 1; s < Math.min(hi, lastSeq + 1); s++) if (dropped[s]) return true;
    return false;
  };
  const acc = accountCounters(counters, cnt, rec.rows, (_d, _n, prevSeq, nextSeq) => (droppedBetween(prevSeq, nextSeq) ? null : 'no dropped seq where it belongs'));
  assert.deepEqual(acc.problems, [], report(acc.problems));
  let missingRoutine = acc.served - acc.stored;
  for (const metric of ROUTINE_STATION_METRICS) {
    const stored = rec.rows.filter((r) => r.dev === STATION && r.metric === metric).length;
    assert.ok(stored <= polls.length, `${metric}: not more readings than polls`);
    missingRoutine += polls.length - stored;
  }
  t.diagnostic(`counters: served ${acc.served}, stored ${acc.stored}; station: ${polls.length} polls; routine readings missing ${missingRoutine}`);
  assert.equal(missingRoutine, gw.dropped, 'served = stored ∪ dropped: every routine reading not dropped arrived');
});

