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
 */
import type { Lane } from '@ioc/shared';
import type { OutboxRun } from '../outbox/index.js';

export interface Batch {
  readonly lane: Lane;
  readonly first: number;
  readonly last: number;
}

export type ReadRun = (afterSeq: number, limit: number, maxSeq?: number) => OutboxRun | null;

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
}

function lane(name: Lane, lo: number, hi: number): LaneState {
  return { name, lo, hi, cursor: lo, window: [] };
}

export class Lanes {
  private live: LaneState = lane('live', 0, Number.POSITIVE_INFINITY);
  private backlog: LaneState | null = null;
  private acked = 0;
  private highestSent = 0;

  constructor(
    private readonly batchSize: number,
    private readonly maxInflight: number,
    /** Unacknowledged rows above this many batches at connect make a backlog lane. */
    private readonly backlogBatches = 2,
  ) {}

  /** On every (re)connect: everything above ackedUpTo is resent; split off a backlog if it is long. */
  plan(ackedUpTo: number, lastSeq: number): void {
    this.acked = ackedUpTo;
    this.highestSent = ackedUpTo;
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
    if (live.window.length < this.maxInflight && live.cursor < lastSeq) {
      const run = read(live.cursor, this.batchSize);
      if (!run) live.cursor = lastSeq; // everything above the cursor was acknowledged or dropped
      else if (flushLive || run.last < lastSeq || run.last - run.first + 1 >= this.batchSize) return this.take(live, run);
    }
    const bl = this.backlog;
    if (bl && bl.window.length < this.maxInflight && bl.cursor < bl.hi) {
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
    for (const l of this.lanes()) {
      while (l.window.length > 0 && l.window[0]!.last <= upTo) l.window.shift();
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
    return l.name;
  }

  private take(l: LaneState, run: OutboxRun): { batch: Batch; run: OutboxRun } {
    const batch: Batch = { lane: l.name, first: run.first, last: run.last };
    l.cursor = run.last;
    l.window.push(batch);
    if (run.last > this.highestSent) this.highestSent = run.last;
    return { batch, run };
  }

  private lanes(): LaneState[] {
    return this.backlog ? [this.live, this.backlog] : [this.live];
  }
}
