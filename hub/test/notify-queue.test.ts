/**
 * The notification queue and dispatcher on a real hub.db: durable across a restart, nothing lost
 * between an alert's commit and its enqueue (recovered from the alert history), retries with
 * backoff, dead letters and their replay, escalation fired and cancelled by an acknowledgement,
 * per-channel concurrency (a slow channel does not hold another), routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import type { HubDatabase } from '../src/db/database.js';
import { clockWindow, createAdmission } from '../src/ingest/admission.js';
import type { NotifyConfig, NotifyRoute } from '../src/notify/config.js';
import { alertHistorySource, alertStateOf } from '../src/notify/from-alert.js';
import { channelsFor } from '../src/notify/routes.js';
import { NotifyService, type NotifyServiceOptions } from '../src/notify/service.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { channelConfig, fakeClock, notification, notifyConfig, notifyDb, PERMANENT, scriptedChannels, TRANSIENT } from './notify-fixtures.js';
import { alertStack, metricValue, silentLogger, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

const ALL: NotifyRoute = { channels: ['ops'], areas: ['*'], includeExercise: false };

function service(db: HubDatabase, config: NotifyConfig, o: Partial<NotifyServiceOptions> & { channels: ReturnType<typeof scriptedChannels> }) {
  const { channels, ...rest } = o;
  return new NotifyService({
    db, config, logger: silentLogger(), version: 'test', alertState: () => undefined, channelTypes: [channels.type],
    // Pinned jitter: each wait is the backoff's cap (initial · 2^n).
    random: () => 1, pollMs: 3_600_000, ...rest,
  });
}

const rowOf = (svc: NotifyService, channel = 'ops') => svc.list({ channel, limit: 10 }, SYSTEM_SCOPE)[0];

/** The alert side of a hub on this database: store and flood-level engine. */
function alertSide(db: HubDatabase, dir: string) {
  const resolved = resolveHubConfig(testConfig(dir), dir);
  const registry = buildRegistry(resolved.registry);
  const store = openSqliteStore({ db, admit: createAdmission(registry, clockWindow(resolved.ingest)), maxClockSkewMs: resolved.ingest.maxClockSkewMs });
  // Each rise in these tests is its own episode (no flapping window).
  const { engine, views, actions } = alertStack(store, registry, { flapWindowMs: 0 });
  const view = (id: number) => views.get(id, SYSTEM_SCOPE);
  return {
    store, engine, views, actions, view,
    history: alertHistorySource(db, view),
    alertState: (id: number) => {
      const a = view(id);
      return a && alertStateOf(a);
    },
  };
}

test('a queued notification survives a restart: queued and tried once, hub stopped, delivered after reopening', async (t) => {
  const { open } = notifyDb(t);
  const clock = fakeClock();
  const config = notifyConfig({ channels: [channelConfig({ id: 'ops', type: 'test' })], routes: [ALL] });
  let db = open();
  const first = scriptedChannels();
  first.script('ops', [TRANSIENT]);
  const a = service(db, config, { channels: first, now: clock.now });
  a.start();
  assert.equal(a.accept(notification()), 1);
  await until(() => rowOf(a)?.attempts === 1, 'the first attempt');
  await a.close();
  db.close();

  db = open();
  const second = scriptedChannels();
  const b = service(db, config, { channels: second, now: clock.now });
  t.after(() => b.close());
  b.start();
  assert.equal(second.calls.length, 0, 'not before its backoff');
  clock.advance(1000);
  b.tick();
  await until(() => rowOf(b)?.status === 'delivered', 'delivery after the restart');
  assert.equal(second.delivered.length, 1);
  assert.equal(second.delivered[0]!.n.id, notification().id);
  assert.deepEqual(rowOf(b)!.attemptLog.map((x) => [x.attempt, x.outcome]), [[1, 'retry'], [2, 'delivered']]);
  assert.equal(second.calls[0]!.attempt, 2);
});

