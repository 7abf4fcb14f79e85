import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateGatewayEvent, validateStatus, validateTelemetryBatch, batchSeqConsistent } from '@ioc/shared';
import { Backoff } from '@ioc/shared';
import { Lanes, SentRanges, type ReadRun } from '../src/uplink/lanes.js';
import { NetWatch, networkSignature } from '../src/uplink/netwatch.js';
import {
  BATCH_ENVELOPE_BYTES, LWT_PAYLOAD, MIN_READING_BYTES, batchPrefix, droppedPayload, fitDropped, statusPayload, telemetryPayload,
} from '../src/uplink/payload.js';

test('backoff: full jitter between initialMs and a doubling cap, never above maxMs, reset on success', () => {
  const lo = new Backoff(100, 1000, () => 0);
  assert.deepEqual([lo.next(), lo.next(), lo.next()], [100, 100, 100], 'never below initialMs: no busy loop');
  const hi = new Backoff(100, 1000, () => 1);
  assert.deepEqual([hi.next(), hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000, 1000]);
  assert.equal(hi.attempts, 6);
  hi.reset();
  assert.equal(hi.next(), 100);
  const mid = new Backoff(100, 1000, () => 0.5);
  mid.next();
  assert.equal(mid.next(), 150, 'uniform within [initial, cap]');
  for (let i = 0; i < 100; i++) assert.equal(new Backoff(500, 100, Math.random).next(), 500, 'maxMs below initialMs');
});

test('netwatch calls back on a change of the address set, not on an unchanged poll', async () => {
  let sig = 'eth0/10.0.0.2';
  let changes = 0;
  const w = new NetWatch(() => { changes++; }, 10, () => sig);
  w.start();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(changes, 0);
  sig = 'eth0/10.0.0.2,wwan0/100.64.1.7';
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(changes, 1);
  w.stop();
  assert.equal(typeof networkSignature(), 'string');
  assert.equal(networkSignature({ lo: [{ address: '127.0.0.1', internal: true, family: 'IPv4', netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }] }), '');
});

test('payloads: concatenated batch is a valid TelemetryBatch; drop notice and LWT are valid', () => {
  const bodies = [1, 2, 3].map((i) => JSON.stringify({ dev: 'st-1', metric: 'water_level', value: i / 10, unit: 'm', ts: 1000 + i, q: 'good' }));
  const batch = JSON.parse(telemetryPayload(batchPrefix('gw-hue-01'), 7, 9, 'backlog', bodies));
  assert.ok(validateTelemetryBatch(batch), validateTelemetryBatch.lastError());
  assert.ok(batchSeqConsistent(batch));
  assert.deepEqual(batch.seq, [7, 9]);
  assert.equal(batch.lane, 'backlog');
  assert.equal(batch.readings[2]?.value, 0.3);
  const drop = JSON.parse(droppedPayload({ ranges: [[1, 4], [9, 9]], count: 5, reason: 'outbox_full', ts: 5 }));
  assert.ok(validateGatewayEvent(drop), validateGatewayEvent.lastError());
  const lwt = JSON.parse(LWT_PAYLOAD);
  assert.ok(validateStatus(lwt));
  assert.equal(lwt.online, false);
  assert.throws(() => batchPrefix('GW"x'), /invalid gateway id/);
  const withLast = JSON.parse(telemetryPayload(batchPrefix('gw-hue-01'), 7, 9, 'live', bodies, 12));
  assert.ok(validateTelemetryBatch(withLast), validateTelemetryBatch.lastError());
  assert.equal(withLast.lastSeq, 12);
});

