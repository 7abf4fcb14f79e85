/**
 * Rule backtest: stored readings of a river station crossing the flood levels, replayed through a
 * rule before it is saved (POST /api/v1/rules/backtest): the episodes it would have raised, a
 * stricter rule raising fewer, the saved rule alongside, refused specs with the key named, admins
 * only, and nothing written (no alert, no audit entry, no rule version).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { backtestRule } from '../src/alerts/backtest.js';
import { startHub } from '../src/hub.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { GW, KIM_LONG, silentLogger, tempDir, testConfig, wl } from './helpers.js';

const MIN = 60_000;

/** A day of a river: a short BĐ2 rise, a brief BĐ1 touch, a two-hour silence, then a BĐ3 flood still on. */
function river(end: number): Reading[] {
  const out: Reading[] = [];
  let ts = end - 8 * 60 * MIN;
  const push = (...values: number[]) => {
    for (const v of values) {
      out.push(wl(v, ts));
      ts += 5 * MIN;
    }
  };
  push(0.5, 0.6, 1.2, 2.3, 1.5, 0.5, 0.4); // A: BĐ1 → BĐ2 → BĐ1 → cleared
  push(...Array<number>(30).fill(0.4)); // 2.5 h calm: longer than the flap window
  push(1.1, 0.6); // B: BĐ1 for one reading
  push(...Array<number>(6).fill(0.5));
  ts += 2 * 60 * MIN; // the station silent for two hours
  push(0.8, 1.5, 2.5, 3.0, 3.6, 3.7); // C: BĐ1 → BĐ2 → BĐ3…
  while (ts < end - 2 * MIN) push(3.6); // …and still on
  return out;
}

type Result = {
  episodes: Array<{ target: string; start: number; end: number | null; maxLevel: number; maxLabel: { vi: string; en: string }; changes: number; reopened: number }>;
  totals: { episodes: number; open: number; byMaxLevel: Record<string, number>; targetsWithEpisodes: number; alertMs: number };
  readings: number;
  capped: boolean;
  coveredTo: number;
  to: number;
};

