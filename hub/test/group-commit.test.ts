import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AlertEngine } from '../src/alerts/engine.js';
import type { Bus } from '../src/broker/bus.js';
import { buildRegistry } from '../src/config/registry.js';
import { resolveHubConfig } from '../src/config/load.js';
import { createIngestContext, dispatch } from '../src/ingest/index.js';
import type { LiveFeed } from '../src/live.js';
import { createHubMetrics } from '../src/metrics.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { BatchInput } from '../src/store/types.js';
import { GW, batch, silentLogger, tempDir, testConfig, wl } from './helpers.js';

const T0 = 1_700_000_000_000;

function setup(t: { after(fn: () => void): void }) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const cfg = resolveHubConfig(testConfig(dir), dir);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const acks: Array<[string, unknown]> = [];
  const groups: number[] = [];
  const evaluated: number[][] = [];
  const bus = { publish: async (topic: string, payload: string) => void acks.push([topic, JSON.parse(payload)]) } as unknown as Bus;
  const alerts = { evaluate: (rs: Array<{ seq: number }>) => void evaluated.push(rs.map((r) => r.seq)) } as unknown as AlertEngine;
  const live = { publish: () => undefined } as unknown as LiveFeed;
  const realWriteBatches = store.writeBatches.bind(store);
  store.writeBatches = (b: readonly BatchInput[]) => {
    groups.push(b.length);
    return realWriteBatches(b);
  };
  const ctx = createIngestContext({
    bus, store, registry: buildRegistry(cfg.registry), alerts, live, metrics: createHubMetrics(), logger: silentLogger(), maxPayloadBytes: 256 * 1024,
  });
  const send = (first: number, n: number) =>
    dispatch(ctx, `ioc/v1/${GW}/telemetry`, Buffer.from(JSON.stringify(batch(GW, first, Array.from({ length: n }, (_, i) => wl(1, T0 + (first + i) * 1000))))));
  return { store, ctx, acks, groups, evaluated, send };
}

test('group commit: batches of one turn are written in one transaction; rules run and acks go out only after it, in order', async (t) => {
  const { store, ctx, acks, groups, evaluated, send } = setup(t);
  send(1, 3);
  send(4, 2);
  send(1, 3); // a resend: duplicates
  assert.equal(acks.length, 0, 'nothing is acknowledged before the commit');
  assert.equal(store.upTo(GW), 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(groups, [3]);
  assert.deepEqual(evaluated, [[1, 2, 3], [4, 5]]);
  assert.deepEqual(acks.map(([, a]) => a), [{ upTo: 3 }, { upTo: 5 }, { upTo: 5 }]);
  assert.deepEqual([store.gatewayStats(GW).stored, store.gatewayStats(GW).duplicates], [5, 3]);

  // Another kind of message flushes the queue first (arrival order is kept).
  send(6, 1);
  dispatch(ctx, `ioc/v1/${GW}/events`, Buffer.from(JSON.stringify({ v: 1, kind: 'dropped', ts: T0, ranges: [[6, 7]], reason: 'cap', count: 2 })));
  assert.equal(store.gatewayStats(GW).stored, 6, 'seq 6 was stored before the dropped event accounted 6..7');
  assert.equal(store.upTo(GW), 7);

  // After close nothing more is taken (not acknowledged: the gateway resends).
  send(8, 1);
  ctx.close();
  send(9, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(store.upTo(GW), 8);
});

test('group commit: a batch whose write fails is refused alone; the rest of its group is stored and acknowledged', async (t) => {
  const { store, acks, send } = setup(t);
  const realWriteBatches = store.writeBatches;
  store.writeBatches = function (this: typeof store, b: readonly BatchInput[]) {
    if (b.some((x) => x.firstSeq === 4)) throw new Error('disk says no');
    return realWriteBatches.call(this, b);
  };
  send(1, 3);
  send(4, 2);
  send(6, 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(acks.map(([, a]) => a), [{ upTo: 3 }, { upTo: 3 }]);
  assert.deepEqual(store.storedSeqs(GW, 0, 100), [1, 2, 3, 6]);
});
