import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkEstimator, type EstimatorOptions, type LinkPhase } from '../src/uplink/estimator.js';

/**
 * A synthetic link: one FIFO bottleneck of `rate` bytes/ms, then `propMs(t)` until the hub's ack
 * is back. The sender keeps backlog batches of `batchBytes` in flight up to the estimator's cap
 * (one always) and `maxBatches`, as Lanes does; every ack is one sample. Optionally a live batch
 * of `liveTailBytes` goes first at connect (PUBACKed half a round trip after it crossed).
 */
interface Link {
  rate: number;
  propMs: (t: number) => number;
  batchBytes: number;
  maxBatches: number;
  durationMs: number;
  liveTailBytes?: number;
}

interface Trace {
  est: LinkEstimator;
  /** [t, ms a live batch sent at t waits behind backlog bytes at the bottleneck] after each send round. */
  waits: Array<[number, number]>;
  /** [t, backlog bytes acked so far]. */
  acked: Array<[number, number]>;
  phases: Array<[number, LinkPhase]>;
  minRtts: Array<[number, number]>;
}

function simulate(link: Link, opts: EstimatorOptions = {}): Trace {
  const est = new LinkEstimator(opts);
  const tr: Trace = { est, waits: [], acked: [], phases: [], minRtts: [] };
  const flights: Array<{
    sentAt: number; ahead: number; other: number; ackedAtSend: number; ackedTime: number; firstSent: number; acks: number; burst: boolean; ackAt: number;
  }> = [];
  let acks = 0;
  let t = 0;
  let busyUntil = 0;
  let inflight = 0;
  let acked = 0;
  let lastAckAt = 0;
  // Delivery-rate bookkeeping as Lanes keeps it (BBR's delivered_time and first_sent_time).
  let ackedTime = 0;
  let firstSent = 0;
  const live = link.liveTailBytes ?? 0;
  busyUntil = live / link.rate;
  const livePubackAt = busyUntil + link.propMs(0) / 2;
  const send = () => {
    while ((inflight === 0 || inflight < est.cap()) && flights.length < link.maxBatches) {
      busyUntil = Math.max(t, busyUntil) + link.batchBytes / link.rate;
      lastAckAt = Math.max(lastAckAt, busyUntil + link.propMs(t));
      if (inflight === 0) ackedTime = firstSent = t;
      const prev = flights[flights.length - 1];
      flights.push({
        sentAt: t, ahead: inflight, other: t < livePubackAt ? live : 0, ackedAtSend: acked, ackedTime, firstSent, acks, burst: prev?.acks === acks, ackAt: lastAckAt,
      });
      inflight += link.batchBytes;
    }
    tr.waits.push([t, Math.max(0, busyUntil - t)]);
  };
  send();
  while (t < link.durationMs) {
    const f = flights.shift()!;
    t = f.ackAt;
    inflight -= link.batchBytes;
    acked += link.batchBytes;
    est.onAck({
      sentAt: f.sentAt, ackedAt: t, bytes: link.batchBytes, aheadBytes: f.ahead, otherAheadBytes: f.other, deliveredBytes: acked - f.ackedAtSend,
      intervalMs: Math.max(t - f.ackedTime, f.sentAt - f.firstSent), burst: f.burst,
    });
    acks++;
    ackedTime = t;
    firstSent = f.sentAt;
    const e = est.estimate();
    tr.acked.push([t, acked]);
    tr.phases.push([t, e.phase]);
    tr.minRtts.push([t, e.minRtt]);
    send();
  }
  return tr;
}

const within = (xs: Array<[number, number]>, from: number, to = Number.POSITIVE_INFINITY) => xs.filter(([t]) => t >= from && t < to);
/** Bytes per ms acked over [from, end]. */
function throughput(tr: Trace, from: number): number {
  const a = within(tr.acked, from);
  return (a[a.length - 1]![1] - a[0]![1]) / (a[a.length - 1]![0] - a[0]![0]);
}
function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]!;
}