test('payload sizes: the batch envelope bound holds for the longest id and seqs; drop notices and statuses are cut to a byte limit', () => {
  const longest = telemetryPayload(batchPrefix('z'.repeat(64)), 2 ** 53 - 1, 2 ** 53 - 1, 'backlog', [], 2 ** 53 - 1);
  assert.equal(longest.length, BATCH_ENVELOPE_BYTES);
  // Every string at its shortest, the shortest value and ts: no schema-valid reading is smaller.
  assert.equal(JSON.stringify({ dev: 'a', metric: 'b', value: 0, unit: '', ts: 0, q: 'bad' }).length + 1, MIN_READING_BYTES);

  const ranges: Array<[number, number]> = Array.from({ length: 1000 }, (_, i) => [2 * i + 1, 2 * i + 1]);
  const parts = fitDropped({ ranges, count: 1000, reason: 'outbox_full', ts: 5 }, 4096);
  assert.ok(parts.length > 1);
  const events = parts.map((p) => JSON.parse(p));
  for (const [i, p] of parts.entries()) {
    assert.ok(Buffer.byteLength(p) <= 4096, `part ${i}: ${Buffer.byteLength(p)} bytes`);
    assert.ok(validateGatewayEvent(events[i]), validateGatewayEvent.lastError());
  }
  assert.deepEqual(events.flatMap((e) => e.ranges), ranges, 'every range once, in order');
  assert.equal(events.reduce((n, e) => n + e.count, 0), 1000, 'counts follow the ranges');
  assert.deepEqual(fitDropped({ ranges: [[1, 9]], count: 9, reason: 'r', ts: 1 }, 10).length, 1, 'one range is never split further');

  const drivers = Array.from({ length: 200 }, (_, i) => ({ dev: `dev-${i}`, driver: 'modbus', state: 'error' as const, lastError: 'connect ECONNREFUSED 192.0.2.10:502' }));
  const status = { v: 1 as const, online: true, outbox: { depth: 1, oldestUnsentAgeS: 0, bytes: 1, dropped: 0, lastSeq: 9, ackedUpTo: 8, lastAckTs: null }, drivers };
  assert.deepEqual(JSON.parse(statusPayload(status)).drivers.length, 200, 'no limit: all of it');
  const cut = JSON.parse(statusPayload(status, 4096));
  assert.equal(cut.drivers, undefined, 'over the limit: the driver list is left out');
  assert.deepEqual(cut.outbox, status.outbox, 'the outbox health stays');
  assert.ok(validateStatus(cut));
});

/** An in-memory outbox stand-in: rows 1..lastSeq minus `gaps`. */
function reader(gaps: Set<number> = new Set()): ReadRun & { calls: number } {
  const fn = ((after: number, limit: number, maxSeq = Number.MAX_SAFE_INTEGER) => {
    fn.calls++;
    let first = after + 1;
    while (gaps.has(first)) first++;
    if (first > maxSeq || first > fn.lastSeq) return null;
    let last = first;
    while (last + 1 <= Math.min(maxSeq, fn.lastSeq) && last + 1 - first < limit && !gaps.has(last + 1)) last++;
    return { first, last, bodies: Array.from({ length: last - first + 1 }, () => '{}') };
  }) as ReadRun & { calls: number; lastSeq: number };
  fn.calls = 0;
  fn.lastSeq = 0;
  return fn;
}

test('lanes: a short backlog is one live lane; full batches go at once, a partial tail waits for linger', () => {
  const l = new Lanes(10, 4);
  const read = reader() as ReturnType<typeof reader> & { lastSeq: number };
  read.lastSeq = 15;
  l.plan(0, 15);
  assert.equal(l.boundary, null);
  assert.deepEqual(l.next(read, 15, false)?.batch, { lane: 'live', first: 1, last: 10 });
  assert.equal(l.next(read, 15, false), null, 'partial tail waits');
  read.lastSeq = 25;
  assert.deepEqual(l.next(read, 25, false)?.batch, { lane: 'live', first: 11, last: 20 });
  assert.equal(l.next(read, 25, false), null);
  assert.deepEqual(l.next(read, 25, true)?.batch, { lane: 'live', first: 21, last: 25 });
  assert.ok(l.outstanding());
});

test('lanes: the hub ack (not PUBACK) frees the window when there is no backlog', () => {
  const l = new Lanes(10, 2);
  const read = reader() as ReturnType<typeof reader> & { lastSeq: number };
  read.lastSeq = 100;
  l.plan(0, 20);
  read.lastSeq = 20;
  const a = l.next(read, 20, true)!;
  l.next(read, 20, true);
  read.lastSeq = 100;
  assert.equal(l.next(read, 100, true), null, 'window of 2 full batches full');
  assert.equal(l.onPuback(a.batch), false, 'PUBACK does not free it');
  assert.equal(l.next(read, 100, true), null);
  assert.equal(l.onAck(10), true);
  assert.deepEqual(l.next(read, 100, true)?.batch, { lane: 'live', first: 21, last: 30 });
  assert.equal(l.onAck(10), false, 'no progress');
});

test('lanes: short runs fill the window by seqs (2 full batches\' worth), up to 16 short batches per slot', () => {
  // Runs of one row each, as the alerting rows left between ranges a disk cap dropped.
  const runs = (after: number, _limit: number, maxSeq = Number.MAX_SAFE_INTEGER) =>
    after + 1 <= maxSeq ? { first: after + 1, last: after + 1, bodies: ['{}'] } : null;
  const l = new Lanes(10, 2);
  l.plan(0, 1000);
  const sent = [];
  for (let b = l.next(runs, 1000, true); b; b = l.next(runs, 1000, true)) sent.push(b.batch);
  const live = sent.filter((b) => b.lane === 'live');
  assert.equal(live.length, 10, 'the live tail of one batch (10 seqs) in 10 one-row batches, not 2');
  assert.equal(sent.filter((b) => b.lane === 'backlog').length, 20, 'the backlog window: 2 × 10 seqs in one-row batches');
  l.onAck(5);
  assert.equal(l.next(runs, 1000, true)?.batch.lane, 'backlog', 'an ack frees room for more');

  // A window never holds more than 16 × maxInflight batches, however short.
  const m = new Lanes(1000, 2);
  m.plan(0, 1000);
  let n = 0;
  while (m.next(runs, 1000, true)) n++;
  assert.equal(n, 2 * 16, 'the live lane alone: 32 one-row batches, far below 2 × 1000 seqs');
});

