import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { AlertActionError } from '../src/alerts/lifecycle.js';
import { RuleSet } from '../src/alerts/rule-set.js';
import { RuleSpecError } from '../src/alerts/rule.js';
import type { AlertChange } from '../src/alerts/types.js';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry, type Registry } from '../src/config/registry.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { alertStack, FLOOD_RULE, GW, KIM_LONG, tempDir, testConfig, wl } from './helpers.js';

const T0 = 1_700_000_000_000;

interface Rig extends ReturnType<typeof alertStack> {
  store: SqliteStore;
  registry: Registry;
  clock: { now: number };
  /** Stores a batch as ingest does and evaluates the fresh readings. */
  feed(...readings: Reading[]): AlertChange[];
  close(): void;
}

function rig(dir: string, opts: { rules?: unknown[]; now?: number; lateAfterMs?: number } = {}): Rig {
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  const clock = { now: opts.now ?? T0 + 3_600_000 };
  const stack = alertStack(store, registry, { now: () => clock.now, lateAfterMs: opts.lateAfterMs ?? 1e12, ...(opts.rules ? { rules: opts.rules } : {}), gatewayOnline: () => true });
  let seq = store.upTo(GW);
  return {
    ...stack,
    store,
    registry,
    clock,
    feed(...readings) {
      const res = store.writeBatch(GW, seq + 1, readings);
      seq += readings.length;
      return stack.engine.evaluate(res.fresh);
    },
    close: () => store.close(),
  };
}

const levels = (c: AlertChange[]) => c.map((x) => `${x.event.kind}:${x.event.level}`);
const by = { by: 'user:trucban', scope: SYSTEM_SCOPE };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof AlertActionError ? err.code : String(err);
  }
  return 'ok';
}

test('a rise through BĐ1→BĐ2→BĐ3 is one episode with history 1→2→3; the fall clears it; a new rise later opens a new one', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir, { rules: [{ ...FLOOD_RULE }] });
  t.after(() => r.close());

  assert.deepEqual(r.feed(wl(0.5, T0), wl(0.9, T0 + 1000)), []);
  assert.deepEqual(levels(r.feed(wl(1.2, T0 + 2000))), ['raised:1']);
  assert.deepEqual(levels(r.feed(wl(1.5, T0 + 3000), wl(2.12, T0 + 4000))), ['escalated:2']);
  const c = r.feed(wl(3.6, T0 + 5000), wl(3.7, T0 + 6000));
  assert.deepEqual(levels(c), ['escalated:3']);
  assert.equal(c[0]!.message.vi, 'Báo động III — Trạm Kim Long (sông Hương): 3.60 m');
  assert.equal(c[0]!.message.en, 'Alarm level III — Kim Long station (Hương river): 3.60 m');

  const a = r.views.list({ dev: KIM_LONG, scope: SYSTEM_SCOPE })[0]!;
  assert.deepEqual([a.rule, a.kind, a.category, a.severity, a.level, a.maxLevel, a.state, a.active, a.openedAt], ['flood', 'flood-levels', 'flood', 'extreme', 3, 3, 'open', true, T0 + 2000]);
  assert.deepEqual(a.levelLabel, { vi: 'Báo động III', en: 'Alarm level III' });
  assert.deepEqual(a.history.map((h) => [h.kind, h.level, h.value, h.ts]), [
    ['raised', 1, 1.2, T0 + 2000],
    ['escalated', 2, 2.12, T0 + 4000],
    ['escalated', 3, 3.6, T0 + 5000],
  ]);

  assert.deepEqual(levels(r.feed(wl(2.5, T0 + 7000))), ['deescalated:2']);
  const cleared = r.feed(wl(0.8, T0 + 8000));
  assert.deepEqual(levels(cleared), ['cleared:0']);
  assert.equal(cleared[0]!.message.vi, 'Hết báo động (cao nhất: Báo động III) — Trạm Kim Long (sông Hương): 0.80 m');
  const after = r.views.get(a.id, SYSTEM_SCOPE)!;
  assert.deepEqual([after.level, after.maxLevel, after.active, after.state, after.clearedAt], [0, 3, false, 'cleared', T0 + 8000]);

  // Back after the flapping window: a new episode.
  assert.deepEqual(levels(r.feed(wl(1.1, T0 + 8000 + 31 * 60_000))), ['raised:1']);
  const all = r.views.list({ dev: KIM_LONG, scope: SYSTEM_SCOPE });
  assert.equal(all.length, 2);
  assert.deepEqual(all.map((x) => x.active), [true, false]);
});

