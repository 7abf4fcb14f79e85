/**
 * Seq ranges above what a gateway has shown the hub are refused (ingest and `ioc-hub import`):
 * accounted now, they would make the real readings that later get those seqs look like
 * duplicates — acknowledged, deleted at the gateway, never stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import type { Bus } from '../src/broker/bus.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { importOutboxExport } from '../src/import/outbox-export.js';
import { createIngestContext, dispatch } from '../src/ingest/index.js';
import { LiveFeed } from '../src/live.js';
import { createHubMetrics } from '../src/metrics.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { AlertEngine } from '../src/alerts/engine.js';
import { GW, batch, capturingLogger, ingestRig, metricValue, tempDir, testConfig, wl } from './helpers.js';

const T0 = Date.now() - 60_000;
const rs = (n: number, from = 0): Reading[] => Array.from({ length: n }, (_, i) => wl(0.5, T0 + (from + i) * 1000));
const topic = (kind: string) => `ioc/v1/${GW}/${kind}`;
const dropped = (ranges: Array<[number, number]>) =>
  Buffer.from(JSON.stringify({ v: 1, kind: 'dropped', ts: T0, ranges, count: ranges.reduce((n, [a, b]) => n + b - a + 1, 0), reason: 'outbox_full' }));
const status = (lastSeq: number) =>
  Buffer.from(JSON.stringify({ v: 1, online: true, outbox: { depth: 0, oldestUnsentAgeS: 0, bytes: 0, dropped: 0, lastSeq, ackedUpTo: 0, lastAckTs: null } }));

test('ingest: a batch above its own lastSeq and a dropped range above the highest seq shown are refused (seq_ahead), counted, logged; honest traffic passes', async (t) => {
  const r = ingestRig(t);
  const tel = (first: number, n: number, lastSeq?: number) =>
    dispatch(r.ctx, topic('telemetry'), Buffer.from(JSON.stringify({ ...batch(GW, first, rs(n, first)), ...(lastSeq !== undefined ? { lastSeq } : {}) })));

  tel(1, 2, 1); // claims seq 2 while its outbox had assigned only 1
  await r.turn();
  assert.equal(r.store.upTo(GW), 0, 'not stored');
  assert.deepEqual(r.acks, []);
  assert.equal(await r.metric('ioc_hub_rejected_total', { reason: 'seq_ahead' }), 1);

  dispatch(r.ctx, topic('events'), dropped([[1, 5]])); // nothing shown yet
  await r.turn();
  assert.equal(r.store.upTo(GW), 0);
  assert.equal(await r.metric('ioc_hub_rejected_total', { reason: 'seq_ahead' }), 2);
  assert.ok(r.logs.some((l) => l.reason === 'seq_ahead' && /dropped range \[1, 5\] is above/.test(String(l.detail))), 'logged with the range');

  // Live batches run ahead of the status: a batch's lastSeq raises what the gateway has shown.
  tel(1, 2, 10);
  await r.turn();
  dispatch(r.ctx, topic('events'), dropped([[3, 10]]));
  assert.equal(r.store.upTo(GW), 10, 'a drop up to the batch\'s lastSeq is accepted');
  dispatch(r.ctx, topic('events'), dropped([[11, 12]]));
  assert.equal(r.store.upTo(GW), 10, 'above it: refused');
  // A batch without lastSeq (a gateway from before the field) shows its own last seq.
  tel(11, 1);
  await r.turn();
  assert.equal(r.store.upTo(GW), 11);
  dispatch(r.ctx, topic('status'), status(14)); // the retained status shows more
  dispatch(r.ctx, topic('events'), dropped([[12, 14]]));
  assert.equal(r.store.upTo(GW), 14);
  assert.equal(await r.metric('ioc_hub_rejected_total', { reason: 'seq_ahead' }), 3);
});

test('what a gateway has shown survives a hub restart: derived from the accounted ranges and the stored status', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const path = join(dir, 'hub.db');
  const start = () => {
    const store = openSqliteStore({ path });
    const metrics = createHubMetrics();
    const bus = { publish: async () => {} } as unknown as Bus;
    const ctx = createIngestContext({ bus, store, registry, alerts: {} as AlertEngine, live: new LiveFeed(), metrics, logger: capturingLogger().logger, maxPayloadBytes: 1 << 20 });
    const refused = async () => metricValue(await metrics.registry.metrics(), 'ioc_hub_rejected_total', { reason: 'seq_ahead' }) ?? 0;
    return { store, ctx, refused };
  };
  let h = start();
  h.store.markDropped(GW, [[1, 20]], 'outbox_full'); // accounted before
  dispatch(h.ctx, topic('status'), status(30));
  h.ctx.close();
  h.store.close();

  h = start();
  t.after(() => h.store.close());
  dispatch(h.ctx, topic('events'), dropped([[21, 30]]));
  assert.equal(h.store.upTo(GW), 30, 'the stored status still shows 30');
  dispatch(h.ctx, topic('events'), dropped([[31, 31]]));
  assert.equal(h.store.upTo(GW), 30);
  return h.refused().then((n) => assert.equal(n, 1));
});

test('import: rows, batches and dropped ranges above the export\'s lastSeq (or a batch\'s own) are invalid lines (seq_ahead), the rest imported', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const store = openSqliteStore({ path: join(dir, 'hub.db') });
  t.after(() => store.close());
  const file = join(dir, 'export.jsonl');
  const write = (lines: unknown[]) => writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

  write([
    { kind: 'ioc-outbox-export', v: 1, gw: GW, exportedAt: T0, rows: 4, ackedUpTo: 0, lastSeq: 6 },
    { ...batch(GW, 1, rs(2)), lastSeq: 6 },
    { ...batch(GW, 3, rs(1)), lastSeq: 2 }, // above its own lastSeq
    { seq: 7, reading: wl(0.5, T0) }, // above the header's
    batch(GW, 6, rs(2)), // 6..7: above the header's
    { v: 1, kind: 'dropped', ts: T0, ranges: [[3, 9]], count: 7, reason: 'outbox_full' },
    { v: 1, kind: 'dropped', ts: T0, ranges: [[3, 6]], count: 4, reason: 'outbox_full' },
  ]);
  const s = await importOutboxExport(file, { store, registry });
  assert.deepEqual(s.invalidLines.map((l) => l.line), [3, 4, 5, 6]);
  const reasons = s.invalidLines.map((l) => l.reason);
  assert.match(reasons[0]!, /^batch: seq_ahead: seq 3 is above the batch's own lastSeq 2/);
  assert.match(reasons[1]!, /^row: seq_ahead: seq 7 is above the header's lastSeq 6/);
  assert.match(reasons[2]!, /^batch: seq_ahead: seq 7 is above the header's lastSeq 6/);
  assert.match(reasons[3]!, /^seq_ahead: dropped range \[3, 9\] is above the gateway's lastSeq 6/);
  assert.deepEqual([s.stored, s.dropped, s.upTo], [2, 4, 6]);

  // A hand-made file without lastSeq: a drop must stay within what the file or the hub has shown.
  write([
    { kind: 'ioc-outbox-export', v: 1, gw: GW, exportedAt: T0 },
    batch(GW, 7, rs(2)),
    { v: 1, kind: 'dropped', ts: T0, ranges: [[9, 12]], count: 4, reason: 'outbox_full' },
    { v: 1, kind: 'dropped', ts: T0, ranges: [[5, 8]], count: 4, reason: 'outbox_full' },
  ]);
  const s2 = await importOutboxExport(file, { store, registry });
  assert.deepEqual(s2.invalidLines.map((l) => l.line), [3]);
  assert.equal(s2.upTo, 8);
});
