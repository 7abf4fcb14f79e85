import { SYSTEM_SCOPE } from '../src/store/types.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { buildRegistry } from '../src/config/registry.js';
import { resolveHubConfig } from '../src/config/load.js';
import { createAdmission } from '../src/ingest/admission.js';
import { contiguousUpTo, mergeRange, mergeRangeInPlace, subtractRanges, type Range } from '../src/store/ranges.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { DETECTOR, GW, GW2, KIM_LONG, tempDir, testConfig, wl } from './helpers.js';

function readings(n: number, t0 = 1_700_000_000_000): Reading[] {
  return Array.from({ length: n }, (_, i) => wl(0.5 + i / 100, t0 + i * 1000));
}

function admitFor(dir: string) {
  return createAdmission(buildRegistry(resolveHubConfig(testConfig(dir), dir).registry));
}

test('ranges: subtract, merge (overlapping and adjacent), contiguous upTo', () => {
  const r = [[1, 3], [7, 9], [12, 12]] as const;
  assert.deepEqual(subtractRanges(r, 1, 14), [[4, 6], [10, 11], [13, 14]]);
  assert.deepEqual(subtractRanges(r, 2, 3), []);
  assert.deepEqual(subtractRanges([], 5, 6), [[5, 6]]);
  assert.deepEqual(mergeRange(r, 4, 6).ranges, [[1, 9], [12, 12]]);
  assert.deepEqual(mergeRange(r, 4, 6).removed, [[1, 3], [7, 9]]);
  assert.deepEqual(mergeRange(r, 10, 11).ranges, [[1, 3], [7, 12]]);
  assert.deepEqual(mergeRange(r, 20, 25).ranges, [[1, 3], [7, 9], [12, 12], [20, 25]]);
  assert.deepEqual(r, [[1, 3], [7, 9], [12, 12]], 'mergeRange leaves its input as it was');
  assert.equal(contiguousUpTo(r), 3);
  assert.equal(contiguousUpTo([[2, 5]]), 0);
  assert.equal(contiguousUpTo([]), 0);

  // In place (a transaction's working copy): the same results, on the caller's array.
  const w: Range[] = [[1, 3], [7, 9], [12, 12]];
  assert.deepEqual(mergeRangeInPlace(w, 4, 6), { removed: [[1, 3], [7, 9]], merged: [1, 9] });
  assert.deepEqual(w, [[1, 9], [12, 12]]);
  assert.deepEqual(mergeRangeInPlace(w, 20, 25), { removed: [], merged: [20, 25] });
  assert.deepEqual(mergeRangeInPlace(w, 10, 11), { removed: [[1, 9], [12, 12]], merged: [1, 12] });
  assert.deepEqual(w, [[1, 12], [20, 25]]);
  // A drain filling the gaps of a sparse set from the front, one seq at a time, ends in one range.
  const sparse: Range[] = Array.from({ length: 1000 }, (_, i) => [2 * i + 2, 2 * i + 2] as Range);
  for (let seq = 1; seq < 2000; seq += 2) mergeRangeInPlace(sparse, seq, seq);
  assert.deepEqual(sparse, [[1, 2000]]);
});

test('dedup by (gw, seq) survives a reopen (hub restart)', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  const rs = readings(5);
  let store = openSqliteStore({ path });
  let res = store.writeBatch(GW, 1, rs.slice(0, 3));
  assert.deepEqual([res.stored, res.duplicates, res.upTo], [3, 0, 3]);
  assert.deepEqual(res.fresh.map((r) => r.seq), [1, 2, 3]);
  store.close();

  store = openSqliteStore({ path });
  t.after(() => store.close());
  assert.equal(store.upTo(GW), 3);
  res = store.writeBatch(GW, 1, rs);
  assert.deepEqual([res.stored, res.duplicates, res.upTo], [2, 3, 5]);
  assert.deepEqual(res.fresh.map((r) => r.seq), [4, 5]);
  const q = store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100 }, SYSTEM_SCOPE);
  assert.equal(q.kind, 'raw');
  assert.deepEqual(q.kind === 'raw' && q.rows.map((r) => [r.gw, r.seq, r.value]), rs.map((r, i) => [GW, i + 1, r.value]));
  const stats = store.gatewayStats(GW);
  assert.deepEqual([stats.stored, stats.duplicates, stats.upTo], [5, 3, 5]);
  // The same seqs from another gateway are other readings.
  assert.equal(store.writeBatch(GW2, 1, [wl(1, 1, 'good', 'wl-other')]).stored, 1);
});

