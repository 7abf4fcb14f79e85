import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  batchSeqConsistent, validateGatewayEvent, validateTelemetryBatch, type Reading, type TelemetryBatch,
} from '@ioc/shared';
import { Outbox, type OutboxOptions } from '../src/outbox/index.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function reading(i: number, metric = 'rainfall'): Reading {
  return { dev: 'st-1', metric, value: i, unit: 'mm', ts: 1_700_000_000_000 + i, q: 'good' };
}

function readings(from: number, n: number): Reading[] {
  return Array.from({ length: n }, (_, k) => reading(from + k));
}

function open(t: { after(fn: () => void): void }, dir: string, opts: Partial<OutboxOptions> = {}): Outbox {
  const ob = Outbox.open({ path: join(dir, 'data', 'outbox.db'), ...opts });
  t.after(() => ob.close());
  return ob;
}

/** Every seq still in the outbox, read through the public API. */
function allSeqs(ob: Outbox): number[] {
  const out: number[] = [];
  let after = 0;
  for (let run = ob.readRun(after, 1000); run; run = ob.readRun(after, 1000)) {
    for (let s = run.first; s <= run.last; s++) out.push(s);
    after = run.last;
  }
  return out;
}

test('seqs are consecutive and survive close/reopen, also when every row was acked and deleted', (t) => {
  const dir = tmp(t);
  let ob = open(t, dir);
  assert.deepEqual(ob.append(readings(1, 3)), { first: 1, last: 3 });
  assert.deepEqual(ob.append(readings(4, 2)), { first: 4, last: 5 });
  assert.equal(ob.append([]), null);
  ob.close();

  ob = open(t, dir);
  assert.equal(ob.lastSeq, 5);
  assert.equal(ob.ack(5), 5);
  assert.equal(ob.stats().depth, 0);
  ob.close();

  ob = open(t, dir);
  assert.equal(ob.lastSeq, 5, 'last seq is kept although the table is empty');
  assert.equal(ob.ackedUpTo, 5);
  assert.deepEqual(ob.append(readings(6, 1)), { first: 6, last: 6 });
  ob.close();

  ob = open(t, dir);
  assert.equal(ob.lastSeq, 6);
  assert.deepEqual(allSeqs(ob), [6]);
});

