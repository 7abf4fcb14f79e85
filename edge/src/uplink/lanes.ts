/**
 * Which outbox rows to send next, and when a batch stops counting against a send window.
 * Pure bookkeeping (no MQTT, no timers) so the policy can be tested on its own.
 *
 * After an outage the link comes back with a backlog. Sending it oldest-first would hold live
 * readings (a rising river) behind hours of history, so the rows are split at a boundary B:
 *   - live lane:    rows > B, as they arrive, always served first;
 *   - backlog lane: rows in (ackedUpTo, B], oldest first, in its own window.
 * The hub accepts batches in any order and its cumulative ack (upTo) only passes B once the backlog
 * is stored, so live batches cannot wait for the hub ack to leave their window while a backlog is
 * draining: they are released on PUBACK instead. Backlog batches (and every batch when there is no
 * backlog) are released only by the hub's ack, which paces the sender to what the hub really stores.
 *
 * Live batches still queue behind whatever backlog bytes are already in the socket and the link's
 * buffers. On a slow link 16 backlog batches of ~50 KB are ~3 s of a 2 Mbit/s uplink, so the
 * backlog lane is also bounded in bytes: it may have in flight (sent, not yet covered by the hub's
 * ack) about the link's bandwidth-delay product plus targetMs of queue, never below floorBytes,
 * as a LinkEstimator (estimator.ts) works out from each acked backlog batch's round trip and
 * delivery rate. On a 2 Mbit/s link that is ~targetMs of backlog ahead of a live batch; on a
 * satellite hop (600 ms round trip) it grows until the pipe is full; on loopback the rate is tens
 * of MB/s and the batch window is the only limit.
 */
import type { Lane } from '@ioc/shared';
import type { OutboxRun } from '../outbox/index.js';
import { LinkEstimator, type LinkEstimate } from './estimator.js';

export interface Batch {
  readonly lane: Lane;
  readonly first: number;
  readonly last: number;
}

export type ReadRun = (afterSeq: number, limit: number, maxSeq?: number) => OutboxRun | null;

export interface Pacing {
  /** Longest a live batch should wait behind backlog bytes in flight (default 250 ms). */
  targetMs?: number;
  /** Backlog bytes always allowed in flight, also before the first rate sample (default 64 KiB). */
  floorBytes?: number;
  /** A min RTT older than this is measured again (default 10 s). */
  minRttWindowMs?: number;
  /** Growth of the cap per round trip while the link shows no standing queue (default 1.25). */
  probeGain?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** Per backlog batch in flight: for the byte count and the delivery-rate sample at its ack. */
interface Flight {
  readonly batch: Batch;
  readonly bytes: number;
  readonly sentAt: number;
  /** Backlog bytes in flight ahead of it when it was sent. */
  readonly aheadBytes: number;
  /** Live bytes sent and not yet PUBACKed when it was sent (on the link ahead of it, maybe). */
  readonly liveAheadBytes: number;
  /** Backlog bytes acked on this connection when the batch was sent. */
  readonly ackedBytesAtSend: number;
  /** When those had been acked (the last ack before the send, or the start of this flight). */
  readonly ackedTimeAtSend: number;
  /** Send time of the batch acked last before the send (or its own, at the start of a flight). */
  readonly firstSentAtSend: number;
  /** Acks of backlog batches on this connection before the send. */
  readonly acksAtSend: number;
  /** Sent on the same ack as the backlog batch just ahead of it. */
  readonly burst: boolean;
}

interface LaneState {
  readonly name: Lane;
  /** Exclusive lower bound of the lane's rows. */
  readonly lo: number;
  /** Inclusive upper bound (Infinity for the live lane). */
  readonly hi: number;
  /** Highest seq handed out on this lane. */
  cursor: number;
  /** Batches occupying the lane's window, in seq order. */
  window: Batch[];
  /** Seqs those batches span. */
  windowSeqs: number;
}

function lane(name: Lane, lo: number, hi: number): LaneState {
  return { name, lo, hi, cursor: lo, window: [], windowSeqs: 0 };
}

const span = (b: Batch): number => b.last - b.first + 1;

/**
 * A lane's window holds maxInflight full batches' worth of seqs, in at most this many times
 * maxInflight batches: short runs (the alerting rows left between ranges a disk cap dropped, or
 * live polls at field rates) then fill the pipe as full batches do, instead of one short batch
 * per slot.
 */
const SHORT_BATCHES_PER_SLOT = 16;

export class Lanes {
  private live: LaneState = lane('live', 0, Number.POSITIVE_INFINITY);
  private backlog: LaneState | null = null;
  private acked = 0;
  private highestSent = 0;
  /** Backlog batches in flight, in seq order (parallel to the backlog lane's window). */
  private flights: Flight[] = [];
  private inflightBytes = 0;
  private ackedBytes = 0;
  /** For the delivery-rate samples (BBR's delivered_time and first_sent_time). */
  private ackedTime = 0;
  private firstSent = 0;
  private acks = 0;
  /** Live batches sent and not yet PUBACKed or acked, with their bytes. */
  private readonly liveBytes = new Map<Batch, number>();
  private readonly link: LinkEstimator;
  private readonly now: () => number;