test('an alert change committed but never queued (crash between commit and enqueue) is recovered from the alert history at start', async (t) => {
  const { dir, open } = notifyDb(t);
  const config = notifyConfig({ channels: [channelConfig({ id: 'ops', type: 'test' })], routes: [ALL] });
  let db = open();
  let side = alertSide(db, dir);
  const before = scriptedChannels();
  const a = service(db, config, { channels: before, history: side.history });
  side.engine.on('change', (c) => a.onAlertChange(c));
  const now = Date.now();
  side.engine.evaluate([wl(2.5, now - 2000)]); // raised, level 2: queued by the live path
  side.engine.removeAllListeners('change'); // the "crash": the next change commits, nobody queues it
  side.engine.evaluate([wl(3.6, now - 1000)]); // escalated, level 3
  assert.deepEqual(a.list({ limit: 10 }, SYSTEM_SCOPE).map((r) => r.eventKind), ['raised']);
  await a.close();
  side.store.close();
  db.close();

  db = open();
  side = alertSide(db, dir);
  const after = scriptedChannels();
  const b = service(db, config, { channels: after, history: side.history });
  t.after(() => b.close());
  b.start();
  await until(() => after.delivered.length === 2, 'both events delivered');
  assert.deepEqual(after.delivered.map((d) => [d.n.eventKind, d.n.level]).sort(), [['escalated', 3], ['raised', 2]]);
  const raised = after.delivered.find((d) => d.n.eventKind === 'raised')!.n;
  assert.match(raised.message.vi, /Kim Long/, "the live path's message is kept");
  // Started again: nothing is queued twice.
  b.tick();
  b.tick();
  assert.equal(b.list({ limit: 10 }, SYSTEM_SCOPE).length, 2);
});

test('the first start does not notify the alert history from before notifications existed', async (t) => {
  const { dir, open } = notifyDb(t);
  const db = open();
  const side = alertSide(db, dir);
  side.engine.evaluate([wl(2.5, Date.now() - 1000)]);
  const ch = scriptedChannels();
  const svc = service(db, notifyConfig({ channels: [channelConfig({ id: 'ops', type: 'test' })], routes: [ALL] }), { channels: ch, history: side.history });
  t.after(() => svc.close());
  svc.start();
  svc.tick();
  svc.tick();
  assert.equal(svc.list({ limit: 10 }, SYSTEM_SCOPE).length, 0);
  // What happens from now on is notified.
  side.engine.on('change', (c) => svc.onAlertChange(c));
  side.engine.evaluate([wl(0.2, Date.now())]);
  await until(() => ch.delivered.length === 1, 'the clear');
  assert.equal(ch.delivered[0]!.n.eventKind, 'cleared');
});

test('retries with exponential backoff (the shared Backoff), every attempt recorded, then delivered; metrics count them', async (t) => {
  const { open } = notifyDb(t);
  const clock = fakeClock();
  const registry = new Registry();
  const ch = scriptedChannels();
  ch.script('ops', [TRANSIENT, { ok: false, permanent: false, error: 'ECONNREFUSED: connect' }]);
  const svc = service(open(), notifyConfig({ channels: [channelConfig({ id: 'ops', type: 'test' })], routes: [ALL] }), { channels: ch, now: clock.now, metricsRegistry: registry });
  t.after(() => svc.close());
  svc.start();
  const t0 = clock.now();
  svc.accept(notification());
  await until(() => rowOf(svc)?.attempts === 1, 'attempt 1');
  assert.equal(rowOf(svc)!.nextAt, t0 + 1000, 'first wait: initialMs');
  svc.tick();
  assert.equal(ch.calls.length, 1, 'not due yet');
  clock.advance(1000);
  svc.tick();
  await until(() => rowOf(svc)?.attempts === 2, 'attempt 2');
  assert.equal(rowOf(svc)!.nextAt, t0 + 1000 + 2000, 'second wait doubles');
  assert.equal(rowOf(svc)!.lastError, 'ECONNREFUSED: connect');
  clock.advance(2000);
  svc.tick();
  await until(() => rowOf(svc)?.status === 'delivered', 'delivered');
  const row = rowOf(svc)!;
  assert.deepEqual(row.attemptLog.map((a) => a.outcome), ['retry', 'retry', 'delivered']);
  assert.deepEqual(row.attemptLog.map((a) => a.error), ['HTTP 503: busy', 'ECONNREFUSED: connect', null]);
  assert.equal(row.lastError, null);
  const text = await registry.metrics();
  assert.equal(metricValue(text, 'ioc_hub_notify_sent_total', { channel: 'ops' }), 1);
  assert.equal(metricValue(text, 'ioc_hub_notify_failed_total', { channel: 'ops', class: 'transient' }), 2);
  assert.equal(metricValue(text, 'ioc_hub_notify_queue_depth', { channel: 'ops' }), 0);
});