test('the database is in WAL mode', (t) => {
  const dir = tmp(t);
  open(t, dir, { synchronous: 'FULL' }).close();
  const db = new Database(join(dir, 'data', 'outbox.db'), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
});

test('rows leave only when acked; a lower or equal upTo is ignored; upTo beyond lastSeq is clamped', (t) => {
  const dir = tmp(t);
  let now = 1_000_000;
  const ob = open(t, dir, { now: () => now });
  ob.append(readings(1, 10));
  assert.equal(ob.stats().depth, 10);
  assert.equal(ob.readRun(0, 100)?.bodies.length, 10, 'reading does not remove');
  assert.equal(ob.stats().depth, 10);
  assert.equal(ob.stats().lastAckTs, null);

  now += 5;
  assert.equal(ob.ack(4), 4);
  assert.equal(ob.ackedUpTo, 4);
  assert.equal(ob.stats().lastAckTs, now);
  assert.deepEqual(allSeqs(ob), [5, 6, 7, 8, 9, 10]);

  assert.equal(ob.ack(2), 0, 'lower upTo ignored');
  assert.equal(ob.ack(4), 0, 'equal upTo ignored');
  assert.equal(ob.ackedUpTo, 4);
  assert.equal(ob.stats().depth, 6);

  assert.equal(ob.ack(99), 6, 'clamped to lastSeq');
  assert.equal(ob.ackedUpTo, 10);
  assert.equal(ob.stats().depth, 0);
  assert.equal(ob.stats().bytes, 0);
});

test('readRun returns rows in seq order, byte-identical to the appended readings', (t) => {
  const ob = open(t, tmp(t));
  const rs = [reading(1, 'water_level'), { ...reading(2), value: null, q: 'bad' as const, reason: 'comm_error' }, reading(3)];
  ob.append(rs);
  ob.append([reading(4)]);
  const run = ob.readRun(0, 10);
  assert.ok(run);
  assert.equal(run.first, 1);
  assert.equal(run.last, 4);
  assert.deepEqual(run.bodies.map((b) => JSON.parse(b)), [...rs, reading(4)]);
  assert.deepEqual(ob.readRun(2, 10)?.bodies.map((b) => JSON.parse(b).value), [3, 4]);
  assert.equal(ob.readRun(4, 10), null);
});

test('readRun stops at the limit, at maxSeq, at a byte budget and at gaps left by dropped rows', (t) => {
  // maxRows 200: a cap drop brings the outbox down to 99% (198 rows).
  const ob = open(t, tmp(t), { maxRows: 200 });
  const alerting = Array.from({ length: 200 }, (_, i) => i >= 2 && i < 10); // seqs 3..10 alerting
  ob.append(readings(1, 200), alerting);
  assert.equal(ob.stats().depth, 200);
  ob.append([reading(201)]); // 201 rows > 200: drop routine 1, 2, 11 (3..10 are alerting)
  assert.equal(ob.stats().depth, 198);
  assert.deepEqual(ob.pendingDrops().flatMap((d) => d.ranges), [[1, 2], [11, 11]]);

  assert.deepEqual(ob.readRun(0, 100), { first: 3, last: 10, bodies: readings(3, 8).map((r) => JSON.stringify(r)) },
    'starts after the leading gap and stops before the next one');
  const afterGap = ob.readRun(10, 5);
  assert.equal(afterGap?.first, 12);
  assert.equal(afterGap?.last, 16, 'limit');
  assert.equal(ob.readRun(10, 100, 15)?.last, 15, 'maxSeq');
  assert.equal(ob.readRun(15, 100, 15), null, 'nothing above afterSeq and at or below maxSeq');
  // Bytes of a body and its separator (the same for seqs 12..20).
  const oneBody = JSON.stringify(reading(12)).length + 1;
  assert.equal(ob.readRun(11, 100, undefined, oneBody * 2)?.last, 13, 'byte budget: exactly two bodies');
  assert.equal(ob.readRun(11, 100, undefined, oneBody * 2 - 1)?.last, 12, 'one byte short of two');
  assert.equal(ob.readRun(11, 100, undefined, oneBody * 40)?.last, 51, 'beyond the first read of 16 rows');
  assert.equal(ob.readRun(11, 100, undefined, 1)?.last, 12, 'at least one row');
  // Runs longer than the first read (16 rows): the whole run up to the limit, in order.
  const long = ob.readRun(11, 100);
  assert.deepEqual([long?.first, long?.last, long?.bodies.length], [12, 111, 100]);
  assert.deepEqual(long?.bodies, readings(12, 100).map((r) => JSON.stringify(r)));
  assert.equal(ob.readRun(11, 17)?.last, 28, 'a limit just past the first read');
  assert.equal(ob.readRun(180, 500)?.last, 201, 'the end of the outbox');
});

test('readRun counts UTF-8 bytes, not characters: a multi-byte unit makes a body larger on the wire', (t) => {
  const ob = open(t, tmp(t));
  const hot = (i: number): Reading => ({ dev: 'fd-1', metric: 'temperature', value: 20 + i, unit: '°C', ts: 1_700_000_000_000 + i, q: 'good' });
  ob.append(Array.from({ length: 10 }, (_, i) => hot(i)));
  const body = JSON.stringify(hot(0));
  const bytes = Buffer.byteLength(body) + 1;
  assert.equal(bytes, body.length + 2, '° is two bytes in UTF-8');
  assert.equal(ob.readRun(0, 100, undefined, bytes * 4)?.last, 4);
  assert.equal(ob.readRun(0, 100, undefined, (body.length + 1) * 4)?.last, 3, 'a character budget would have let a fourth body through');
});

test('readRun around gaps at and past its first read of 16 rows', (t) => {
  const ob = open(t, tmp(t), { maxRows: 100 });
  // Alerting everywhere except seqs 17 and 40: a cap drop removes exactly those two.
  ob.append(readings(1, 100), Array.from({ length: 100 }, (_, i) => i !== 16 && i !== 39));
  ob.append(readings(101, 1), [true]);
  ob.append(readings(102, 1), [true]);
  assert.deepEqual(ob.pendingDrops().flatMap((d) => d.ranges), [[17, 17], [40, 40]]);
  assert.deepEqual([ob.readRun(0, 500)?.first, ob.readRun(0, 500)?.last], [1, 16], 'a gap right after the first read');
  assert.deepEqual([ob.readRun(16, 500)?.first, ob.readRun(16, 500)?.last], [18, 39], 'a gap inside the second read');
  assert.deepEqual([ob.readRun(39, 500)?.first, ob.readRun(39, 500)?.last], [41, 102]);
});

test('caps drop the oldest routine rows first, never alerting rows, and record exact ranges', (t) => {
  const dir = tmp(t);
  let ob = open(t, dir, { maxRows: 200 });
  // seq 1 routine, 2 alerting, 3..4 routine, 5 alerting, 6..200 routine
  const alerting = Array.from({ length: 200 }, (_, i) => i === 1 || i === 4);
  ob.append(readings(1, 200), alerting);
  assert.equal(ob.stats().dropped, 0);

  ob.append(readings(201, 1)); // 201 > 200 → down to 198: drop the 3 oldest routine rows 1, 3, 4
  assert.equal(ob.stats().depth, 198);
  assert.equal(ob.stats().dropped, 3);
  const [first] = ob.pendingDrops();
  assert.deepEqual(first, { ranges: [[1, 1], [3, 4]], count: 3, reason: 'outbox_full', ts: first?.ts });

  ob.append(readings(202, 2)); // 200 rows: within the cap, nothing dropped (hysteresis)
  assert.equal(ob.stats().dropped, 3);
  ob.append(readings(204, 2)); // 202 → down to 198: drop 6..9 (5 is alerting)
  const seqs = allSeqs(ob);
  assert.deepEqual(seqs.slice(0, 4), [2, 5, 10, 11]);
  assert.equal(seqs.length, 198);
  assert.equal(seqs.at(-1), 205);
  const [drop] = ob.pendingDrops();
  assert.deepEqual(drop?.ranges, [[1, 1], [3, 4], [6, 9]]);
  assert.equal(drop?.count, 7);
  assert.equal(ob.stats().dropped, 7);

  ob.close();
  ob = open(t, dir, { maxRows: 200 });
  assert.equal(ob.stats().dropped, 7, 'dropped total survives reopen');
  assert.deepEqual(ob.pendingDrops()[0]?.ranges, [[1, 1], [3, 4], [6, 9]]);
  assert.equal(ob.stats().depth, 198);
  assert.equal(ob.lastSeq, 205);
});

test('steady appends over the row cap: after each one, another connection sees the depth within the cap', (t) => {
  const dir = tmp(t);
  const ob = open(t, dir, { maxRows: 100 });
  const reader = new Database(join(dir, 'data', 'outbox.db'), { readonly: true });
  t.after(() => reader.close());
  const count = reader.prepare('SELECT count(*) FROM outbox').pluck();
  const drops = reader.prepare('SELECT count(*) FROM pending_drops').pluck();
  for (let seq = 1; seq <= 500; seq += 7) {
    ob.append(readings(seq, 7));
    const n = count.get() as number;
    assert.ok(n <= 100, `a reader saw ${n} rows after the append of seq ${seq}..${seq + 6}`);
    assert.equal(n, ob.stats().depth);
  }
  assert.ok(ob.stats().dropped > 0);
  assert.equal(drops.get(), 1, 'one contiguous pending range');
});

test('a failed append rolls back its cap drops too and leaves every counter as it was', (t) => {
  const dir = tmp(t);
  const ob = open(t, dir, { maxRows: 100, now: () => 1_700_000_000_000 });
  ob.append(readings(1, 100));
  const before = { stats: ob.stats(), drops: ob.pendingDrops(), lastSeq: ob.lastSeq };
  // Make recording a drop fail inside the append's transaction, as a full disk would.
  const other = new Database(join(dir, 'data', 'outbox.db'));
  t.after(() => other.close());
  other.exec("CREATE TRIGGER no_drops BEFORE INSERT ON pending_drops BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  assert.throws(() => ob.append(readings(101, 5)), /disk full/);
  assert.deepEqual({ stats: ob.stats(), drops: ob.pendingDrops(), lastSeq: ob.lastSeq }, before);
  assert.deepEqual(allSeqs(ob), Array.from({ length: 100 }, (_, i) => i + 1), 'the failed poll left no rows');

  other.exec('DROP TRIGGER no_drops');
  assert.deepEqual(ob.append(readings(101, 5)), { first: 101, last: 105 }, 'seqs continue with no gap');
  assert.equal(ob.stats().depth, 99);
  assert.deepEqual(ob.pendingDrops()[0]?.ranges, [[1, 6]]);
  assert.equal(ob.stats().dropped, 6);
});

test('pending drops stay until the ack passes them entirely', (t) => {
  const ob = open(t, tmp(t), { maxRows: 200 });
  const alerting = Array.from({ length: 200 }, (_, i) => i === 2); // seq 3 alerting
  ob.append(readings(1, 200), alerting);
  ob.append(readings(201, 1)); // drops 1, 2, 4
  ob.append(readings(202, 2));
  ob.append(readings(204, 2)); // drops 5..8, contiguous with 4: one range
  assert.deepEqual(ob.pendingDrops()[0]?.ranges, [[1, 2], [4, 8]]);

  ob.ack(5); // passes [1,2] but only part of [4,8]
  assert.deepEqual(ob.pendingDrops(), [{ ranges: [[4, 8]], count: 5, reason: 'outbox_full', ts: ob.pendingDrops()[0]?.ts }]);
  ob.ack(8);
  assert.deepEqual(ob.pendingDrops(), []);
  assert.equal(ob.stats().dropped, 7, 'the total is history, not pending');
});

test('byte cap drops routine rows by the body size estimate', (t) => {
  const ob = open(t, tmp(t), { maxBytes: 65_536 });
  let seq = 1;
  while (ob.stats().dropped === 0) {
    ob.append(readings(seq, 10));
    seq += 10;
    assert.ok(seq < 10_000, 'byte cap never triggered');
  }
  const s = ob.stats();
  assert.ok(s.bytes <= 65_536, `bytes ${s.bytes} within cap after drop`);
  const [drop] = ob.pendingDrops();
  assert.equal(drop?.ranges[0]?.[0], 1, 'oldest first');
  assert.equal(drop?.count, s.dropped);
  assert.equal(s.depth + s.dropped, seq - 1, 'every row is either kept or reported dropped');
});

test('only alerting rows left over the cap: all are kept and capExceeded is counted', (t) => {
  const ob = open(t, tmp(t), { maxRows: 100 });
  ob.append(readings(1, 120), new Array<boolean>(120).fill(true));
  assert.equal(ob.stats().depth, 120);
  assert.equal(ob.stats().dropped, 0);
  assert.ok(ob.counters().capExceeded >= 1);
  ob.append([reading(121)]); // a routine row cannot fit: it is the one dropped
  assert.equal(ob.stats().depth, 120);
  assert.deepEqual(ob.pendingDrops()[0]?.ranges, [[121, 121]]);
});

test('routine rows older than maxAgeMs are dropped and reported; alerting rows stay', (t) => {
  let now = 10_000_000;
  const ob = open(t, tmp(t), { maxAgeMs: 3_600_000, now: () => now });
  ob.append(readings(1, 5), [false, true, false, false, false]);
  now += 1_800_000;
  ob.append(readings(6, 5));
  now += 1_800_000 + 1;
  const dropped = ob.enforceLimits();
  assert.equal(dropped, 4);
  assert.deepEqual(allSeqs(ob), [2, 6, 7, 8, 9, 10]);
  assert.deepEqual(ob.pendingDrops(), [{ ranges: [[1, 1], [3, 5]], count: 4, reason: 'max_age', ts: now }]);
});

test('oldestUnsentAgeS is the age of the oldest unacknowledged row', (t) => {
  let now = 50_000_000;
  const ob = open(t, tmp(t), { now: () => now });
  assert.equal(ob.stats().oldestUnsentAgeS, 0);
  ob.append(readings(1, 2));
  now += 30_000;
  ob.append(readings(3, 2));
  now += 15_500;
  assert.equal(ob.stats().oldestUnsentAgeS, 45.5);
  ob.ack(2);
  assert.equal(ob.stats().oldestUnsentAgeS, 15.5);
  ob.ack(4);
  assert.equal(ob.stats().oldestUnsentAgeS, 0);
  assert.deepEqual(
    { ...ob.stats(), lastAckTs: 0 },
    { depth: 0, oldestUnsentAgeS: 0, bytes: 0, dropped: 0, lastSeq: 4, ackedUpTo: 4, lastAckTs: 0 },
  );
});

test('byte estimate is rebuilt at open from what is stored', (t) => {
  const dir = tmp(t);
  let ob = open(t, dir);
  ob.append(readings(1, 50));
  ob.ack(20);
  const before = ob.stats();
  ob.close();
  ob = open(t, dir);
  assert.deepEqual({ ...ob.stats(), oldestUnsentAgeS: 0 }, { ...before, oldestUnsentAgeS: 0 });
  assert.ok(before.bytes > 30 * JSON.stringify(reading(1)).length);
});

test('reopening with other settings keeps the buffer', (t) => {
  const dir = tmp(t);
  let ob = open(t, dir, { synchronous: 'NORMAL' });
  ob.append(readings(1, 300));
  ob.close();
  ob = open(t, dir, { synchronous: 'FULL', maxRows: 1_000_000, maxAgeMs: 0 });
  assert.equal(ob.stats().depth, 300);
  assert.equal(ob.lastSeq, 300);
  assert.equal(allSeqs(ob).length, 300);
  assert.throws(() => Outbox.open({ path: join(dir, 'x.db'), synchronous: 'OFF' as 'FULL' }), /NORMAL or FULL/);
});

test('export writes every unsent row as telemetry batches plus pending drop notices', (t) => {
  const dir = tmp(t);
  const ob = open(t, dir, { maxRows: 1000 });
  const alerting = Array.from({ length: 1000 }, (_, i) => i === 1);
  ob.append(readings(1, 1000), alerting);
  ob.append(readings(1001, 30)); // 1030 > 1000 → down to 990: routine rows 1, 3..41 dropped
  assert.deepEqual(ob.pendingDrops()[0]?.ranges, [[1, 1], [3, 41]]);
  ob.ack(1);
  const unsent = allSeqs(ob);
  const file = join(dir, 'export.jsonl');
  const progress: number[] = [];
  const n = ob.exportUnsent(file, 'gw-hue-01', (done, total) => {
    assert.equal(total, unsent.length);
    progress.push(done);
  }, 200);
  assert.equal(n, unsent.length);
  assert.equal(progress.at(-1), unsent.length);

  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const header = lines.shift()!;
  assert.equal(header.kind, 'ioc-outbox-export');
  assert.equal(header.v, 1);
  assert.equal(header.gw, 'gw-hue-01');
  assert.equal(header.rows, unsent.length);
  const exported: number[] = [];
  const byseq = new Map<number, unknown>();
  let dropLines = 0;
  for (const line of lines) {
    if (line.kind === 'dropped') {
      assert.ok(validateGatewayEvent(line), validateGatewayEvent.lastError());
      dropLines++;
      continue;
    }
    assert.ok(validateTelemetryBatch(line), validateTelemetryBatch.lastError());
    const b = line as TelemetryBatch;
    assert.ok(batchSeqConsistent(b));
    assert.ok(b.readings.length <= 200);
    b.readings.forEach((r, i) => { exported.push(b.seq[0] + i); byseq.set(b.seq[0] + i, r); });
  }
  assert.deepEqual(exported, unsent);
  assert.deepEqual(byseq.get(1030), reading(1030));
  assert.equal(dropLines, ob.pendingDrops().length);
  assert.ok(dropLines > 0);
  assert.equal(ob.stats().depth, unsent.length, 'export removes nothing');
});

test('rebase: unsent rows follow the hub\'s seq in order, and the counter continues there across reopen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-rebase-'));
  try {
    const path = join(dir, 'outbox.db');
    const ob = Outbox.open({ path });
    const readings = [0.5, 0.6, 0.7, 0.8].map((v, i) => ({ dev: 'wl-1', metric: 'water_level', value: v, unit: 'm', ts: 1000 + i, q: 'good' as const }));
    ob.append(readings);
    ob.ack(1);
    assert.equal(ob.rebase(3), 0, 'a hub behind lastSeq is not a reset');
    assert.equal(ob.rebase(50), 3);
    assert.equal(ob.lastSeq, 53);
    assert.equal(ob.ackedUpTo, 50);
    const run = ob.readRun(50, 10)!;
    assert.deepEqual([run.first, run.last], [51, 53]);
    assert.deepEqual(run.bodies.map((b) => JSON.parse(b).value), [0.6, 0.7, 0.8]);
    ob.close();
    const again = Outbox.open({ path });
    assert.equal(again.lastSeq, 53);
    assert.equal(again.ackedUpTo, 50);
    assert.deepEqual(again.append([readings[0]!]), { first: 54, last: 54 });
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
