/** The live feed's ids and history (what a stream client resumes from): one sequence, bounded in items and age. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveHistory } from '../src/live-history.js';
import { LiveFeed } from '../src/live.js';
import { GW, wl } from './helpers.js';

test('history: kept within maxItems (a readings entry counts its readings), found by id, the newest always kept', () => {
  const h = new LiveHistory<{ id: number; at: number; items: number }>({ maxItems: 10, maxAgeMs: 60_000 }, () => 1000);
  for (let id = 1; id <= 4; id++) h.append({ id, at: 1000, items: 3 });
  assert.equal(h.oldestId(), 2, '4 × 3 > 10: the first is let go');
  assert.equal(h.get(1), undefined);
  assert.equal(h.get(3)?.id, 3);
  assert.equal(h.get(5), undefined);
  h.append({ id: 5, at: 1000, items: 50 });
  assert.equal(h.oldestId(), 5, 'one entry above the bound is still kept');
  assert.throws(() => h.append({ id: 7, at: 1000, items: 1 }), /does not follow/);
});

test('history: entries older than maxAgeMs are let go', () => {
  let now = 0;
  const h = new LiveHistory<{ id: number; at: number; items: number }>({ maxItems: 1000, maxAgeMs: 100 }, () => now);
  for (let id = 1; id <= 3; id++) h.append({ id, at: (now = id * 50), items: 1 });
  assert.equal(h.oldestId(), 1);
  now = 230;
  assert.equal(h.oldestId(), 3, 'at 230 only the one published at 150 is within 100 ms');
});

test('history compacts as it goes: a long run stays bounded and every kept id is found', () => {
  const h = new LiveHistory<{ id: number; at: number; items: number }>({ maxItems: 100, maxAgeMs: 60_000 }, () => 0);
  for (let id = 1; id <= 10_000; id++) h.append({ id, at: 0, items: 1 });
  assert.equal(h.size, 100);
  for (let id = 9901; id <= 10_000; id++) assert.equal(h.get(id)?.id, id);
});

test('live feed: one id sequence for every kind, from startId; listeners get the payload and its id; "entry" gets all', () => {
  const feed = new LiveFeed(undefined, { startId: 41 });
  const seen: Array<[string, number]> = [];
  feed.on('readings', (_r, id) => seen.push(['readings', id]));
  feed.on('status', (_s, id) => seen.push(['status', id]));
  const entries: number[] = [];
  feed.on('entry', (e) => entries.push(e.id));
  assert.equal(feed.publish('readings', { gw: GW, readings: [{ ...wl(1, 0), gw: GW, seq: 1 }] }), 42);
  assert.equal(feed.publish('status', { gw: GW, online: true, lastSeen: 0, status: null, statusAt: null }), 43);
  assert.deepEqual(seen, [['readings', 42], ['status', 43]]);
  assert.deepEqual(entries, [42, 43]);
  assert.equal(feed.lastId, 43);
  assert.equal(feed.history.get(42)?.kind, 'readings');
  // By default ids start from the clock (µs), so they keep increasing across restarts.
  const a = new LiveFeed(undefined, { now: () => 1_700_000_000_000 });
  assert.equal(a.lastId, 1_700_000_000_000_000);
  assert.ok(Number.isSafeInteger(a.lastId + 1e9));
});

test('live feed: a listener that throws does not reach the publisher', () => {
  const feed = new LiveFeed();
  feed.on('status', () => {
    throw new Error('boom');
  });
  assert.doesNotThrow(() => feed.publish('status', { gw: GW, online: false, lastSeen: null, status: null, statusAt: null }));
});