test('tiers above BĐ3 and the candidate disaster-risk level of the station zone', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(3.6, T0));
  const c = r.feed(wl(3.85, T0 + 1000), wl(4.6, T0 + 2000));
  assert.deepEqual(levels(c), ['escalated:4', 'escalated:5']);
  assert.equal(c[1]!.alert.levelLabel.vi, 'Trên Báo động III 1.0 m');
  assert.deepEqual(c[1]!.alert.facts.thresholds, [1, 2, 3.5, 3.8, 4.5]);
});

test('the deadband: a radar at 3.49/3.51 m does not flip BĐ2/BĐ3 each poll', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir, { rules: [{ id: 'flood', kind: 'flood-levels' }] });
  t.after(() => r.close());
  const noisy = [3.51, 3.49, 3.52, 3.48, 3.51, 3.47, 3.5].map((v, i) => wl(v, T0 + i * 1000));
  assert.deepEqual(levels(r.feed(...noisy)), ['raised:3']);
  assert.deepEqual(levels(r.feed(wl(3.44, T0 + 10_000))), ['deescalated:2'], 'below the 5 cm deadband it goes down');
});

test('out-of-order (backlog) readings are stored but never change the alert state', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(2.4, T0 + 60_000));
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
  assert.deepEqual(r.feed(wl(0.3, T0 + 10_000), wl(3.9, T0 + 20_000), wl(0.2, T0 + 60_000)), []);
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
  assert.deepEqual(levels(r.feed(wl(0.5, T0 + 61_000))), ['cleared:0']);
});

test('readings of quality bad, without a value or dated in the future do not change the state', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  assert.deepEqual(r.feed(wl(5, T0, 'bad'), wl(null, T0 + 1, 'bad'), wl(4, r.clock.now + 3_600_000)), []);
  assert.deepEqual(levels(r.feed(wl(1.5, T0 + 2, 'uncertain'))), ['raised:1']);
});

test('event time: an episode that began and ended in a backlog is a missed report; one still going on is raised with its true start', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const now = T0 + 6 * 3_600_000;
  const r = rig(dir, { now, lateAfterMs: 120_000 });
  t.after(() => r.close());
  // Two hours old: rose to BĐ2 and fell back while the gateway was offline.
  const missed = r.feed(wl(1.2, now - 7_200_000), wl(2.2, now - 7_100_000), wl(0.5, now - 7_000_000));
  assert.deepEqual(levels(missed), ['missed:0'], 'not rung: one report');
  const m = missed[0]!.alert;
  assert.deepEqual([m.missed, m.state, m.maxLevel, m.openedAt], [true, 'cleared', 2, now - 7_200_000]);
  // Another rise in the backlog, still going on when live data arrives.
  assert.deepEqual(r.feed(wl(1.5, now - 3_600_000), wl(2.5, now - 1_800_000)), [], 'late: held back');
  const live = r.feed(wl(2.6, now - 1000));
  assert.deepEqual(levels(live), ['announced:2']);
  assert.equal(live[0]!.alert.openedAt, now - 3_600_000, 'with its true start');
  assert.equal(live[0]!.alert.late, false);
});

test('a late episode whose backlog ends is announced by the clock', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const now = T0 + 6 * 3_600_000;
  const r = rig(dir, { now, lateAfterMs: 120_000 });
  t.after(() => r.close());
  assert.deepEqual(r.feed(wl(2.5, now - 600_000)), []);
  assert.deepEqual(levels(r.engine.tick()), [], 'within the hold');
  r.clock.now += 31_000;
  assert.deepEqual(levels(r.engine.tick()), ['announced:2']);
});

test('a station that goes silent above BĐ2 keeps its alert open, marked stale, never cleared by silence', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(2.4, r.clock.now - 1000));
  r.clock.now += 60 * 60_000;
  const c = r.engine.tick();
  assert.deepEqual(levels(c), ['stale:2']);
  assert.deepEqual([c[0]!.alert.stale, c[0]!.alert.active, c[0]!.alert.state], [true, true, 'open']);
  r.clock.now += 24 * 3_600_000;
  assert.deepEqual(r.engine.tick(), [], 'still open, nothing more');
  assert.deepEqual(levels(r.feed(wl(2.3, r.clock.now))), ['fresh:2']);
});

