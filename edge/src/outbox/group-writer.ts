/**
 * Group commit in front of the outbox. Polls handed over in the same event-loop turn (drivers
 * whose answers arrived together, or while the previous fsync blocked the loop) are written in one
 * transaction: with synchronous=FULL that is one fsync for all of them instead of one per poll,
 * which is what a slow SD card on field hardware needs.
 *
 * Nothing waits in memory for long: each caller awaits its write (a driver polls again only after
 * its readings are stored), so a group holds at most one poll per driver, and a group that grows
 * past `maxGroupReadings` anyway is written at once.
 */
import type { Reading } from '@ioc/shared';
import type { Outbox } from './outbox.js';

export interface SeqRange {
  first: number;
  last: number;
}

interface PendingWrite {
  readings: Reading[];
  alerting: boolean[] | undefined;
  resolve(range: SeqRange): void;
  reject(err: unknown): void;
}

export interface GroupWriterOptions {
  /** Runs after each committed group (e.g. to wake the uplink), with the group's seq range. */
  onCommit?: (range: SeqRange, polls: number) => void;
  maxGroupReadings?: number;
}

export class OutboxGroupWriter {
  private pending: PendingWrite[] = [];
  private pendingReadings = 0;
  private scheduled = false;
  private readonly maxGroupReadings: number;
  private readonly stats = { groups: 0, polls: 0 };

  constructor(private readonly outbox: Outbox, private readonly opts: GroupWriterOptions = {}) {
    this.maxGroupReadings = opts.maxGroupReadings ?? 10_000;
  }

  /**
   * Resolves with the poll's seq range once its transaction has committed (the readings then
   * survive a crash, and a power cut with FULL); rejects if the write failed. Empty: null at once.
   */
  write(readings: Reading[], alerting?: boolean[]): Promise<SeqRange | null> {
    if (readings.length === 0) return Promise.resolve(null);
    return new Promise<SeqRange>((resolve, reject) => {
      this.pending.push({ readings, alerting, resolve, reject });
      this.pendingReadings += readings.length;
      if (this.pendingReadings >= this.maxGroupReadings) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushScheduled);
      }
    });
  }

  /** Writes whatever is pending now (also used at shutdown, before the outbox closes). */
  flush(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    this.pendingReadings = 0;
    let readings: Reading[];
    let alerting: boolean[] | undefined;
    if (group.length === 1) ({ readings, alerting } = group[0]!);
    else {
      readings = [];
      alerting = [];
      for (const g of group) {
        for (let i = 0; i < g.readings.length; i++) {
          readings.push(g.readings[i]!);
          alerting.push(g.alerting?.[i] === true);
        }
      }
    }
    let range: SeqRange | null;
    try {
      range = this.outbox.append(readings, alerting);
    } catch (err) {
      for (const g of group) g.reject(err);
      return;
    }
    if (!range) return; // cannot happen: every pending write has readings
    this.stats.groups++;
    this.stats.polls += group.length;
    let seq = range.first;
    for (const g of group) {
      g.resolve({ first: seq, last: seq + g.readings.length - 1 });
      seq += g.readings.length;
    }
    this.opts.onCommit?.(range, group.length);
  }

  /** Groups committed and polls written since start (polls / groups = polls per fsync). */
  counters(): { groups: number; polls: number } {
    return { ...this.stats };
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