test('out-of-order batches: upTo waits for the gap, overlapping resends are duplicates', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const rs = readings(10);
  let res = store.writeBatch(GW, 6, rs.slice(5));
  assert.deepEqual([res.stored, res.upTo], [5, 0]);
  res = store.writeBatch(GW, 3, rs.slice(2, 7)); // 3..7: 3,4,5 new; 6,7 duplicates
  assert.deepEqual([res.stored, res.duplicates, res.upTo], [3, 2, 0]);
  assert.deepEqual(res.fresh.map((r) => r.seq), [3, 4, 5]);
  res = store.writeBatch(GW, 1, rs.slice(0, 2));
  assert.deepEqual([res.stored, res.upTo], [2, 10]);
  assert.deepEqual(store.gatewayStats(GW).ranges, [[1, 10]]);
  assert.deepEqual(store.storedSeqs(GW, 0, 100), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('upTo stops at a gap; markDropped closes it and counts only newly accounted seqs', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  let store = openSqliteStore({ path });
  const rs = readings(12);
  store.writeBatch(GW, 1, rs.slice(0, 3));
  store.writeBatch(GW, 7, rs.slice(6, 9));
  assert.equal(store.upTo(GW), 3);
  assert.deepEqual(store.gatewayStats(GW).ranges, [[1, 3], [7, 9]]);

  const d = store.markDropped(GW, [[2, 6]], 'outbox_full'); // 2,3 already stored: only 4..6 are new
  assert.deepEqual(d, { dropped: 3, upTo: 9 });
  assert.deepEqual(store.markDropped(GW, [[4, 5]], 'outbox_full'), { dropped: 0, upTo: 9 });
  // A later batch over the dropped seqs is a duplicate (the gateway deleted them).
  const res = store.writeBatch(GW, 4, rs.slice(3, 12));
  assert.deepEqual([res.stored, res.duplicates, res.upTo], [3, 6, 12]);
  store.close();
  store = openSqliteStore({ path });
  t.after(() => store.close());
  const s = store.gatewayStats(GW);
  assert.deepEqual([s.upTo, s.stored, s.duplicates, s.dropped], [12, 9, 6, 3]);
  assert.deepEqual(s.ranges, [[1, 12]]);
});

test('quarantine: refused readings are accounted, kept with the cause and counted', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = openSqliteStore({ path: join(dir, 'hub.db'), admit: admitFor(dir) });
  t.after(() => store.close());
  const ts = 1_700_000_000_000;
  const batch: Reading[] = [
    wl(1.2, ts),
    wl(1.3, ts, 'good', 'no-such-device'),
    { dev: KIM_LONG, metric: 'no_such_metric', value: 1, unit: 'm', ts, q: 'good' },
    wl(0.4, ts, 'good', 'wl-other'), // registered on GW2, arrived from GW
    { dev: KIM_LONG, metric: 'water_level', value: 120, unit: 'cm', ts, q: 'good' },
    { dev: DETECTOR, metric: 'smoke', value: 1, unit: 'bool', ts, q: 'good' },
    { dev: DETECTOR, metric: 'smoke', value: true, unit: 'bool', ts, q: 'good' },
  ];
  const res = store.writeBatch(GW, 1, batch);
  assert.equal(res.stored, 2);
  assert.equal(res.quarantined, 5);
  assert.deepEqual(res.quarantinedBy, { unknown_device: 1, unknown_metric: 1, device_not_on_gateway: 1, unit_mismatch: 1, value_kind_mismatch: 1 });
  assert.equal(res.upTo, 7, 'quarantined seqs are accounted: the outbox does not stall');
  assert.deepEqual(res.fresh.map((r) => r.seq), [1, 7]);
  const again = store.writeBatch(GW, 1, batch);
  assert.deepEqual([again.stored, again.quarantined, again.duplicates], [0, 0, 7]);
  const q = store.quarantined(GW, 10, SYSTEM_SCOPE);
  assert.equal(q.length, 5);
  assert.deepEqual(q.map((r) => r.seq).sort(), [2, 3, 4, 5, 6]);
  assert.deepEqual(q.find((r) => r.seq === 2)?.reading, batch[1]);
  assert.equal(q.find((r) => r.seq === 5)?.cause, 'unit_mismatch');
  assert.equal(store.gatewayStats(GW).quarantined, 5);
  // Booleans come back as booleans (stored as 0/1).
  const smoke = store.queryReadings({ dev: DETECTOR, metric: 'smoke', from: 0, to: ts, limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(smoke.kind === 'raw' && smoke.rows.map((r) => r.value), [true]);
  assert.deepEqual(store.latest(DETECTOR, SYSTEM_SCOPE).map((l) => [l.metric, l.value]), [['smoke', true]]);
});

test('bucket aggregation skips bad readings; raw rows keep them', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const t0 = 1_700_000_040_000; // a multiple of 60 000
  store.writeBatch(GW, 1, [wl(1, t0), wl(3, t0 + 10_000), wl(null, t0 + 20_000, 'bad'), wl(10, t0 + 60_000), wl(99, t0 + 70_000, 'bad')]);
  const b = store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: t0, to: t0 + 120_000, step: 60_000, limit: 10 }, SYSTEM_SCOPE);
  assert.deepEqual(b, {
    kind: 'buckets',
    buckets: [
      { t: t0, avg: 2, min: 1, max: 3, count: 2 },
      { t: t0 + 60_000, avg: 10, min: 10, max: 10, count: 1 },
    ],
  });
  const raw = store.queryReadings({ dev: KIM_LONG, metric: 'water_level', from: t0, to: t0 + 120_000, limit: 10 }, SYSTEM_SCOPE);
  assert.equal(raw.kind === 'raw' && raw.rows.length, 5);
  assert.deepEqual(raw.kind === 'raw' && raw.rows[2], { gw: GW, seq: 3, dev: KIM_LONG, metric: 'water_level', ts: t0 + 20_000, value: null, q: 'bad' });
});