test('dead letters: at once on a permanent failure, after maxAttempts, or when too old; an admin lists and replays them', async (t) => {
  const { open } = notifyDb(t);
  const clock = fakeClock();
  const registry = new Registry();
  const ch = scriptedChannels();
  ch.script('hook', [PERMANENT]);
  ch.script('mail', [TRANSIENT, TRANSIENT]);
  ch.behave.slowpoke = () => TRANSIENT;
  const config = notifyConfig({
    channels: [
      channelConfig({ id: 'hook', type: 'test' }),
      channelConfig({ id: 'mail', type: 'test', maxAttempts: 2 }),
      channelConfig({ id: 'slowpoke', type: 'test', maxAgeMinutes: 1, retry: { initialMs: 50_000, maxMs: 50_000 } }),
    ],
    routes: [{ channels: ['hook', 'mail', 'slowpoke'], areas: ['*'], includeExercise: false }],
  });
  const svc = service(open(), config, { channels: ch, now: clock.now, metricsRegistry: registry });
  t.after(() => svc.close());
  svc.start();
  svc.accept(notification());
  await until(() => rowOf(svc, 'hook')?.status === 'dead', 'hook dead at once');
  assert.equal(rowOf(svc, 'hook')!.attempts, 1);
  assert.match(rowOf(svc, 'hook')!.deadReason!, /^permanent failure: HTTP 400/);

  await until(() => rowOf(svc, 'mail')?.attempts === 1 && rowOf(svc, 'slowpoke')?.attempts === 1, 'first attempts');
  clock.advance(50_000);
  svc.tick();
  await until(() => rowOf(svc, 'mail')?.status === 'dead', 'mail dead after 2 attempts');
  assert.equal(rowOf(svc, 'mail')!.deadReason, '2 attempts failed');
  await until(() => rowOf(svc, 'slowpoke')?.attempts === 2 || rowOf(svc, 'slowpoke')?.status !== 'pending', 'slowpoke retried');
  clock.advance(60_000);
  svc.tick();
  await until(() => rowOf(svc, 'slowpoke')?.status === 'dead', 'slowpoke expired');
  assert.match(rowOf(svc, 'slowpoke')!.deadReason!, /^expired: not delivered within 1 min/);
  assert.deepEqual(rowOf(svc, 'slowpoke')!.attemptLog.map((a) => a.outcome), ['retry', 'retry'], 'expired waiting: no third attempt');

  const dead = svc.list({ status: 'dead', limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(dead.map((r) => r.channel).sort(), ['hook', 'mail', 'slowpoke']);
  const text = await registry.metrics();
  assert.equal(metricValue(text, 'ioc_hub_notify_dead_total', { channel: 'hook' }), 1);
  assert.equal(metricValue(text, 'ioc_hub_notify_dead_letters', { channel: 'mail' }), 1);
  assert.equal(metricValue(text, 'ioc_hub_notify_failed_total', { channel: 'hook', class: 'permanent' }), 1);

  // Replay: the receiver is fixed; a fresh attempt count and age, delivered.
  const hook = rowOf(svc, 'hook')!;
  const audited: number[] = [];
  const r = svc.replay(hook.id, SYSTEM_SCOPE, (row) => audited.push(row.id));
  assert.ok(r.ok);
  assert.deepEqual(audited, [hook.id]);
  await until(() => rowOf(svc, 'hook')?.status === 'delivered', 'replayed and delivered');
  assert.equal(rowOf(svc, 'hook')!.replays, 1);
  assert.deepEqual(rowOf(svc, 'hook')!.attemptLog.map((a) => a.outcome), ['dead', 'delivered']);
  const again = svc.replay(hook.id, SYSTEM_SCOPE);
  assert.ok(!again.ok && again.code === 'conflict', 'only a dead letter can be replayed');
  const missing = svc.replay(9999, SYSTEM_SCOPE);
  assert.ok(!missing.ok && missing.code === 'not_found');
  // Outside the caller's scope it does not exist.
  assert.equal(svc.get(hook.id, { all: false, ids: new Set(['other-device']) }), undefined);
  // Everything dead at once, once the receivers are back.
  ch.behave.slowpoke = () => ({ ok: true });
  assert.equal(svc.replayDead(undefined, SYSTEM_SCOPE).length, 2);
  await until(() => svc.list({ status: 'delivered', limit: 10 }, SYSTEM_SCOPE).length === 3, 'all delivered');
});

test('a channel that throws or never answers is a retry, not a stuck slot', async (t) => {
  const { open } = notifyDb(t);
  const ch = scriptedChannels();
  ch.behave.boom = () => {
    throw new Error('boom');
  };
  ch.behave.hang = () => new Promise(() => undefined);
  const config = notifyConfig({
    channels: [channelConfig({ id: 'boom', type: 'test' }), channelConfig({ id: 'hang', type: 'test', timeoutMs: 100 })],
    routes: [{ channels: ['boom', 'hang'], areas: ['*'], includeExercise: false }],
  });
  const svc = service(open(), config, { channels: ch, graceMs: 10 });
  t.after(() => svc.close());
  svc.start();
  svc.accept(notification());
  await until(() => rowOf(svc, 'boom')?.attempts === 1 && rowOf(svc, 'hang')?.attempts === 1, 'both attempts recorded');
  assert.equal(rowOf(svc, 'boom')!.attemptLog[0]!.error, 'channel failed: boom');
  assert.equal(rowOf(svc, 'boom')!.status, 'pending');
  assert.match(rowOf(svc, 'hang')!.attemptLog[0]!.error!, /^abandoned: no outcome within 100 ms/);
});

test('per-channel concurrency: a slow channel holds only its own slots, the others deliver', async (t) => {
  const { open } = notifyDb(t);
  const ch = scriptedChannels();
  const slow = ch.hold('slow');
  const config = notifyConfig({
    channels: [channelConfig({ id: 'slow', type: 'test', concurrency: 2 }), channelConfig({ id: 'fast', type: 'test' })],
    routes: [{ channels: ['slow', 'fast'], areas: ['*'], includeExercise: false }],
  });
  const svc = service(open(), config, { channels: ch });
  t.after(() => svc.close());
  svc.start();
  for (let i = 0; i < 5; i++) svc.accept(notification({ ts: 1_700_000_000_000 + i }));
  await until(() => ch.delivered.filter((d) => d.channel === 'fast').length === 5, 'fast delivered all');
  assert.equal(slow.waiting(), 2, 'the slow channel has exactly its 2 slots in flight');
  assert.equal(ch.calls.filter((c) => c.channel === 'slow').length, 2);
  slow.release();
  await until(() => ch.delivered.filter((d) => d.channel === 'slow').length === 5, 'slow delivered all once released');
});

test('escalation: not acknowledged within N minutes goes to the next tier, once; an acknowledgement cancels it', async (t) => {
  const { dir, open } = notifyDb(t);
  const db = open();
  const side = alertSide(db, dir);
  const clock = fakeClock(Date.now());
  const ch = scriptedChannels();
  const config = notifyConfig({
    channels: [channelConfig({ id: 'duty', type: 'test' }), channelConfig({ id: 'director', type: 'test' })],
    routes: [{ channels: ['duty'], areas: ['*'], includeExercise: false }],
    escalation: [{ afterMinutes: 10, channels: ['director'], areas: ['46'], minSeverity: 'moderate', includeExercise: false }],
  });
  const svc = service(db, config, { channels: ch, now: clock.now, history: side.history, alertState: side.alertState });
  t.after(() => svc.close());
  side.engine.on('change', (c) => svc.onAlertChange(c));
  svc.start();
  const director = () => ch.delivered.filter((d) => d.channel === 'director');

  // Alert A: nobody acknowledges.
  side.engine.evaluate([wl(2.5, Date.now() - 60_000)]);
  const a = side.views.list({ limit: 1, scope: SYSTEM_SCOPE })[0]!;
  clock.advance(9 * 60_000);
  svc.tick();
  assert.equal(svc.list({ channel: 'director', limit: 10 }, SYSTEM_SCOPE).length, 0, 'not before 10 minutes');
  clock.advance(60_000);
  svc.tick();
  await until(() => director().length === 1, 'escalated to the director');
  const e = director()[0]!.n;
  assert.equal(e.eventKind, 'unacknowledged');
  assert.equal(e.alertId, a.id);
  assert.deepEqual(e.escalation, { tier: 0, afterMinutes: 10 });
  assert.match(e.message.vi, /^Chưa được xác nhận sau 10 phút: /);
  clock.advance(60 * 60_000);
  svc.tick();
  svc.tick();
  assert.equal(svc.list({ channel: 'director', limit: 10 }, SYSTEM_SCOPE).length, 1, 'once per tier per alert');
  side.actions.acknowledge(a.id, 'seen', { by: 'amy', scope: SYSTEM_SCOPE });
  side.engine.evaluate([wl(0.2, Date.now() - 30_000)]); // A clears

  // Alert B: acknowledged after 5 minutes — its escalation is cancelled.
  side.engine.evaluate([wl(2.5, Date.now() - 20_000)]);
  const b = side.views.list({ limit: 1, scope: SYSTEM_SCOPE })[0]!;
  assert.notEqual(b.id, a.id);
  clock.advance(5 * 60_000);
  side.actions.acknowledge(b.id, 'on it', { by: 'amy', scope: SYSTEM_SCOPE });
  assert.equal(svc.queue.escalationsOf(b.id)[0]!.state, 'cancelled');
  clock.advance(10 * 60_000);
  svc.tick();
  side.engine.evaluate([wl(0.2, Date.now() - 10_000)]); // B clears

  // Alert C: acknowledged while the notifier missed the acknowledgement — the state at the due time decides.
  side.engine.evaluate([wl(2.5, Date.now() - 5_000)]);
  const c = side.views.list({ limit: 1, scope: SYSTEM_SCOPE })[0]!;
  side.engine.removeAllListeners('change');
  side.actions.acknowledge(c.id, 'on it', { by: 'amy', scope: SYSTEM_SCOPE });
  clock.advance(10 * 60_000);
  svc.tick();
  assert.equal(svc.queue.escalationsOf(c.id)[0]!.state, 'cancelled');
  await svc.idle();
  assert.equal(director().length, 1, 'only alert A was escalated');
});

test('routes choose channels by area, severity, level, kind, category, event and drill', () => {
  const routes: NotifyRoute[] = [
    { channels: ['all'], areas: ['*'], includeExercise: false },
    { channels: ['hue-commune'], areas: ['19816'], includeExercise: false },
    { channels: ['other-province'], areas: ['48'], includeExercise: false },
    { channels: ['severe'], areas: ['46'], minSeverity: 'severe', includeExercise: false },
    { channels: ['fire'], areas: ['*'], categories: ['fire'], includeExercise: false },
    { channels: ['flood-kind'], areas: ['*'], kinds: ['flood-level'], levels: [2, 3], includeExercise: false },
    { channels: ['raise-only'], areas: ['*'], events: ['raised'], includeExercise: false },
    { channels: ['drills'], areas: ['*'], includeExercise: true },
  ];
  assert.deepEqual(channelsFor(notification(), routes), ['all', 'hue-commune', 'flood-kind', 'raise-only', 'drills']);
  assert.deepEqual(channelsFor(notification({ peakSeverity: 'severe', peakLevel: 3, eventKind: 'cleared', level: 0 }), routes), ['all', 'hue-commune', 'severe', 'flood-kind', 'drills']);
  assert.deepEqual(channelsFor(notification({ exercise: true }), routes), ['drills'], 'a drill only where drills are asked for');
  assert.deepEqual(channelsFor(notification({ category: 'fire', ruleKind: 'fire', area: { communeCode: '20194', provinceCode: '48' } }), routes), ['all', 'other-province', 'fire', 'raise-only', 'drills']);
});