test('flapping: the condition back within the window reopens the same alert', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(1.2, T0));
  const id = r.views.list({ scope: SYSTEM_SCOPE })[0]!.id;
  r.actions.acknowledge(id, 'đã gọi trạm', by);
  r.feed(wl(0.8, T0 + 60_000));
  const c = r.feed(wl(1.3, T0 + 120_000), wl(0.7, T0 + 180_000), wl(1.1, T0 + 240_000));
  assert.deepEqual(levels(c), ['reopened:1', 'cleared:0', 'reopened:1']);
  const a = r.views.get(id, SYSTEM_SCOPE)!;
  assert.deepEqual([a.flaps, a.state, a.active], [2, 'acknowledged', true], 'one alert, still acknowledged');
  assert.equal(r.views.list({ scope: SYSTEM_SCOPE }).length, 1);
});

test('lifecycle: acknowledge needs a note, assign, shelve, close only once cleared, escalation reopens', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(1.5, T0));
  const id = r.views.list({ scope: SYSTEM_SCOPE })[0]!.id;
  assert.equal(code(() => r.actions.acknowledge(999, 'x', by)), 'not_found');
  assert.equal(code(() => r.actions.acknowledge(id, '  ', by)), 'invalid');
  const acked = r.actions.acknowledge(id, 'đã gọi trạm', by);
  assert.deepEqual([acked.state, acked.acknowledgedBy, acked.note], ['acknowledged', 'user:trucban', 'đã gọi trạm']);
  assert.equal(code(() => r.actions.acknowledge(id, 'again', by)), 'conflict');
  assert.equal(code(() => r.actions.close(id, 'x', by)), 'conflict', 'the condition is still present');
  const assigned = r.actions.assign(id, 'trucban.ca2', 'bàn giao ca đêm: theo dõi Kim Long', by);
  assert.equal(assigned.assignee, 'trucban.ca2');

  r.feed(wl(2.3, T0 + 1000));
  assert.equal(r.views.get(id, SYSTEM_SCOPE)!.state, 'open', 'a worse level needs acknowledging again');
  r.actions.acknowledge(id, 'ca 2 đã nắm', { ...by, by: 'user:ca2' });
  r.feed(wl(0.2, T0 + 2000));
  assert.equal(r.views.get(id, SYSTEM_SCOPE)!.state, 'cleared');
  const closed = r.actions.close(id, 'nước đã rút', { ...by, by: 'user:ca2' });
  assert.deepEqual([closed.state, closed.closedBy, closed.active], ['closed', 'user:ca2', false]);
  assert.equal(code(() => r.actions.close(id, 'x', by)), 'conflict');
  assert.deepEqual(closed.history.map((h) => [h.kind, h.by]), [
    ['raised', null], ['acknowledged', 'user:trucban'], ['assigned', 'user:trucban'], ['escalated', null], ['acknowledged', 'user:ca2'], ['cleared', null], ['closed', 'user:ca2'],
  ]);
  assert.deepEqual(r.store.alerts.unresolvedByLevel(), []);
});

test('shelving: changes of a shelved target are recorded and marked, and the shelf ends', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir);
  t.after(() => r.close());
  r.feed(wl(1.5, T0));
  const id = r.views.list({ scope: SYSTEM_SCOPE })[0]!.id;
  assert.equal(code(() => r.actions.shelve(id, r.clock.now - 1, 'x', by)), 'invalid');
  assert.equal(code(() => r.actions.shelve(id, r.clock.now + 8 * 86_400_000, 'x', by)), 'invalid');
  r.actions.shelve(id, r.clock.now + 3_600_000, 'kỹ thuật viên đang hiệu chỉnh radar', by);
  const c = r.feed(wl(2.5, T0 + 1000));
  assert.deepEqual(c.map((x) => [x.event.kind, x.shelved]), [['escalated', true]]);
  r.actions.unshelve(id, undefined, by);
  assert.deepEqual(r.feed(wl(3.6, T0 + 2000)).map((x) => x.shelved), [false]);
});

test('alert state is restored after a reopen, and readings stored but never evaluated are caught up', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let r = rig(dir);
  r.feed(wl(1.2, T0), wl(2.2, T0 + 1000), wl(3.6, T0 + 2000));
  const id = r.views.list({ scope: SYSTEM_SCOPE })[0]!.id;
  r.store.writeBatch(GW, 4, [wl(2.5, T0 + 3000)]);
  r.close();

  r = rig(dir);
  t.after(() => r.close());
  assert.deepEqual(levels(r.changes), ['deescalated:2'], 'caught up from the store at start');
  assert.equal(r.engine.levelOf('flood', KIM_LONG), 2);
  assert.deepEqual(r.feed(wl(2.4, T0 + 4000)), [], 'same level: nothing new');
  assert.deepEqual(r.feed(wl(0.1, T0 + 1500)), [], 'older than the restored cursor');
  const c = r.feed(wl(0.5, T0 + 5000));
  assert.deepEqual(levels(c), ['cleared:0']);
  assert.equal(c[0]!.alert.id, id, 'the restored episode is the one that clears');
});

