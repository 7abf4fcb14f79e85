import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AlertEngine } from '../src/alerts/engine.js';
import type { Bus } from '../src/broker/bus.js';
import { buildRegistry } from '../src/config/registry.js';
import { resolveHubConfig } from '../src/config/load.js';
import { createIngestContext, dispatch } from '../src/ingest/index.js';
import type { GroupBounds } from '../src/ingest/group-bounds.js';
import { LiveFeed } from '../src/live.js';
import { createHubMetrics } from '../src/metrics.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { BatchInput, WriteResult } from '../src/store/types.js';
import { GW, GW2, KIM_LONG, batch, ingestRig, metricValue, silentLogger, spyOnReadings, tempDir, testConfig, wl, type TestLike } from './helpers.js';
import type { Reading } from '@ioc/shared';

const T0 = 1_700_000_000_000;

/** Without a time bound unless one is given: the tests below count groups, whatever the machine's speed. */
function setup(t: { after(fn: () => void): void }, groupBounds: Partial<GroupBounds> = { maxWaitMs: 60_000 }, urgentLane = true) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const cfg = resolveHubConfig(testConfig(dir), dir);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const acks: Array<[string, unknown]> = [];
  const groups: number[] = [];
  const evaluated: number[][] = [];
  const bus = { publish: async (topic: string, payload: string) => void acks.push([topic, JSON.parse(payload)]) } as unknown as Bus;
  const alerts = {
    stage: () => ({ evaluate: (rs: Array<{ seq: number }>) => void evaluated.push(rs.map((r) => r.seq)), commit: () => [], rollback: () => undefined }),
    // Routine data: nothing here may change an alert.
    mayChange: () => false,
  } as unknown as AlertEngine;
  const live = new LiveFeed();
  const realWriteBatches = store.writeBatches.bind(store);
  store.writeBatches = (b: readonly BatchInput[], within?: (r: readonly WriteResult[]) => void) => {
    groups.push(b.length);
    return realWriteBatches(b, within);
  };
  const ctx = createIngestContext({
    bus, store, registry: buildRegistry(cfg.registry), alerts, live, metrics: createHubMetrics(), logger: silentLogger(), maxPayloadBytes: 256 * 1024,
    groupBounds,
    urgentLane,
  });
  const send = (first: number, n: number, lastSeq?: number) =>
    dispatch(ctx, `ioc/v1/${GW}/telemetry`, Buffer.from(JSON.stringify({
      ...batch(GW, first, Array.from({ length: n }, (_, i) => wl(1, T0 + (first + i) * 1000))),
      ...(lastSeq === undefined ? {} : { lastSeq }),
    })));
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
  // One ack per gateway per group, with the group's final upTo (cumulative: it covers the others).
  assert.deepEqual(acks.map(([, a]) => a), [{ upTo: 5 }]);
  assert.deepEqual([store.gatewayStats(GW).stored, store.gatewayStats(GW).duplicates], [5, 3]);

  // Another kind of message flushes the queue first (arrival order is kept). (The batch shows the
  // gateway's lastSeq 7, so that the drop of 7 is not above what it has shown.)
  send(6, 1, 7);
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