test('lanes: after an outage the newest batch goes first on the live lane, the backlog drains in order', () => {
  const l = new Lanes(10, 2);
  const read = reader() as ReturnType<typeof reader> & { lastSeq: number };
  read.lastSeq = 100;
  l.plan(30, 100);
  assert.equal(l.boundary, 90);
  const order = [];
  for (let n = l.next(read, 100, false); n; n = l.next(read, 100, false)) order.push(n.batch);
  assert.deepEqual(order, [
    { lane: 'live', first: 91, last: 100 },
    { lane: 'backlog', first: 31, last: 40 },
    { lane: 'backlog', first: 41, last: 50 },
  ]);
  // New live rows keep flowing while the backlog drains: PUBACK releases live batches.
  read.lastSeq = 130;
  const live2 = l.next(read, 130, false)!;
  assert.deepEqual(live2.batch, { lane: 'live', first: 101, last: 110 });
  assert.equal(l.next(read, 130, false), null, 'both windows full');
  assert.equal(l.onPuback(order[0]!), true);
  assert.equal(l.onPuback(live2.batch), true);
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'live', first: 111, last: 120 });
  // The backlog window opens on hub acks; the ack only passes B once the backlog is stored.
  l.onAck(50);
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'live', first: 121, last: 130 });
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'backlog', first: 51, last: 60 });
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'backlog', first: 61, last: 70 });
  l.onAck(70);
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'backlog', first: 71, last: 80 });
  assert.deepEqual(l.next(read, 130, false)?.batch, { lane: 'backlog', first: 81, last: 90 }, 'stops at B');
  assert.equal(l.next(read, 130, false), null);
  l.onAck(130);
  assert.equal(l.boundary, null, 'backlog done');
  assert.equal(l.outstanding(), false);
});

test('lanes: rewind resends from ackedUpTo on the lane holding the lowest missing seq', () => {
  const l = new Lanes(10, 4);
  const read = reader() as ReturnType<typeof reader> & { lastSeq: number };
  read.lastSeq = 60;
  l.plan(0, 60);
  while (l.next(read, 60, true));
  l.onAck(20);
  assert.equal(l.rewind(), 'backlog');
  assert.deepEqual(l.next(read, 60, true)?.batch, { lane: 'backlog', first: 21, last: 30 });
  l.onAck(50);
  assert.equal(l.boundary, null);
  assert.equal(l.rewind(), 'live');
  assert.deepEqual(l.next(read, 60, true)?.batch, { lane: 'live', first: 51, last: 60 });
});

test('lanes: batches never span a gap; rows gone below the cursor are skipped', () => {
  const l = new Lanes(10, 8);
  const read = reader(new Set([5, 6, 13])) as ReturnType<typeof reader> & { lastSeq: number };
  read.lastSeq = 20;
  l.plan(0, 20);
  const got = [];
  for (let n = l.next(read, 20, true); n; n = l.next(read, 20, true)) got.push([n.run.first, n.run.last]);
  assert.deepEqual(got, [[1, 4], [7, 12], [14, 20]]);
});

test('sent ranges: a resend is a batch overlapping seqs sent before, not one below a high-water mark', () => {
  const s = new SentRanges(30);
  // After an outage: the live lane sends the newest rows first, then the backlog from the oldest.
  assert.equal(s.add(91, 100), false, 'live tail');
  assert.equal(s.add(31, 40), false, 'backlog below the live batch is not a resend');
  assert.equal(s.add(41, 50), false);
  assert.equal(s.add(101, 110), false, 'adjacent is not overlapping');
  assert.deepEqual(s.list(), [[31, 50], [91, 110]]);
  s.ack(45);
  assert.deepEqual(s.list(), [[46, 50], [91, 110]], 'pruned on ack');
  // Ack timeout: rewind to ackedUpTo + 1 and send again.
  assert.equal(s.add(46, 55), true, 'overlaps 46..50');
  assert.deepEqual(s.list(), [[46, 55], [91, 110]]);
  assert.equal(s.add(56, 90), false, 'fills the gap');
  assert.deepEqual(s.list(), [[46, 110]]);
  assert.equal(s.add(105, 120), true);
  s.ack(200);
  assert.deepEqual(s.list(), []);
  assert.equal(s.add(201, 210), false);
  // A new process: rows above the outbox's ackedUpTo were never sent by it.
  assert.equal(new SentRanges(500).add(501, 520), false);
  s.reset(1000);
  assert.deepEqual(s.list(), []);
});