  constructor(
    private readonly batchSize: number,
    private readonly maxInflight: number,
    /** Unacknowledged rows above this many batches at connect make a backlog lane. */
    private readonly backlogBatches = 2,
    pacing: Pacing = {},
  ) {
    this.link = new LinkEstimator(pacing);
    this.now = pacing.now ?? (() => performance.now());
  }

  /** Backlog bytes the lane may have in flight now (one batch always may). */
  backlogByteCap(): number {
    return this.link.cap();
  }

  /** The link estimate behind the cap (for status and tests). */
  linkEstimate(): LinkEstimate {
    return this.link.estimate();
  }

  /** Backlog bytes sent and not yet covered by the hub's ack (this connection). */
  get backlogInflightBytes(): number {
    return this.inflightBytes;
  }

  /** On every (re)connect: everything above ackedUpTo is resent; split off a backlog if it is long. */
  plan(ackedUpTo: number, lastSeq: number): void {
    this.acked = ackedUpTo;
    this.highestSent = ackedUpTo;
    // A new connection may be a different link: measure again from the floor.
    this.resetFlights();
    this.ackedBytes = 0;
    this.acks = 0;
    this.liveBytes.clear();
    this.link.reset();
    if (lastSeq - ackedUpTo > this.backlogBatches * this.batchSize) {
      // Live tail of one batch: the first live batch carries the newest readings.
      const b = lastSeq - this.batchSize;
      this.backlog = lane('backlog', ackedUpTo, b);
      this.live = lane('live', b, Number.POSITIVE_INFINITY);
    } else {
      this.backlog = null;
      this.live = lane('live', ackedUpTo, Number.POSITIVE_INFINITY);
    }
  }

  /** B while a backlog drains, else null. */
  get boundary(): number | null {
    return this.backlog ? this.backlog.hi : null;
  }

  get liveCursor(): number {
    return this.live.cursor;
  }

  /** Sent on this connection and not yet covered by the hub's ack. */
  outstanding(): boolean {
    return this.highestSent > this.acked;
  }

  /**
   * The next batch to publish, live lane first, or null when nothing is due or the windows are
   * full. A live run shorter than a batch that ends at lastSeq waits (linger) unless flushLive.
   */
  next(read: ReadRun, lastSeq: number, flushLive: boolean): { batch: Batch; run: OutboxRun } | null {
    const live = this.live;
    if (this.hasRoom(live) && live.cursor < lastSeq) {
      const run = read(live.cursor, this.batchSize);
      if (!run) live.cursor = lastSeq; // everything above the cursor was acknowledged or dropped
      else if (flushLive || run.last < lastSeq || run.last - run.first + 1 >= this.batchSize) return this.take(live, run);
    }
    const bl = this.backlog;
    // At least one backlog batch may always be in flight.
    if (bl && this.hasRoom(bl) && bl.cursor < bl.hi && (this.inflightBytes === 0 || this.inflightBytes < this.link.cap())) {
      const run = read(bl.cursor, this.batchSize, bl.hi);
      if (!run) bl.cursor = bl.hi;
      else return this.take(bl, run);
    }
    return null;
  }

  /** The hub stored everything <= upTo. Returns true when that is progress. */
  onAck(upTo: number): boolean {
    if (upTo <= this.acked) return false;
    this.acked = upTo;
    if (this.highestSent < upTo) this.highestSent = upTo;
    if (this.flights.length > 0 && this.flights[0]!.batch.last <= upTo) {
      const t = this.now();
      this.acks++;
      while (this.flights.length > 0 && this.flights[0]!.batch.last <= upTo) {
        const f = this.flights.shift()!;
        this.inflightBytes -= f.bytes;
        this.ackedBytes += f.bytes;
        this.link.onAck({
          sentAt: f.sentAt, ackedAt: t, bytes: f.bytes, aheadBytes: f.aheadBytes, otherAheadBytes: f.liveAheadBytes,
          deliveredBytes: this.ackedBytes - f.ackedBytesAtSend,
          intervalMs: Math.max(t - f.ackedTimeAtSend, f.sentAt - f.firstSentAtSend), burst: f.burst,
        });
        this.ackedTime = t;
        this.firstSent = f.sentAt;
      }
    }
    for (const l of this.lanes()) {
      while (l.window.length > 0 && l.window[0]!.last <= upTo) {
        const b = l.window.shift()!;
        l.windowSeqs -= span(b);
        this.liveBytes.delete(b);
      }
      // Never resend what the hub already has (e.g. stored from an earlier connection).
      if (l.cursor < upTo) l.cursor = Math.min(upTo, l.hi);
    }
    if (this.backlog && upTo >= this.backlog.hi) this.backlog = null;
    return true;
  }