test('without the urgent lane, group commit is bounded as before it: a group that reaches maxReadings or maxBatches is written at once, the rest at the end of the turn', async (t) => {
  const byReadings = setup(t, { maxReadings: 5, maxWaitMs: 60_000 }, false);
  byReadings.send(1, 3);
  assert.deepEqual(byReadings.groups, [], 'below the bound: waits for the end of the turn');
  byReadings.send(4, 3);
  assert.deepEqual(byReadings.groups, [2], '6 readings ≥ 5: written at once, its ack sent');
  assert.deepEqual(byReadings.acks.map(([, a]) => a), [{ upTo: 6 }]);
  byReadings.send(7, 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(byReadings.groups, [2, 1]);

  const byBatches = setup(t, { maxBatches: 2, maxWaitMs: 60_000 }, false);
  for (let i = 0; i < 5; i++) byBatches.send(1 + i, 1);
  assert.deepEqual(byBatches.groups, [2, 2]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(byBatches.groups, [2, 2, 1]);
  assert.equal(byBatches.store.upTo(GW), 5);
});

test('group commit is bounded in time: with maxWaitMs 0 no batch waits for another', (t) => {
  const { groups, acks, send } = setup(t, { maxWaitMs: 0 });
  send(1, 2);
  send(3, 2);
  assert.deepEqual(groups, [1, 1]);
  assert.deepEqual(acks.map(([, a]) => a), [{ upTo: 2 }, { upTo: 4 }]);
});

test('group commit: a batch whose write fails is refused alone; the rest of its group is stored and acknowledged', async (t) => {
  const { store, acks, send } = setup(t);
  const realWriteBatches = store.writeBatches;
  store.writeBatches = function (this: typeof store, b: readonly BatchInput[], within?: (r: readonly WriteResult[]) => void) {
    if (b.some((x) => x.firstSeq === 4)) throw new Error('disk says no');
    return realWriteBatches.call(this, b, within);
  };
  send(1, 3);
  send(4, 2);
  send(6, 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(acks.map(([, a]) => a), [{ upTo: 3 }]);
  assert.deepEqual(store.storedSeqs(GW, 0, 100), [1, 2, 3, 6]);
});

// ---------------------------------------------------------------------------------------------
// With the real alert engine: the rules run inside the group's transaction.

const NOW = T0 + 3_600_000;
/** Without the urgent lane: these batches change alerts, and the lane would commit each alone. */
const withEngine = (t: TestLike, spy?: (r: Reading) => void) => ingestRig(t, { now: () => NOW, urgentLane: false, ...(spy ? { wrap: spyOnReadings(spy) } : {}) });

test('group commit with alerts: the rules see the readings inside their transaction; changes are announced only after the one commit', async (t) => {
  const atRule: Array<{ inTransaction: boolean; committedReadings: number }> = [];
  const r = withEngine(t, () => atRule.push({ inTransaction: r.store.db.inTransaction, committedReadings: r.count('readings') }));
  const atChange: Array<{ inTransaction: boolean; readings: number; alertEvents: number; cursors: number; acks: number }> = [];
  r.engine.on('change', () =>
    atChange.push({ inTransaction: r.store.db.inTransaction, readings: r.count('readings'), alertEvents: r.count('alert_events'), cursors: r.count('alert_cursors'), acks: r.acks.length }),
  );
  r.send([wl(0.5, T0), wl(1.2, T0 + 1000)]); // raises level 1
  r.send([wl(2.2, T0 + 2000)]); // escalates to 2
  await r.turn();

  assert.equal(atRule.length, 3);
  assert.ok(atRule.every((x) => x.inTransaction && x.committedReadings === 0), 'rules ran inside the transaction that writes the readings, before its commit');
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2']);
  assert.deepEqual(atChange, [
    { inTransaction: false, readings: 3, alertEvents: 2, cursors: 1, acks: 0 },
    { inTransaction: false, readings: 3, alertEvents: 2, cursors: 1, acks: 0 },
  ], 'announced after readings, alert events and cursor were committed together');
  assert.deepEqual(r.acks, [3], 'one ack for the group');
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
});

test("group commit with alerts: when the group's transaction fails after the rules ran, nothing is announced and the engine stays as the database", async (t) => {
  const r = withEngine(t);
  const realWriteBatches = r.store.writeBatches.bind(r.store);
  let fail: 'groups' | 'all' | 'none' = 'groups';
  // Fails at the end of the transaction, after the alert rules have staged their changes.
  r.store.writeBatches = (b: readonly BatchInput[], within?: (res: readonly WriteResult[]) => void) =>
    realWriteBatches(b, (res) => {
      within?.(res);
      if (fail === 'all' || (fail === 'groups' && b.length > 1)) throw new Error('injected: commit failed');
    });

  // The group of two fails; each batch is then written alone and evaluated again from the committed state.
  r.send([wl(1.2, T0)]);
  r.send([wl(2.2, T0 + 1000)]);
  await r.turn();
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2'], 'each change once: the failed group left no staged state behind');
  assert.deepEqual(r.acks, [2]);
  const [active] = r.store.alerts.active();
  assert.equal(active?.level, 2);
  assert.ok(r.changes.every((c) => c.alert.id === active!.id));
  assert.equal(r.count('alert_events'), 2);

  // A lone batch that fails: not stored, not acknowledged, no change announced, engine unchanged.
  fail = 'all';
  const first = r.send([wl(0.2, T0 + 2000)]);
  await r.turn();
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2']);
  assert.deepEqual(r.acks, [2]);
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
  assert.equal(r.store.alerts.active()[0]?.level, 2);
  assert.deepEqual(r.store.alerts.cursors().map((c) => c.lastTs), [T0 + 1000]);

  // The gateway resends it: evaluated from the state the database has.
  fail = 'none';
  r.send([wl(0.2, T0 + 2000)], first);
  await r.turn();
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2', 'cleared:0']);
  assert.deepEqual(r.acks, [2, 3]);
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 0);
  assert.deepEqual(r.store.alerts.active(), []);
});

test('group commit with alerts: a rule that throws does not hold readings back; the batch is stored and acknowledged without it, the rest of the group is evaluated', async (t) => {
  const r = withEngine(t, (reading) => {
    if (reading.value === 7.77) throw new Error('rule bug');
  });
  r.send([wl(1.2, T0)]);
  r.send([wl(7.77, T0 + 1000), wl(3.9, T0 + 2000)]);
  r.send([wl(2.2, T0 + 3000)]);
  await r.turn();
  assert.deepEqual(r.acks, [4]);
  assert.equal(r.count('readings'), 4);
  assert.deepEqual(r.kinds(), ['raised:1', 'escalated:2'], 'batch 2 left no alert state (not even part of it); batch 3 was evaluated');
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
  assert.equal(metricValue(await r.metrics.registry.metrics(), 'ioc_hub_rejected_total', { reason: 'internal_error' }), 1);
  assert.deepEqual(r.logs.filter((l) => l.level >= 50).map((l) => l.msg), ['alert evaluation failed; readings stored without it']);
});

test('urgent lane, with the real rules: a BĐ3 crossing is stored, acknowledged and announced at once, ahead of the routine batches of other gateways queued before it', async (t) => {
  const r = ingestRig(t, { now: () => NOW });
  const other = (first: number, n: number) =>
    dispatch(r.ctx, `ioc/v1/${GW2}/telemetry`, Buffer.from(JSON.stringify(batch(GW2, first, Array.from({ length: n }, (_, i) => wl(0.5, T0 + (first + i) * 1000, 'good', 'wl-other'))))));
  r.send([wl(0.5, T0)]); // routine
  other(1, 3); // routine, another gateway
  assert.deepEqual(r.acks, []);
  r.send([wl(3.6, T0 + 1000)]); // crosses BĐ3
  assert.deepEqual(r.kinds(), ['raised:3'], 'announced before the turn ends');
  assert.deepEqual(r.acks, [2], "its gateway's earlier batch went with it, in order, and one ack covers both");
  assert.deepEqual(r.store.storedSeqs(GW, 0, 10), [1, 2]);
  assert.equal(r.store.upTo(GW2), 0, "the other gateway's routine batch still waits");
  await r.turn();
  assert.equal(r.store.upTo(GW2), 3);
  assert.deepEqual(r.acks, [2, 3]);
  // Once raised, more of the same is routine again.
  r.send([wl(3.7, T0 + 2000)]);
  assert.deepEqual(r.acks, [2, 3]);
  await r.turn();
  assert.deepEqual(r.acks, [2, 3, 3]);
  assert.deepEqual(r.kinds(), ['raised:3']);
});
