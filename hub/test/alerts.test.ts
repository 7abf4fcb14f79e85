import { SYSTEM_SCOPE } from '../src/store/types.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { AlertActionError, AlertEngine } from '../src/alerts/engine.js';
import { FLOOD_LEVEL_RULE, floodLevel, floodLevelRule } from '../src/alerts/rules/flood-level.js';
import type { AlertChange } from '../src/alerts/types.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { GW, KIM_LONG, silentLogger, tempDir, testConfig, wl } from './helpers.js';

const T0 = 1_700_000_000_000;
const NOW = T0 + 3_600_000;

interface Rig {
  store: SqliteStore;
  engine: AlertEngine;
  changes: AlertChange[];
  /** Stores a batch as ingest does and evaluates the fresh readings. */
  feed(...readings: Reading[]): AlertChange[];
  close(): void;
}

function rig(dir: string, opts: { hysteresisM?: number } = {}): Rig {
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  const engine = new AlertEngine({ store, registry, rules: [floodLevelRule(opts)], logger: silentLogger(), now: () => NOW });
  const changes: AlertChange[] = [];
  engine.on('change', (c) => changes.push(c));
  engine.start();
  let seq = store.upTo(GW);
  return {
    store,
    engine,
    changes,
    feed(...readings) {
      const res = store.writeBatch(GW, seq + 1, readings);
      seq += readings.length;
      return engine.evaluate(res.fresh);
    },
    close: () => store.close(),
  };
}

const levels = (c: AlertChange[]) => c.map((x) => `${x.event.kind}:${x.event.level}`);

test('floodLevel: thresholds and hysteresis', () => {
  const l = [1, 2, 3.5];
  assert.deepEqual([0.99, 1, 1.99, 2, 3.49, 3.5, 9].map((v) => floodLevel(l, 0, v)), [0, 1, 1, 2, 2, 3, 3]);
  assert.equal(floodLevel(l, 2, 1.95, 0.1), 2, 'holds level 2 within the hysteresis band');
  assert.equal(floodLevel(l, 2, 1.85, 0.1), 1);
  assert.equal(floodLevel(l, 1, 0.95, 0.1), 1);
  assert.equal(floodLevel(l, 1, 0.85, 0.1), 0);
  assert.equal(floodLevel(l, 3, 0.5, 0.1), 0, 'a fall past every band clears');
});

test('a rise through BĐ1→BĐ2→BĐ3 is one episode with history 1→2→3; the fall clears it; a new rise opens a new one', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());

  assert.deepEqual(r.feed(wl(0.5, T0), wl(0.9, T0 + 1000)), []);
  assert.deepEqual(levels(r.feed(wl(1.2, T0 + 2000))), ['raised:1']);
  assert.deepEqual(levels(r.feed(wl(1.5, T0 + 3000), wl(2.12, T0 + 4000))), ['escalated:2']);
  const c = r.feed(wl(3.6, T0 + 5000), wl(3.7, T0 + 6000));
  assert.deepEqual(levels(c), ['escalated:3']);
  assert.equal(c[0]!.message.vi, 'Báo động cấp 3 — Trạm Kim Long (sông Hương): 3.60 m');
  assert.equal(c[0]!.message.en, 'Alarm level 3 — Kim Long station (Hương river): 3.60 m');

  let alerts = r.engine.list({ dev: KIM_LONG, scope: SYSTEM_SCOPE });
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.deepEqual([a.level, a.maxLevel, a.state, a.active, a.openedAt], [3, 3, 'open', true, T0 + 2000]);
  assert.deepEqual(a.history.map((h) => [h.kind, h.level, h.value, h.ts]), [
    ['raised', 1, 1.2, T0 + 2000],
    ['escalated', 2, 2.12, T0 + 4000],
    ['escalated', 3, 3.6, T0 + 5000],
  ]);
  assert.equal(a.message.vi, 'Báo động cấp 3 — Trạm Kim Long (sông Hương): 3.60 m');

  assert.deepEqual(levels(r.feed(wl(2.5, T0 + 7000))), ['deescalated:2']);
  const cleared = r.feed(wl(0.8, T0 + 8000));
  assert.deepEqual(levels(cleared), ['cleared:0']);
  assert.equal(cleared[0]!.message.vi, 'Hết báo động (cao nhất cấp 3) — Trạm Kim Long (sông Hương): 0.80 m');
  const after = r.engine.get(a.id, SYSTEM_SCOPE)!;
  assert.deepEqual([after.level, after.maxLevel, after.active, after.state, after.clearedAt], [0, 3, false, 'open', T0 + 8000]);

  assert.deepEqual(levels(r.feed(wl(1.1, T0 + 9000))), ['raised:1']);
  alerts = r.engine.list({ dev: KIM_LONG, scope: SYSTEM_SCOPE });
  assert.equal(alerts.length, 2);
  assert.notEqual(alerts[0]!.id, a.id);
  assert.deepEqual(alerts.map((x) => x.active), [true, false]);
  assert.deepEqual(r.changes.map((x) => x.event.kind), ['raised', 'escalated', 'escalated', 'deescalated', 'cleared', 'raised']);
});