/** Reads rows of `width` characters each, so a batch of n rows is about n * (width + 1) bytes. */
function wideReader(width: number): ReadRun & { lastSeq: number } {
  const body = 'x'.repeat(width);
  const fn = ((after: number, limit: number, maxSeq = Number.MAX_SAFE_INTEGER) => {
    const first = after + 1;
    if (first > maxSeq || first > fn.lastSeq) return null;
    const last = Math.min(maxSeq, fn.lastSeq, first + limit - 1);
    return { first, last, bodies: Array.from({ length: last - first + 1 }, () => body) };
  }) as ReadRun & { lastSeq: number };
  fn.lastSeq = 0;
  return fn;
}

test('lanes: backlog bytes in flight are capped at max(floor, measured pipe + delivery rate x target)', () => {
  let now = 0;
  // Batches of 10 rows x 100 bytes: ~1,010 bytes each. Floor 2,000 bytes: two batches in flight.
  const mk = () => new Lanes(10, 16, 2, { targetMs: 100, floorBytes: 2000, now: () => now });
  const backlogBatches = (l: Lanes, read: ReadRun, lastSeq: number) => {
    const got = [];
    for (let n = l.next(read, lastSeq, true); n; n = l.next(read, lastSeq, true)) if (n.batch.lane === 'backlog') got.push(n.batch);
    return got;
  };

  // A slow link: the two batches sent together are acked 100 ms apart (the second waited for the
  // first to cross the link): ~10 bytes/ms, no propagation beyond that, x 100 ms = 1 KB < floor.
  const slow = mk();
  const read = wideReader(100);
  read.lastSeq = 1000;
  slow.plan(0, 1000);
  assert.equal(backlogBatches(slow, read, 1000).length, 2, 'before any sample: the floor only');
  assert.ok(slow.backlogInflightBytes >= 2000 && slow.backlogInflightBytes < 2100);
  now += 100;
  slow.onAck(10);
  now += 100;
  slow.onAck(20);
  assert.equal(backlogBatches(slow, read, 1000).length, 2, 'a slow link stays at the floor, not 16 batches');
  assert.equal(slow.backlogByteCap(), 2000);

  // A fast link: the same two batches acked within 1 ms is ~2,000 bytes/ms: the batch window rules.
  now = 0;
  const fast = mk();
  fast.plan(0, 1000);
  assert.equal(backlogBatches(fast, read, 1000).length, 2);
  now += 1;
  fast.onAck(20);
  assert.ok(fast.backlogByteCap() > 16 * 1010);
  assert.equal(backlogBatches(fast, read, 1000).length, 16, 'the batch window is the limit again');

  // Every connection measures again from the floor; a rewind empties the flight.
  fast.plan(20, 1000);
  assert.equal(fast.backlogByteCap(), 2000);
  assert.equal(backlogBatches(fast, read, 1000).length, 2);
  assert.equal(fast.rewind(), 'backlog');
  assert.equal(fast.backlogInflightBytes, 0);
});

test('lanes: on a long round trip with room to spare the backlog cap grows past the floor to the batch window', () => {
  let now = 0;
  // Every batch in flight is acked 300 ms after it went out, whatever the flight: a fast link far
  // away. The old rule (max(floor, rate x target)) stayed at the floor: 2 batches per 300 ms.
  const lanes = new Lanes(10, 16, 2, { targetMs: 100, floorBytes: 2000, now: () => now });
  const read = wideReader(100);
  read.lastSeq = 5000;
  lanes.plan(0, 5000);
  const perRound: number[] = [];
  for (let round = 0; round < 12; round++) {
    let n = 0;
    let last = 0;
    for (let b = lanes.next(read, 5000, true); b; b = lanes.next(read, 5000, true)) {
      if (b.batch.lane !== 'backlog') continue;
      n++;
      last = b.batch.last;
    }
    perRound.push(n);
    now += 300;
    lanes.onAck(last);
  }
  assert.equal(perRound[0], 2, 'the floor first');
  for (let i = 1; i < perRound.length; i++) assert.ok(perRound[i]! >= perRound[i - 1]!, `never shrinks: ${perRound.join(' ')}`);
  assert.equal(perRound[perRound.length - 1], 16, `then the batch window is the limit: ${perRound.join(' ')}`);
  assert.equal(lanes.linkEstimate().phase, 'startup', 'no batch has queued: still looking for the pipe');
});
