/**
 * Chaos 3: a network partition. gateway → BlackholeProxy → hub; the proxy stops moving bytes in
 * both directions (no FIN, no RST) for 14 s, so the gateway learns of it only through its MQTT
 * keepalive (5 s), then heals. The backlog built up meanwhile drains, but the live lane goes first:
 * the first readings the hub stores after the heal are the newest ones, from above the backlog
 * boundary, while the oldest unsent reading is still waiting. In the end every reading the devices
 * served is stored exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterDeviceSimulator } from '../simulators/modbus-counter.js';
import { BlackholeProxy } from '../lib/proxy.js';
import { ChaosSite, accountCounters, counterDevices, readHubDb, report, seqProblems, sleep } from '../lib/chaos.js';

const GW = 'gw-chaos-partition';
const DEVICES = 20;
const POLL_MS = 20;
const PARTITION_MS = 14_000;

test('partition (blackhole, no FIN/RST) then heal: live readings first, then the backlog, all exactly once', { timeout: 150_000 }, async (t) => {
  const sim = new CounterDeviceSimulator();
  await sim.start();
  t.after(() => sim.stop());
  const devices = counterDevices(DEVICES, sim.port, POLL_MS);
  const site = ChaosSite.create(t, {
    name: 'partition', gatewayId: GW, devices,
    // debug: the hub logs every telemetry batch it stores (seq range, lane), in the order it stores them.
    hubLogLevel: 'debug',
    edge: { uplink: { keepaliveS: 5, backoff: { initialMs: 200, maxMs: 1000 } } },
  });
  await site.startHub();
  const proxy = new BlackholeProxy(site.hubReady!.mqttPort);
  await proxy.start();
  t.after(() => proxy.stop());
  site.writeEdgeConfigs(proxy.port);
  const edge = await site.startEdge();

  // Steady state first: readings flow and are acknowledged.
  await site.waitUpTo(2_000, 'the hub to store 2,000 readings', 30_000);

  proxy.blackhole();
  const cutAt = Date.now();
  // Bytes that passed the proxy just before the cut are still being stored: wait until upTo settles.
  let upToAtCut = (await site.gateway()).upTo;
  for (let settled = false; !settled;) {
    await sleep(300);
    const now = (await site.gateway()).upTo;
    settled = now === upToAtCut;
    upToAtCut = now;
  }
  await edge.waitFor((l) => l.msg === 'uplink link lost', PARTITION_MS);
  const noticedMs = Date.now() - cutAt;
  await sleep(Math.max(0, PARTITION_MS - noticedMs));
  const hubLogsAtHeal = site.hub!.logs.length;
  const edgeLogsAtHeal = edge.logs.length;
  const upToAtHeal = (await site.gateway()).upTo;
  assert.equal(upToAtHeal, upToAtCut, 'nothing reached the hub through the blackhole');
  proxy.heal();

  // The gateway reconnects and splits its backlog at B: rows above B go first, on the live lane.
  const plan = await edge.waitFor((l) => l.msg === 'backlog: live lane first' && edge.logs.indexOf(l) >= edgeLogsAtHeal, 30_000);
  const boundary = Number(plan.backlogUpTo);
  const planLastSeq = Number(plan.lastSeq);
  t.diagnostic(`keepalive noticed the partition after ${noticedMs} ms; upTo ${upToAtHeal} at heal; backlog ${plan.ackedUpTo}..${boundary}, live from ${boundary + 1} (lastSeq ${planLastSeq})`);
  await site.waitUpTo(planLastSeq, 'the backlog to drain');

  // Batches the hub stored after the heal, in the order it stored them.
  const stored = site.hub!.logs.slice(hubLogsAtHeal)
    .filter((l) => l.msg === 'telemetry batch' && Number(l.stored) > 0)
    .map((l) => ({ first: (l.seq as number[])[0]!, last: (l.seq as number[])[1]!, lane: l.lane as string | undefined, upTo: Number(l.upTo) }));
  assert.ok(stored.length > 0, 'the hub logged the batches it stored');
  const head = stored[0]!;
  t.diagnostic(`first batch stored after the heal: seq ${head.first}..${head.last} (${head.lane}), hub upTo then ${head.upTo}; ${stored.length} batches to drain`);
  assert.equal(head.lane, 'live', 'the first batch stored after the heal came on the live lane');
  assert.ok(head.first > boundary, `its readings are the newest (seq ${head.first} > backlog boundary ${boundary})`);
  assert.ok(head.upTo < boundary, `stored while the backlog still waited (upTo ${head.upTo} < ${boundary})`);
  assert.equal(head.upTo, upToAtHeal, `the oldest unsent reading (seq ${upToAtHeal + 1}) was not yet stored`);
  // The backlog itself drains oldest first.
  const backlog = stored.filter((b) => b.lane === 'backlog');
  assert.ok(backlog.length > 0, 'a backlog lane drained');
  for (let i = 1; i < backlog.length; i++) assert.ok(backlog[i]!.first > backlog[i - 1]!.first, 'backlog batches in seq order');
  assert.ok(backlog[0]!.first <= upToAtHeal + 1, 'the backlog starts at the oldest unsent reading');

  const { lastSeq } = await site.finish();
  await site.hub!.stop('SIGTERM');
  const rec = readHubDb(site.dataDir, GW);
  const acc = accountCounters(sim, devices, rec.rows);
  t.diagnostic(`served ${acc.served}, stored ${acc.stored}; lastSeq ${lastSeq}; hub duplicates ${rec.stats.duplicates}; proxy connections ${proxy.connections}`);
  assert.deepEqual(acc.problems, [], report(acc.problems));
  assert.equal(acc.stored, acc.served);
  assert.deepEqual(seqProblems(rec, lastSeq), []);
  assert.equal(rec.rows.length, lastSeq);
});
