/**
 * Which telemetry batches are committed together, and when.
 *
 * Routine batches are grouped (one transaction, one WAL flush for many batches) and written once
 * input pauses: at the end of the event-loop turn, one bounded group (./group-bounds.ts) per turn,
 * so that between two groups the broker reads what else has arrived. A batch that may change an
 * alert (the urgent lane) does not wait for them: it is committed at once in a group of its own,
 * taking along only the batches of its own gateway queued before it, so that no gateway's batches
 * are ever stored out of their arrival order. If input never pauses, a routine batch still waits
 * at most maxWaitMs.
 *
 * Without the urgent lane a group is written as soon as it reaches its bounds, else at the end of
 * the turn, and every batch waits in arrival order.
 */
import { groupFull, type GroupBounds } from './group-bounds.js';
import type { PendingTelemetry } from './pending.js';

export interface GroupQueueOptions {
  bounds: GroupBounds;
  urgentLane: boolean;
  /** Writes one group in one transaction, then acknowledges it (never throws). */
  commit(group: PendingTelemetry[]): void;
  /** Runs `fn` after the I/O already pending (default setImmediate). */
  defer?(fn: () => void): void;
  /** Monotonic clock in ns (default process.hrtime.bigint). */
  now?(): bigint;
}

export class GroupQueue {
  private queue: PendingTelemetry[] = [];
  private readings = 0;
  private scheduled = false;
  private readonly defer: (fn: () => void) => void;
  private readonly now: () => bigint;

  constructor(private readonly o: GroupQueueOptions) {
    this.defer = o.defer ?? setImmediate;
    this.now = o.now ?? process.hrtime.bigint;
  }

  /** Batches waiting. */
  get size(): number {
    return this.queue.length;
  }

  push(p: PendingTelemetry, urgent: boolean): void {
    if (urgent && this.o.urgentLane) return this.commitUrgent(p);
    this.queue.push(p);
    this.readings += p.batch.readings.length;
    const b = this.o.bounds;
    const first = this.queue[0]!.started;
    if (!this.o.urgentLane) {
      if (groupFull(b, this.queue.length, this.readings, first, this.now())) return this.flush();
    } else if (Number(this.now() - first) >= b.maxWaitMs * 1e6) {
      this.writeGroup();
    }
    this.schedule();
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
    this.o.commit(own);
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
    this.o.commit(group);
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