test('backtest: the episodes a flood rule would have raised from stored readings, a stricter rule fewer, the saved one alongside; nothing written; admins only', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const hub = await startHub({ ...testConfig(join(dir, 'data')), auth: { open: false } }, { logger: silentLogger(), configDir: dir });
  t.after(() => hub.close());
  const admin = hub.auth!.createApiKey({ name: 'admin', role: 'admin', areas: ['*'] }, 'test').key;
  const operator = hub.auth!.createApiKey({ name: 'operator', role: 'operator', areas: ['46'] }, 'test').key;
  const call = async (path: string, key: string | undefined, body: unknown) => {
    const res = await fetch(`${hub.apiUrl}${path}`, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  // Stored history only: written straight into the store, as an import would, never seen by the live engine.
  const readings = river(Date.now());
  const res = hub.store.writeBatch(GW, 1, readings);
  assert.equal(res.stored, readings.length, 'the history is stored');
  const auditBefore = hub.audit.list({ limit: 1000 }).length;
  const versionsBefore = hub.rules.versions('flood').length;

  const flood = await call('/rules/backtest', admin, { rule: { id: 'flood', kind: 'flood-levels' } });
  assert.equal(flood.status, 200, JSON.stringify(flood.body));
  const cand = flood.body.candidate as Result;
  assert.equal(cand.readings, readings.length);
  assert.equal(cand.capped, false);
  assert.deepEqual(
    cand.episodes.map((e) => [e.target, e.maxLevel, e.maxLabel.vi, e.changes, e.end === null]),
    [
      [KIM_LONG, 2, 'Báo động II', 2, false],
      [KIM_LONG, 1, 'Báo động I', 0, false],
      [KIM_LONG, 3, 'Báo động III', 2, true],
    ],
  );
  assert.equal(cand.episodes[0]!.start, readings[2]!.ts, 'A starts at the first reading above BĐ1');
  assert.equal(cand.episodes[0]!.end, readings[5]!.ts, 'and ends at the first below it (past the deadband)');
  assert.deepEqual(cand.totals, { episodes: 3, open: 1, targetsWithEpisodes: 1, byMaxLevel: { '1': 1, '2': 1, '3': 1 }, alertMs: cand.totals.alertMs });
  assert.ok(cand.totals.alertMs > 60 * MIN, 'time at a level, summed');
  const saved = flood.body.saved as Result & { version: number };
  assert.equal(saved.version, 1, 'the built-in flood rule is saved as version 1');
  assert.equal(saved.totals.episodes, 3, 'the same spec as the saved rule: the same answer');

  // A hold time of 30 min: brief touches of BĐ1/BĐ2 no longer raise anything; the flood still does.
  const held = await call('/rules/backtest', admin, { rule: { id: 'flood', kind: 'flood-levels', forS: 1800 }, days: 2 });
  assert.equal(held.status, 200, JSON.stringify(held.body));
  const heldC = held.body.candidate as Result;
  assert.deepEqual(heldC.episodes.map((e) => [e.maxLevel, e.end === null]), [[3, true]]);
  assert.equal((held.body.saved as Result).totals.episodes, 3, 'compared with the saved rule');
  assert.equal(held.body.days, 2);

  // Higher thresholds on the same metric: fewer episodes, and no rule saved under that id.
  const strict = await call('/rules/backtest', admin, { rule: { id: 'flood-strict', kind: 'levels', metric: 'water_level', thresholds: [2.0, 3.0], select: { devices: [KIM_LONG] } } });
  assert.equal(strict.status, 200, JSON.stringify(strict.body));
  assert.deepEqual((strict.body.candidate as Result).episodes.map((e) => [e.maxLevel, e.end === null]), [[1, false], [2, true]]);
  assert.equal(strict.body.saved, null);

  // A kind judged by the clock: the two-hour silence is one no-data episode (ticks of event time).
  const silent = await call('/rules/backtest', admin, { rule: { id: 'silence', kind: 'no-data', k: 5, intervalS: 60, select: { devices: [KIM_LONG] } } });
  assert.equal(silent.status, 200, JSON.stringify(silent.body));
  const silentC = silent.body.candidate as Result;
  assert.equal(silentC.episodes.length, 1);
  assert.ok(silentC.episodes[0]!.end !== null && silentC.episodes[0]!.end - silentC.episodes[0]!.start > 100 * MIN, 'the silence, ended by the next reading');

  // Refused specs name the key; other roles are refused.
  const bad = await call('/rules/backtest', admin, { rule: { id: 'flood', kind: 'flood-levels', select: { devices: ['fd-dongba'] } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.path, 'select.devices');
  assert.match(String(bad.body.reason), /alarmLevels/);
  const unknown = await call('/rules/backtest', admin, { rule: { id: 'x', kind: 'flood-level' } });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.path, 'kind');
  const extra = await call('/rules/backtest', admin, { rule: { id: 'flood', kind: 'flood-levels', deadbandM: 'wide' } });
  assert.equal(extra.status, 400);
  assert.match(String(extra.body.reason), /deadbandM/);
  assert.equal((await call('/rules/backtest', admin, { rule: { id: 'flood', kind: 'flood-levels' }, days: 31 })).status, 400);
  assert.equal((await call('/rules/backtest', operator, { rule: { id: 'flood', kind: 'flood-levels' } })).status, 403);
  assert.equal((await call('/rules/backtest', undefined, { rule: { id: 'flood', kind: 'flood-levels' } })).status, 401);

  // Nothing written: no alert, no audit entry, no rule version; the live engine never saw it.
  assert.equal(hub.store.alerts.active().length, 0);
  assert.equal(hub.store.alerts.latestOf('flood', KIM_LONG), undefined);
  assert.equal(hub.alerts.levelOf('flood', KIM_LONG), 0);
  assert.equal(hub.audit.list({ limit: 1000 }).length, auditBefore);
  assert.equal(hub.rules.versions('flood').length, versionsBefore);
  assert.equal(hub.rules.versions('flood-strict').length, 0);
});

test('backtest: a window holding more readings than the limit is cut short and says so', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const hub = await startHub(testConfig(join(dir, 'data')), { logger: silentLogger(), configDir: dir });
  t.after(() => hub.close());
  const now = Date.now();
  const readings = river(now);
  hub.store.writeBatch(GW, 1, readings);
  // The built-in flood rule, compiled against the running hub's registry.
  const rule = hub.rules.rules.find((r) => r.spec.id === 'flood')!;
  const opts = { store: hub.store, scope: SYSTEM_SCOPE, from: now - 86_400_000, to: now };
  const full = await backtestRule(rule, opts);
  assert.equal(full.capped, false);
  assert.equal(full.coveredTo, now);
  const cut = await backtestRule(rule, { ...opts, maxReadings: 20 });
  assert.equal(cut.capped, true);
  assert.equal(cut.readings, 20);
  assert.equal(cut.coveredTo, readings[19]!.ts, 'judged up to the last reading read');
  assert.deepEqual(cut.episodes.map((e) => e.maxLevel), [2], 'only what happened in the part judged');
  assert.equal(cut.totals.open, 0);
});