test('gateway offline past its grace and gateway problems are technical alerts', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = rig(dir, { rules: [{ id: 'gw-offline', kind: 'gateway-offline', graceS: 60 }, { id: 'gw-problem', kind: 'gateway-problem' }] });
  t.after(() => r.close());
  const at = r.clock.now;
  assert.deepEqual(r.engine.observeGateway({ gw: GW, online: false, status: null, at }), []);
  r.clock.now = at + 30_000;
  assert.deepEqual(r.engine.tick(), [], 'a short outage wakes nobody');
  r.clock.now = at + 61_000;
  const off = r.engine.tick();
  assert.deepEqual(levels(off), ['raised:1']);
  assert.deepEqual([off[0]!.alert.category, off[0]!.alert.severity, off[0]!.alert.dev, off[0]!.alert.gw], ['technical', 'minor', null, GW]);
  const overCap = { online: true, ts: r.clock.now, outbox: { depth: 9, lastSeq: 9, ackedUpTo: 0, overCap: { rows: 5, bytes: 100, maxRows: 4, maxBytes: 1000 } } };
  const c = r.engine.observeGateway({ gw: GW, online: true, status: overCap as never, at: r.clock.now });
  assert.deepEqual(c.map((x) => `${x.alert.rule}:${x.event.kind}:${x.event.level}`).sort(), ['gw-offline:cleared:0', 'gw-problem:raised:1']);
});

test('rule set: the built-in rules at first start, versions, audited changes, refused specs, hub.yaml wins for the rules it names', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const audit = new SqliteAuditLog(store.db, Buffer.alloc(32, 7));
  const rs = new RuleSet({ alerts: store.alerts, registry, audit, configured: undefined });
  assert.ok(rs.rules.some((r) => r.spec.id === 'flood'), 'built-in flood rule');
  const n = rs.current().length;
  const seen: number[] = [];
  rs.onChange((rules) => seen.push(rules.length));
  const v = rs.put({ id: 'pm25', kind: 'levels', metric: 'pm2_5', thresholds: [55, 150, 250], unit: 'µg/m³' }, { by: 'user:admin', note: 'QCVN 05' });
  assert.equal(v.version, 1);
  rs.put({ id: 'pm25', kind: 'levels', metric: 'pm2_5', thresholds: [50, 150, 250] }, { by: 'user:admin' });
  assert.deepEqual(rs.versions('pm25').map((x) => x.version), [1, 2]);
  assert.throws(() => rs.put({ id: 'bad', kind: 'levels', metric: 'x', thresholds: [3, 2] }, { by: 'user:admin' }), RuleSpecError);
  assert.throws(() => rs.put({ id: 'bad', kind: 'levels', metric: 'x', thresholds: [1], typo: 1 }, { by: 'user:admin' }), /typo: unknown key/);
  rs.delete('pm25', { by: 'user:admin' });
  assert.equal(rs.current().length, n);
  assert.deepEqual(seen, [n + 1, n + 1, n]);
  const actions = audit.list({ limit: 100 }).map((e) => `${e.action}:${e.target}:${e.actor}`);
  assert.ok(actions.includes('rule.created:rule:pm25:user:admin'));
  assert.ok(actions.includes('rule.updated:rule:pm25:user:admin'));
  assert.ok(actions.includes('rule.deleted:rule:pm25:user:admin'));
  assert.equal(audit.verify().ok, true);

  // hub.yaml names rules: they are written, and the next start keeps them without a new version.
  const cfg = [{ id: 'flood', kind: 'flood-levels', deadbandM: 0.1 }];
  new RuleSet({ alerts: store.alerts, registry, audit, configured: cfg });
  const again = new RuleSet({ alerts: store.alerts, registry, audit, configured: cfg });
  assert.equal(again.versions('flood').length, 2, 'built-in v1, hub.yaml v2, unchanged at the next start');
  assert.throws(() => new RuleSet({ alerts: store.alerts, registry, audit, configured: [{ id: 'x', kind: 'nope' }] }), /unknown rule kind/);
});
