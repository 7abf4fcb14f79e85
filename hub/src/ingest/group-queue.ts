/**
 * Which telemetry batches are committed together, and when.
 *
 * Routine batches are grouped (one transaction, one WAL flush for many batches) and written once
 * telemetry has paused for quietMs (0: at the end of the turn): a burst of gateways publishing in
 * the same instant is read whole first, so that an urgent batch late in it is not found only after
 * routine commits have held the event loop. Then one bounded group (./group-bounds.ts) per
 * event-loop turn, so that between two groups the broker reads what else has arrived. A batch that
 * may change an alert (the urgent lane) does not wait for them: it is committed at once in a group
 * of its own, taking along only the batches of its own gateway queued before it, so that no
 * gateway's batches are ever stored out of their arrival order. If input never pauses, a routine
 * batch still waits at most maxWaitMs; and a gateway that sends again while its last batch waits (a
 * backlog draining, held back by its in-flight window until these acks) ends the wait at once.
 *
 * Without the urgent lane a group is written as soon as it reaches its bounds, else at the end of
 * the turn, and every batch waits in arrival order.
 */
import { groupFull, type GroupBounds } from './group-bounds.js';
import type { PendingTelemetry } from './pending.js';

export interface GroupQueueOptions {
  bounds: GroupBounds;
  urgentLane: boolean;
  /** Writes one group in one transaction, then acknowledges it (never throws); `urgent`: the urgent lane's. */
  commit(group: PendingTelemetry[], urgent: boolean): void;
  /** Runs `fn` after the I/O already pending (default setImmediate). */
  defer?(fn: () => void): void;
  /** Runs `fn` after `ms` (default an unref'd setTimeout). */
  after?(ms: number, fn: () => void): void;
  /** Monotonic clock in ns (default process.hrtime.bigint). */
  now?(): bigint;
}

const MS = 1_000_000;

function unrefTimeout(ms: number, fn: () => void): void {
  setTimeout(fn, ms).unref();
}

export class GroupQueue {
  private queue: PendingTelemetry[] = [];
  private readings = 0;
  /** A write of the queue is pending: at the end of the turn, or (the lane on) one group per turn. */
  private scheduled = false;
  /** The lane on: a check for a pause in input is pending. */
  private waiting = false;
  private lastArrival = 0n;
  private readonly defer: (fn: () => void) => void;
  private readonly after: (ms: number, fn: () => void) => void;
  private readonly now: () => bigint;

  constructor(private readonly o: GroupQueueOptions) {
    this.defer = o.defer ?? setImmediate;
    this.after = o.after ?? unrefTimeout;
    this.now = o.now ?? process.hrtime.bigint;
  }

  /** Batches waiting. */
  get size(): number {
    return this.queue.length;
  }

  push(p: PendingTelemetry, urgent: boolean): void {
    if (urgent && this.o.urgentLane) return this.commitUrgent(p);
    // A gateway sending again before its last batch is written streams (a backlog draining): there
    // is no burst to read whole, and its next batches wait for these acks.
    const streaming = this.o.urgentLane && this.queue.some((q) => q.gw === p.gw);
    this.queue.push(p);
    this.readings += p.batch.readings.length;
    const b = this.o.bounds;
    const now = this.now();
    if (!this.o.urgentLane) {
      if (groupFull(b, this.queue.length, this.readings, this.queue[0]!.started, now)) return this.flush();
      return this.schedule();
    }
    this.lastArrival = now;
    // Input faster than a group per turn: a group more for each batch that arrives, so the queue stops growing.
    if (this.waitedTooLong(now)) this.writeGroup();
    if (streaming || b.quietMs === 0) return this.schedule();
    this.waitForPause();
  }

  /** Writes everything queued now, in arrival order (before another kind of message; at shutdown). */
  flush(): void {
    while (this.queue.length) this.writeGroup();
  }

  private commitUrgent(p: PendingTelemetry): void {
    const own: PendingTelemetry[] = [];
    if (this.queue.some((q) => q.gw === p.gw)) {
      const rest: PendingTelemetry[] = [];
      for (const q of this.queue) (q.gw === p.gw ? own : rest).push(q);
      this.queue = rest;
      for (const q of own) this.readings -= q.batch.readings.length;
    }
    own.push(p);
    this.o.commit(own, true);
  }

  private waitedTooLong(now: bigint): boolean {
    return this.queue.length > 0 && Number(now - this.queue[0]!.started) >= this.o.bounds.maxWaitMs * MS;
  }

  /** The next group from the front of the queue, within the bounds (at least one batch). */
  private writeGroup(): void {
    const { maxBatches, maxReadings } = this.o.bounds;
    let n = 0;
    let readings = 0;
    // The lane off: the queue never outgrows one group (it is written when full), so it all goes.
    if (!this.o.urgentLane) {
      n = this.queue.length;
      readings = this.readings;
    } else {
      while (n < this.queue.length && n < maxBatches && (n === 0 || readings + this.queue[n]!.batch.readings.length <= maxReadings)) {
        readings += this.queue[n]!.batch.readings.length;
        n++;
      }
    }
    const group = n === this.queue.length ? this.queue : this.queue.slice(0, n);
    this.queue = n === this.queue.length ? [] : this.queue.slice(n);
    this.readings -= readings;
    this.o.commit(group, false);
  }

  /** The lane on: checks after quietMs whether input has paused (or the oldest batch waited maxWaitMs). */
  private waitForPause(): void {
    if (this.waiting || this.scheduled || !this.queue.length) return;
    this.waiting = true;
    this.after(this.o.bounds.quietMs, () => this.checkPause());
  }

  private checkPause(): void {
    this.waiting = false;
    if (this.scheduled || !this.queue.length) return;
    const now = this.now();
    const idleMs = Number(now - this.lastArrival) / MS;
    if (idleMs < this.o.bounds.quietMs && !this.waitedTooLong(now)) {
      this.waiting = true;
      this.after(this.o.bounds.quietMs - idleMs, () => this.checkPause());
      return;
    }
    this.writeGroup();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.queue.length) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      if (!this.queue.length) return;
      if (!this.o.urgentLane) return this.flush();
      // One group per turn: what arrived meanwhile (an urgent batch) is read before the next.
      this.writeGroup();
      this.schedule();
    });
  }
}
