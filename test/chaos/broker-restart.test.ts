/**
 * Chaos 4: the broker restarts while a batch is in flight. The broker is aedes inside the hub, so
 * the hub is stopped gracefully (SIGTERM: ingest unsubscribes, the broker closes its clients, the
 * store closes) and started again on the same ports. The gateway sends large batches (batchSize
 * 5000, linger 2 s) through a pass-through proxy that counts bytes; the SIGTERM goes out the moment
 * 128 KB of one batch are on the wire, so that batch is being received when the broker goes down.
 * Restart 1 races the batch: the hub's shutdown may finish receiving and storing it, or detach
 * ingest first (then the broker may still PUBACK a batch nobody stores: only the hub's end-to-end
 * ack may delete rows from the outbox). Restart 2 leaves nothing to chance: the proxy also stalls
 * the rest of the batch until the hub has exited, so the broker goes down with half a batch
 * received, and the gateway must send it again. Then every served value is stored exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterDeviceSimulator } from '../simulators/modbus-counter.js';
import { BlackholeProxy } from '../lib/proxy.js';
import { ChaosSite, accountCounters, counterDevices, outboxSnapshot, readHubDb, report, seqProblems, sleep } from '../lib/chaos.js';

const GW = 'gw-chaos-broker';
const DEVICES = 25;
const POLL_MS = 10;
const RESTARTS = 2;
const IN_FLIGHT_BYTES = 128 * 1024;

test('broker restart (graceful) while a batch is in flight: the batch is sent again, every reading stored once', { timeout: 150_000 }, async (t) => {
  const sim = new CounterDeviceSimulator();
  await sim.start();
  t.after(() => sim.stop());
  const devices = counterDevices(DEVICES, sim.port, POLL_MS);
  const site = ChaosSite.create(t, {
    name: 'broker-restart', gatewayId: GW, devices,
    edge: { uplink: { batchSize: 5000, lingerMs: 2000, backoff: { initialMs: 100, maxMs: 1000 } } },
  });
  await site.startHub();
  const proxy = new BlackholeProxy(site.hubReady!.mqttPort);
  await proxy.start();
  t.after(() => proxy.stop());
  site.writeEdgeConfigs(proxy.port);
  await site.startEdge();
  await site.waitUpTo(5_000, 'the hub to store 5,000 readings', 30_000);

  // Bytes gateway → hub in the current burst (a gap of 20 ms starts a new one).
  let burst = 0;
  let lastChunkAt = 0;
  let armed: ((bytes: number) => void) | undefined;
  proxy.onChunk = (dir, n) => {
    if (dir !== 'up') return;
    const now = performance.now();
    if (now - lastChunkAt > 20) burst = 0;
    lastChunkAt = now;
    burst += n;
    if (armed && burst >= IN_FLIGHT_BYTES) {
      const fire = armed;
      armed = undefined;
      fire(burst);
    }
  };

  for (let k = 0; k < RESTARTS; k++) {
    const hub = site.hub!;
    const stall = k === 1;
    let timer: NodeJS.Timeout | undefined;
    const inFlight = await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${IN_FLIGHT_BYTES}-byte burst (a large batch) within 30 s`)), 30_000);
      armed = (bytes) => {
        // At once, from inside the proxy's data callback.
        if (stall) proxy.blackhole();
        hub.child.kill('SIGTERM');
        resolve(bytes);
      };
    }).finally(() => clearTimeout(timer));
    const exit = await hub.exited;
    assert.equal(exit.code, 0, 'the hub stopped cleanly on SIGTERM');
    if (stall) proxy.heal(); // the rest of the batch meets a closed connection
    const ob = outboxSnapshot(site.dir);
    const hubUpTo = readHubDb(site.dataDir, GW).rows.at(-1)?.seq ?? 0;
    t.diagnostic(`restart ${k + 1}${stall ? ' (rest of the batch stalled)' : ''}: SIGTERM with ${inFlight} bytes of a batch on the wire; hub stored up to ${hubUpTo}; outbox lastSeq ${ob.lastSeq}, acked ${ob.ackedUpTo}`);
    assert.ok(ob.lastSeq > ob.ackedUpTo, 'readings were waiting for the hub\'s ack at the restart');
    await sleep(300);
    await site.startHub();
    const seqAtRestart = outboxSnapshot(site.dir).lastSeq;
    await site.waitUpTo(seqAtRestart, `the hub to catch up to ${seqAtRestart} after restart ${k + 1}`);
  }
  proxy.onChunk = undefined;

  const { lastSeq, run } = await site.finish();
  await site.hub!.stop('SIGTERM');
  const rec = readHubDb(site.dataDir, GW);
  const acc = accountCounters(sim, devices, rec.rows);
  const counters = run.lastStatus?.counters ?? {};
  t.diagnostic(`served ${acc.served}, stored ${acc.stored}; lastSeq ${lastSeq}; gateway: ${counters.reconnects} reconnects, ${counters.resends} batches resent, ${counters.batchesSent} sent; hub duplicates ${rec.stats.duplicates}`);
  assert.ok((counters.reconnects ?? 0) >= RESTARTS, 'the gateway reconnected after each restart');
  assert.ok((counters.resends ?? 0) >= 1, 'batches sent before a restart and not acknowledged were sent again');
  assert.deepEqual(acc.problems, [], report(acc.problems));
  assert.equal(acc.stored, acc.served);
  assert.deepEqual(seqProblems(rec, lastSeq), []);
  assert.equal(rec.rows.length, lastSeq);
});