test('a second writer on the same file (ioc-hub import while the hub runs) is seen before the next write', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  const hub = openSqliteStore({ path });
  const importer = openSqliteStore({ path });
  t.after(() => {
    hub.close();
    importer.close();
  });
  const rs = readings(10);
  hub.writeBatch(GW, 1, rs.slice(0, 2));
  assert.equal(importer.writeBatch(GW, 1, rs.slice(0, 6)).stored, 4);
  assert.equal(hub.upTo(GW), 6, 'the hub re-reads the accounting after the import committed');
  const res = hub.writeBatch(GW, 5, rs.slice(4, 10));
  assert.deepEqual([res.stored, res.duplicates, res.upTo], [4, 2, 10]);
  assert.deepEqual(hub.gatewayStats(GW).ranges, [[1, 10]]);
  assert.deepEqual(importer.gatewayStats(GW).ranges, [[1, 10]]);
  assert.equal(hub.gatewayStats(GW).stored, 10);
});

test('writeBatches (group commit): one transaction, each batch as writeBatch would; later batches see earlier ones; all or nothing', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  const store = openSqliteStore({ path });
  t.after(() => store.close());
  const rs = readings(10);
  const res = store.writeBatches([
    { gw: GW, firstSeq: 6, readings: rs.slice(5) },
    { gw: GW2, firstSeq: 1, readings: [wl(1, 1, 'good', 'wl-other')] },
    { gw: GW, firstSeq: 3, readings: rs.slice(2, 7) }, // 3..7: 6, 7 already in this group
    { gw: GW, firstSeq: 1, readings: rs.slice(0, 2) },
    { gw: GW, firstSeq: 1, readings: rs.slice(0, 2) }, // a resend inside the same group
  ]);
  assert.deepEqual(res.map((r) => [r.stored, r.duplicates, r.upTo]), [[5, 0, 0], [1, 0, 1], [3, 2, 0], [2, 0, 10], [0, 2, 10]]);
  assert.deepEqual(res[2]!.fresh.map((r) => r.seq), [3, 4, 5]);
  assert.deepEqual(store.gatewayStats(GW).ranges, [[1, 10]]);
  assert.deepEqual([store.gatewayStats(GW).stored, store.gatewayStats(GW).duplicates], [10, 4]);
  assert.equal(store.upTo(GW2), 1);

  // A bad batch fails the whole group: nothing of it is written, caches unchanged.
  assert.throws(() => store.writeBatches([{ gw: GW, firstSeq: 11, readings: readings(2) }, { gw: GW, firstSeq: 0, readings: readings(1) }]), RangeError);
  assert.equal(store.upTo(GW), 10);
  assert.deepEqual(store.storedSeqs(GW, 0, 100), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  // The accounting on disk matches the caches.
  const again = openSqliteStore({ path });
  t.after(() => again.close());
  assert.deepEqual(again.gatewayStats(GW), store.gatewayStats(GW));
});