test('estimator: floor before any sample; a lone first batch does not end startup', () => {
  const e = new LinkEstimator({ floorBytes: 5000 });
  assert.equal(e.cap(), 5000);
  assert.equal(e.estimate().phase, 'startup');
  e.onAck({ sentAt: 0, ackedAt: 100, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  const s = e.estimate();
  assert.equal(s.phase, 'startup');
  assert.equal(s.rate, 10);
  assert.equal(s.minRtt, 100);
  assert.equal(s.rtProp, 0, 'the whole round trip was its own transmission at the measured rate');
  assert.equal(e.cap(), 5000, 'rate x (0 + 250 ms) = 2,500 < floor');
  e.onAck({ sentAt: 50, ackedAt: 50, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  assert.equal(e.estimate().minRtt, 100, 'a sample without a round trip is ignored');
  e.reset();
  assert.equal(e.estimate().phase, 'startup');
  assert.ok(Number.isNaN(e.estimate().minRtt));
});

test('estimator: a slow short link settles at rate x 250 ms + BDP: ~250 ms of backlog ahead of a live batch', () => {
  // 2 Mbit/s (250 bytes/ms), 40 ms round trip, 10 KB batches (40 ms each on the link), a low floor.
  const rate = 250;
  const tr = simulate({ rate, propMs: () => 40, batchBytes: 10_000, maxBatches: 16, durationMs: 60_000 }, { floorBytes: 16 * 1024 });
  const e = tr.est.estimate();
  assert.equal(e.phase, 'steady');
  assert.ok(Math.abs(e.rate - rate) / rate < 0.05, `rate ${e.rate}`);
  assert.ok(Math.abs(e.rtProp - 40) < 5, `rtProp ${e.rtProp}`);
  const want = rate * (250 + 40);
  assert.ok(e.cap > 0.9 * want && e.cap < 1.1 * want, `cap ${e.cap} vs ${want}`);
  assert.ok(throughput(tr, 2000) > 0.97 * rate, 'the link stays busy');
  // Queue a live batch waits behind, from the second round trip on: the budget plus at most about
  // one batch (the cap is checked before a batch is added).
  const waits = within(tr.waits, 2000).map(([, w]) => w);
  assert.ok(p99(waits) <= 250 + 2 * 40 + 10, `live wait p99 ${p99(waits)} ms`);
  // The min RTT (one batch's transmission + propagation) does not creep up with the standing queue.
  for (const [t, m] of within(tr.minRtts, 1000)) assert.ok(m < 80 + 5, `min RTT ${m} ms at ${t}`);
  assert.ok(tr.phases.filter(([, p], i) => p === 'probe-rtt' && tr.phases[i - 1]?.[1] !== 'probe-rtt').length >= 4, 'ProbeRTT every ~10 s');
});

test('estimator: a slow link with batches the size of the floor stays at the floor (two batches), as before', () => {
  // The drain bench's 2 Mbit/s case: ~53 KB batches (212 ms each), 10 ms round trip, and the
  // live tail (a whole batch) first at connect.
  const tr = simulate({ rate: 250, propMs: () => 10, batchBytes: 53_000, maxBatches: 16, durationMs: 30_000, liveTailBytes: 53_000 });
  assert.equal(tr.est.cap(), 64 * 1024);
  assert.ok(Math.abs(tr.est.estimate().rtProp - 10) < 2, `rtProp ${tr.est.estimate().rtProp}`);
  const waits = within(tr.waits, 500).map(([, w]) => w);
  assert.ok(Math.max(...waits) <= (2 * 53_000) / 250 + 1, `never more than two batches ahead: ${Math.max(...waits)} ms`);
  assert.ok(throughput(tr, 1000) > 0.97 * 250);
});

test('estimator: a fast long-round-trip link grows past the floor to its bandwidth-delay product', () => {
  // 20 Mbit/s (2,500 bytes/ms), 600 ms round trip (satellite), 53 KB batches, a wide batch window.
  const rate = 2500;
  const rtt = 600;
  const tr = simulate({ rate, propMs: () => rtt, batchBytes: 53_000, maxBatches: 64, durationMs: 40_000 });
  // At the floor (two batches per round trip) the drain would be ~106 KB / 0.62 s = 170 bytes/ms.
  const early = within(tr.acked, 0, 700);
  assert.equal(early[early.length - 1]![1], 2 * 53_000, 'starts from the floor: two batches in the first round trip');
  const e = tr.est.estimate();
  assert.ok(e.cap >= rate * rtt, `cap ${e.cap} >= BDP ${rate * rtt}`);
  assert.ok(e.cap <= rate * (rtt + 250) * 1.1, `and about BDP + rate x 250 ms: ${e.cap}`);
  assert.ok(Math.abs(e.rtProp - rtt) < 10, `rtProp ${e.rtProp}`);
  assert.ok(throughput(tr, 10_000) > 0.95 * rate, `fills the pipe: ${throughput(tr, 10_000)} bytes/ms`);
  // Within ~8 s (13 round trips) it carries 90 % of the link.
  const win = within(tr.acked, 8000, 9000);
  assert.ok((win[win.length - 1]![1] - win[0]![1]) / (win[win.length - 1]![0] - win[0]![0]) > 0.9 * rate, 'ramped up by 8 s');
  // The standing queue is the budget, not the whole flight.
  const waits = within(tr.waits, 10_000).map(([, w]) => w);
  assert.ok(p99(waits) < 250 + 100, `live wait p99 ${p99(waits)} ms`);
});

test('estimator: a long round trip limited by the batch window grows to the window and stays in startup (no queue)', () => {
  const tr = simulate({ rate: 2500, propMs: () => 600, batchBytes: 53_000, maxBatches: 16, durationMs: 20_000 });
  const e = tr.est.estimate();
  assert.equal(e.phase, 'startup');
  assert.ok(e.cap >= 16 * 53_000, `the cap is not the limit: ${e.cap}`);
  const window = (16 * 53_000) / (600 + 53_000 / 2500);
  assert.ok(throughput(tr, 8000) > 0.95 * window, `window-bound: ${throughput(tr, 8000)} vs ${window}`);
});

test('estimator: the min RTT expires after its window, so a longer route is followed; a shorter one as soon as a batch shows it', () => {
  // 2 Mbit/s, 10 KB batches; the route's round trip goes from 20 ms to 300 ms at t = 15 s.
  const tr = simulate({ rate: 250, propMs: (t) => (t < 15_000 ? 20 : 300), batchBytes: 10_000, maxBatches: 64, durationMs: 45_000 }, {
    floorBytes: 16 * 1024, minRttWindowMs: 10_000,
  });
  const before = within(tr.minRtts, 14_000, 15_000);
  assert.ok(before.every(([, m]) => Math.abs(m - 60) < 2), 'before: 20 ms + one batch (40 ms)');
  // The old min holds for at most its window, then ProbeRTT measures the new path.
  const after = within(tr.minRtts, 26_500);
  assert.ok(after.every(([, m]) => Math.abs(m - 340) < 5), `after: 300 ms + 40 ms, got ${after[0]?.[1]}`);
  const e = tr.est.estimate();
  const want = 250 * (300 + 250);
  assert.ok(e.cap > 0.9 * want && e.cap < 1.15 * want, `cap follows: ${e.cap} vs ${want}`);
  assert.ok(throughput(tr, 30_000) > 0.95 * 250, 'and fills the longer pipe');

  // Back to a short route: a batch sent on an empty pipe that shows it is taken at once.
  const est = new LinkEstimator({ floorBytes: 1000 });
  est.onAck({ sentAt: 0, ackedAt: 340, bytes: 10_000, aheadBytes: 0, deliveredBytes: 10_000 });
  est.onAck({ sentAt: 1000, ackedAt: 1060, bytes: 10_000, aheadBytes: 0, deliveredBytes: 10_000 });
  assert.equal(est.estimate().minRtt, 60);
  assert.ok(est.estimate().rtProp < 60, `rtProp ${est.estimate().rtProp}`);
});

test('estimator: ProbeRTT drops the cap to the pipe until a batch sent after it is acked', () => {
  const e = new LinkEstimator({ floorBytes: 1000, targetMs: 100, minRttWindowMs: 1000 });
  // 10 bytes/ms, 50 ms propagation, 1,000-byte batches (100 ms on the link).
  e.onAck({ sentAt: 0, ackedAt: 150, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  // Then a standing queue: each batch waits 100 ms for the one ahead.
  for (let sent = 150; sent <= 350; sent += 100) {
    e.onAck({ sentAt: sent, ackedAt: sent + 250, bytes: 1000, aheadBytes: 1000, deliveredBytes: 2000 });
  }
  assert.equal(e.estimate().phase, 'steady', 'three batches in a row queued: the link is full');
  assert.equal(e.estimate().minRtt, 150);
  e.onAck({ sentAt: 1000, ackedAt: 1300, bytes: 1000, aheadBytes: 2000, deliveredBytes: 3000 });
  assert.equal(e.estimate().phase, 'probe-rtt', 'the min is older than its window');
  const p = e.estimate();
  assert.ok(p.rtProp > 0 && p.rtProp <= 50, `rtProp ${p.rtProp}`);
  assert.equal(e.cap(), p.rate * p.rtProp, 'the pipe alone: rate x rtProp, no floor, no budget');
  assert.ok(e.cap() < 1000);
  e.onAck({ sentAt: 1100, ackedAt: 1400, bytes: 1000, aheadBytes: 2000, deliveredBytes: 3000 });
  assert.equal(e.estimate().phase, 'probe-rtt', 'sent before the probe: still queued behind the old flight');
  e.onAck({ sentAt: 1400, ackedAt: 1560, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  const s = e.estimate();
  assert.equal(s.minRtt, 160, 'the first batch sent in the probe gives the new min, even a higher one');
  assert.notEqual(s.phase, 'probe-rtt');
  assert.ok(e.cap() >= 1000);
});

test('estimator: round trips behind the live tail or another batch are not propagation; ProbeRTT measures an empty pipe', () => {
  // 10 bytes/ms, 10 ms propagation, 1,000-byte batches (100 ms each on the link). At connect the
  // live tail (a whole batch) goes first, then backlog batches A and B together.
  const e = new LinkEstimator({ floorBytes: 1000, targetMs: 100, minRttWindowMs: 1000 });
  e.onAck({ sentAt: 0, ackedAt: 210, bytes: 1000, aheadBytes: 0, otherAheadBytes: 1000, deliveredBytes: 1000 });
  e.onAck({ sentAt: 0, ackedAt: 310, bytes: 1000, aheadBytes: 1000, burst: true, otherAheadBytes: 1000, deliveredBytes: 2000 });
  let s = e.estimate();
  assert.equal(s.phase, 'startup');
  assert.equal(s.batchMs, 100, 'B waited for A: one batch costs 100 ms of queue, as much as the budget');
  assert.equal(s.rtProp, 0, 'no round trip on an empty pipe yet');
  // Then two batches in flight, ack-clocked: each waits ~100 ms for the other, every time.
  for (let sent = 210; sent <= 1110; sent += 100) {
    e.onAck({ sentAt: sent, ackedAt: sent + 200, bytes: 1000, aheadBytes: 1000, deliveredBytes: 2000 });
    if (e.estimate().phase === 'probe-rtt') break;
    s = e.estimate();
    assert.equal(s.minRtt, 200);
    assert.equal(s.rtProp, 0, 'the 100 ms behind the other batch is not taken for propagation');
    assert.equal(s.cap, 1000, 'so the cap stays at rate x budget (the floor), not rate x (100 ms + budget)');
  }
  assert.equal(e.estimate().phase, 'probe-rtt', 'no clean min RTT within the window: measure one');
  assert.ok(e.cap() <= 1000, `down to what the min so far says the pipe holds: one batch at a time (${e.cap()})`);
  e.onAck({ sentAt: 1410, ackedAt: 1520, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  s = e.estimate();
  assert.equal(s.phase, 'startup');
  assert.equal(s.minRtt, 110);
  assert.equal(s.rtProp, 10);
  // The pair sent on the probe's ack: the second waits for the first (a burst: what one more batch
  // costs, too much to grow); the next ones, ack-clocked, queue 90 ms: the link is full.
  e.onAck({ sentAt: 1520, ackedAt: 1630, bytes: 1000, aheadBytes: 0, deliveredBytes: 1000 });
  e.onAck({ sentAt: 1520, ackedAt: 1730, bytes: 1000, aheadBytes: 1000, burst: true, deliveredBytes: 2000 });
  assert.equal(e.estimate().batchMs, 100);
  e.onAck({ sentAt: 1630, ackedAt: 1830, bytes: 1000, aheadBytes: 1000, deliveredBytes: 2000 });
  assert.equal(e.estimate().phase, 'startup');
  assert.ok(Math.abs(e.cap() - 10 * (10 + 100)) < 1, `pipe + budget, no growth meanwhile: ${e.cap()}`);
  e.onAck({ sentAt: 1730, ackedAt: 1930, bytes: 1000, aheadBytes: 1000, deliveredBytes: 2000 });
  s = e.estimate();
  assert.equal(s.phase, 'steady');
  assert.ok(Math.abs(s.cap - 10 * (10 + 100)) < 1, `cap ${s.cap}`);
});