  /** The broker has the batch. Returns true when that freed window space. */
  onPuback(batch: Batch): boolean {
    if (batch.lane !== 'live' || !this.backlog) return false;
    const i = this.live.window.indexOf(batch);
    if (i < 0) return false;
    this.live.window.splice(i, 1);
    this.live.windowSeqs -= span(batch);
    this.liveBytes.delete(batch);
    return true;
  }

  /**
   * The hub's ack stalled: resend from ackedUpTo on the lane holding the lowest missing seq
   * (the backlog lane while upTo is below B; live rows above B follow when the ack reaches B).
   */
  rewind(): Lane {
    const l = this.backlog && this.acked < this.backlog.hi ? this.backlog : this.live;
    l.cursor = Math.max(l.lo, this.acked);
    l.window = [];
    l.windowSeqs = 0;
    if (l === this.backlog) this.resetFlights();
    else this.liveBytes.clear();
    return l.name;
  }

  private take(l: LaneState, run: OutboxRun): { batch: Batch; run: OutboxRun } {
    const batch: Batch = { lane: l.name, first: run.first, last: run.last };
    l.cursor = run.last;
    l.window.push(batch);
    l.windowSeqs += span(batch);
    if (run.last > this.highestSent) this.highestSent = run.last;
    let bytes = 0;
    for (const b of run.bodies) bytes += b.length + 1;
    if (l === this.backlog) {
      let liveAheadBytes = 0;
      for (const n of this.liveBytes.values()) liveAheadBytes += n;
      const sentAt = this.now();
      if (this.inflightBytes === 0) this.ackedTime = this.firstSent = sentAt;
      const ahead = this.flights[this.flights.length - 1];
      this.flights.push({
        batch, bytes, sentAt, aheadBytes: this.inflightBytes, liveAheadBytes,
        ackedBytesAtSend: this.ackedBytes, ackedTimeAtSend: this.ackedTime, firstSentAtSend: this.firstSent,
        acksAtSend: this.acks, burst: ahead !== undefined && ahead.acksAtSend === this.acks,
      });
      this.inflightBytes += bytes;
    } else if (this.backlog) {
      this.liveBytes.set(batch, bytes);
    }
    return { batch, run };
  }

  /** Room for one more batch in the lane's window (see SHORT_BATCHES_PER_SLOT). */
  private hasRoom(l: LaneState): boolean {
    return l.window.length < this.maxInflight ||
      (l.window.length < this.maxInflight * SHORT_BATCHES_PER_SLOT && l.windowSeqs < this.maxInflight * this.batchSize);
  }

  private resetFlights(): void {
    this.flights = [];
    this.inflightBytes = 0;
  }

  private lanes(): LaneState[] {
    return this.backlog ? [this.live, this.backlog] : [this.live];
  }
}

/**
 * Seq ranges sent and not yet covered by the hub's ack, merged, so a batch counts as a resend only
 * when some of its rows really went out before (after a reconnect or an ack timeout). A single
 * high-water mark cannot tell: after an outage the live lane sends the highest seqs first.
 * Kept across connections; stays small (about one range per lane).
 */
export class SentRanges {
  /** Disjoint, sorted, non-adjacent [first, last] ranges, all above the ack. */
  private ranges: Array<[number, number]> = [];
  private ackedUpTo: number;

  constructor(ackedUpTo = 0) {
    this.ackedUpTo = ackedUpTo;
  }

  /** Records first..last as sent; returns true when any of it had been sent before. */
  add(first: number, last: number): boolean {
    const lo = Math.max(first, this.ackedUpTo + 1);
    if (lo > last) return first <= this.ackedUpTo; // wholly acknowledged: it went out before
    let resent = first < lo; // part already acknowledged, so it was sent before
    const r = this.ranges;
    let i = 0;
    while (i < r.length && r[i]![1] < lo - 1) i++;
    let a = lo;
    let b = last;
    let j = i;
    while (j < r.length && r[j]![0] <= last + 1) {
      const [x, y] = r[j]!;
      if (x <= last && y >= lo) resent = true; // overlap, not mere adjacency
      if (x < a) a = x;
      if (y > b) b = y;
      j++;
    }
    r.splice(i, j - i, [a, b]);
    return resent;
  }

  /** The hub stored everything <= upTo. */
  ack(upTo: number): void {
    if (upTo <= this.ackedUpTo) return;
    this.ackedUpTo = upTo;
    const r = this.ranges;
    let k = 0;
    while (k < r.length && r[k]![1] <= upTo) k++;
    if (k) r.splice(0, k);
    if (r.length && r[0]![0] <= upTo) r[0] = [upTo + 1, r[0]![1]];
  }

  /** Forget everything (outbox renumbered after a rebase: old seqs mean other rows now). */
  reset(ackedUpTo: number): void {
    this.ranges = [];
    this.ackedUpTo = ackedUpTo;
  }

  /** For tests and status. */
  list(): ReadonlyArray<readonly [number, number]> {
    return this.ranges;
  }
}