test('out-of-order (backlog) readings are stored but never change the alert state', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(2.4, T0 + 60_000));
  assert.equal(r.engine.levelOf(FLOOD_LEVEL_RULE, KIM_LONG, 'water_level'), 2);
  // A backlog drained after live data: older readings, low then very high.
  assert.deepEqual(r.feed(wl(0.3, T0 + 10_000), wl(3.9, T0 + 20_000), wl(0.2, T0 + 60_000)), []);
  assert.equal(r.engine.levelOf(FLOOD_LEVEL_RULE, KIM_LONG, 'water_level'), 2);
  const a = r.engine.list({ dev: KIM_LONG, scope: SYSTEM_SCOPE });
  assert.equal(a.length, 1);
  assert.deepEqual(a[0]!.history.map((h) => h.kind), ['raised']);
  const stored = r.store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: 0, to: NOW, limit: 10 }, SYSTEM_SCOPE);
  assert.equal(stored.kind === 'raw' && stored.rows.length, 4, 'the old readings are history in the store');
  // Live data moves on from the newest evaluated time.
  assert.deepEqual(levels(r.feed(wl(0.5, T0 + 61_000))), ['cleared:0']);
});

test('readings of quality bad, without a value or dated in the future do not change the state', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  assert.deepEqual(r.feed(wl(5, T0, 'bad'), wl(null, T0 + 1, 'bad'), wl(4, NOW + 3_600_000)), []);
  assert.deepEqual(levels(r.feed(wl(1.5, T0 + 2, 'uncertain'))), ['raised:1']);
});

test('hysteresis: a river hovering at BĐ2 does not flap', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir, { hysteresisM: 0.1 });
  t.after(() => r.close());
  const c = r.feed(wl(2.05, T0), wl(1.97, T0 + 1), wl(2.02, T0 + 2), wl(1.92, T0 + 3), wl(1.85, T0 + 4), wl(0.95, T0 + 5), wl(0.89, T0 + 6));
  assert.deepEqual(levels(c), ['raised:2', 'deescalated:1', 'cleared:0']);
});

test('alert state is restored after a reopen, and readings stored but never evaluated are caught up', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let r = rig(dir);
  r.feed(wl(1.2, T0), wl(2.2, T0 + 1000), wl(3.6, T0 + 2000));
  const id = r.engine.list({ scope: SYSTEM_SCOPE })[0]!.id;
  // Stored but the hub "crashed" before evaluating them.
  r.store.writeBatch(GW, 4, [wl(2.5, T0 + 3000)]);
  r.close();

  r = rig(dir);
  t.after(() => r.close());
  assert.deepEqual(levels(r.changes), ['deescalated:2'], 'caught up from the store at start');
  assert.equal(r.engine.levelOf(FLOOD_LEVEL_RULE, KIM_LONG, 'water_level'), 2);
  assert.deepEqual(r.feed(wl(2.4, T0 + 4000)), [], 'same level: nothing new');
  assert.deepEqual(r.feed(wl(0.1, T0 + 1500)), [], 'older than the restored cursor');
  const c = r.feed(wl(0.5, T0 + 5000));
  assert.deepEqual(levels(c), ['cleared:0']);
  assert.equal(c[0]!.alert.id, id, 'the restored episode is the one that clears');
  assert.equal(r.engine.list({ scope: SYSTEM_SCOPE }).length, 1);
});

test('acknowledge and resolve: conflicts, not found, escalation re-opens', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(1.5, T0));
  const id = r.engine.list({ scope: SYSTEM_SCOPE })[0]!.id;
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof AlertActionError ? err.code : String(err);
    }
    return 'ok';
  };
  assert.equal(code(() => r.engine.acknowledge(999, 'x', undefined)), 'not_found');
  const acked = r.engine.acknowledge(id, 'trực ban A', 'đã gọi trạm');
  assert.deepEqual([acked.state, acked.acknowledgedBy, acked.note], ['acknowledged', 'trực ban A', 'đã gọi trạm']);
  assert.equal(code(() => r.engine.acknowledge(id, 'x', undefined)), 'conflict');
  assert.equal(code(() => r.engine.resolve(id, 'x', undefined)), 'conflict', 'the condition is still present');

  r.feed(wl(2.3, T0 + 1000));
  assert.equal(r.engine.get(id, SYSTEM_SCOPE)!.state, 'open', 'a worse level needs acknowledging again');
  r.engine.acknowledge(id, 'trực ban B', undefined);
  r.feed(wl(0.2, T0 + 2000));
  const resolved = r.engine.resolve(id, 'trực ban B', 'nước đã rút');
  assert.deepEqual([resolved.state, resolved.resolvedBy, resolved.active], ['resolved', 'trực ban B', false]);
  assert.equal(code(() => r.engine.resolve(id, 'x', undefined)), 'conflict');
  assert.deepEqual(resolved.history.map((h) => [h.kind, h.by]), [
    ['raised', null], ['acknowledged', 'trực ban A'], ['escalated', null], ['acknowledged', 'trực ban B'], ['cleared', null], ['resolved', 'trực ban B'],
  ]);
  assert.deepEqual(r.changes.slice(-1).map((c) => [c.event.kind, c.message.en.startsWith('Resolved: ')]), [['resolved', true]]);
  assert.deepEqual(r.store.alerts.unresolvedByLevel(), []);
});
