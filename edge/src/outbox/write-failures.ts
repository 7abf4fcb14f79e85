/**
 * Outbox writes that failed (disk full, I/O error). The poll's readings are lost — they never got
 * a seq, so the hub cannot see a gap — which is why the failures are counted here, carried in the
 * gateway's status to the hub (OutboxHealth.writeFailures, lastWriteError), and logged at error
 * level: at most one line per interval (a full disk fails every poll of every device, and a nearly
 * full one fails some and not others), each with the failures it stands for.
 */
import type { Logger, OutboxHealth } from '@ioc/shared';

export const WRITE_FAILURE_LOG_INTERVAL_MS = 60_000;

export interface WriteFailuresOptions {
  now?: () => number;
  intervalMs?: number;
  /** Runs with each error line (at most once an interval): e.g. send the status to the hub now. */
  onLogged?: () => void;
}

export class WriteFailures {
  private polls = 0;
  private readings = 0;
  private last: NonNullable<OutboxHealth['lastWriteError']> | null = null;
  /** Failed polls since the last successful write. */
  private streak = 0;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private lastRecoveryLoggedAt = Number.NEGATIVE_INFINITY;
  /** Failures since the last error line. */
  private unlogged = 0;

  constructor(private readonly log: Logger, private readonly opts: WriteFailuresOptions = {}) {}

  private get interval(): number {
    return this.opts.intervalMs ?? WRITE_FAILURE_LOG_INTERVAL_MS;
  }

  failed(err: unknown, readings: number): void {
    this.polls++;
    this.readings += readings;
    this.streak++;
    this.unlogged++;
    const e = err as { message?: unknown; code?: unknown } | null;
    const now = (this.opts.now ?? Date.now)();
    this.last = {
      ts: now,
      message: String(e?.message ?? err).slice(0, 256),
      ...(typeof e?.code === 'string' ? { code: e.code.slice(0, 64) } : {}),
    };
    if (now - this.lastLoggedAt < this.interval) return;
    this.log.error(
      { err, failedPolls: this.polls, lostReadings: this.readings, sinceLastLine: this.unlogged, code: this.last.code },
      'outbox write failed: the readings of the poll are lost (disk full or failing?); logged at most once a minute while it goes on',
    );
    this.lastLoggedAt = now;
    this.unlogged = 0;
    this.opts.onLogged?.();
  }

  succeeded(): void {
    if (this.streak === 0) return;
    this.streak = 0;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.lastRecoveryLoggedAt < this.interval) return;
    this.lastRecoveryLoggedAt = now;
    this.log.warn({ failedPolls: this.polls, lostReadings: this.readings, lastError: this.last }, 'outbox writes succeed again');
  }

  /** The status fields; empty while nothing has failed (an older hub need not know them). */
  health(): Pick<OutboxHealth, 'writeFailures' | 'writeFailedReadings' | 'lastWriteError'> {
    if (this.polls === 0 || !this.last) return {};
    return { writeFailures: this.polls, writeFailedReadings: this.readings, lastWriteError: { ...this.last } };
  }
}
