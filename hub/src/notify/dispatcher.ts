/**
 * Delivers what the queue holds: per channel at most `concurrency` attempts in flight (a slow
 * webhook holds only its own slots, e-mail goes on), retries with exponential backoff and full
 * jitter (the shared Backoff, attempt count from the row), a dead letter after maxAttempts or
 * maxAgeMinutes or at once on a permanent failure, and every attempt recorded with its outcome.
 *
 * pump() is synchronous: it claims due rows into free slots and starts their deliveries; a
 * finished delivery pumps again. Claims live in memory only — after a crash a row that was in
 * flight is simply pending and is tried again (at least once; receivers deduplicate on the
 * notification id).
 */
import { performance } from 'node:perf_hooks';
import { Backoff, type Logger } from '@ioc/shared';
import type { NotifyMetrics } from './metrics.js';
import type { NotifyQueue, QueueRow } from './queue.js';
import type { ChannelCommon, DeliveryOutcome, Notification, Notifier } from './types.js';

export interface DispatchChannel {
  config: ChannelCommon;
  notifier: Notifier;
}

export interface DispatcherOptions {
  queue: NotifyQueue;
  channels: readonly DispatchChannel[];
  now: () => number;
  logger: Logger;
  metrics?: NotifyMetrics;
  /** For the backoff's jitter (tests pin it). */
  random?: () => number;
  /** An attempt that outlives its channel's timeoutMs by this much is abandoned (the channel ignored its signal). */
  graceMs?: number;
}

interface Lane {
  ch: DispatchChannel;
  backoff: Backoff;
  inFlight: Map<number, AbortController>;
}

export class Dispatcher {
  private readonly lanes: Lane[];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: DispatcherOptions) {
    this.lanes = o.channels.map((ch) => ({ ch, backoff: new Backoff(ch.config.retry.initialMs, ch.config.retry.maxMs, o.random), inFlight: new Map() }));
  }

  /** Fills each channel's free slots with due rows. */
  pump(): void {
    if (this.stopped) return;
    const now = this.o.now();
    for (const lane of this.lanes) {
      const free = lane.ch.config.concurrency - lane.inFlight.size;
      if (free <= 0) continue;
      // Rows in flight are still pending in the table: ask for enough to skip them.
      const due = this.o.queue.due(lane.ch.config.id, now, free + lane.inFlight.size).filter((d) => !lane.inFlight.has(d.row.id));
      for (const d of due.slice(0, free)) this.start(lane, d.row, d.notification, now);
    }
  }

  /** Attempts in flight, per channel id. */
  inFlight(): Record<string, number> {
    return Object.fromEntries(this.lanes.map((l) => [l.ch.config.id, l.inFlight.size]));
  }

  /** Resolves when no attempt is in flight (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Stops claiming; aborts attempts in flight and waits for them to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes) for (const ac of lane.inFlight.values()) ac.abort();
    await this.idle();
  }

  private start(lane: Lane, row: QueueRow, n: Notification, now: number): void {
    const c = lane.ch.config;
    if (now - row.ageFrom >= c.maxAgeMinutes * 60_000) {
      this.o.queue.dead(row, `expired: not delivered within ${c.maxAgeMinutes} min`, now);
      this.o.metrics?.dead.inc({ channel: c.id });
      this.o.logger.warn({ channel: c.id, notification: n.id, queueId: row.id }, 'notification expired undelivered: dead letter');
      return;
    }
    const ac = new AbortController();
    lane.inFlight.set(row.id, ac);
    const p = this.attempt(lane, row, n, ac).finally(() => {
      lane.inFlight.delete(row.id);
      this.running.delete(p);
      // A slot is free: the next due row of this channel may go.
      if (!this.stopped) setImmediate(() => this.pump());
    });
    this.running.add(p);
  }

  private async attempt(lane: Lane, row: QueueRow, n: Notification, ac: AbortController): Promise<void> {
    const c = lane.ch.config;
    const attempt = row.attempts + 1;
    const startedAt = this.o.now();
    const t0 = performance.now();
    let abandon: NodeJS.Timeout | undefined;
    // The channel has its own timeout; this one frees the slot from a channel that hangs regardless.
    const abandoned = new Promise<DeliveryOutcome>((resolve) => {
      abandon = setTimeout(() => {
        ac.abort();
        resolve({ ok: false, permanent: false, error: `abandoned: no outcome within ${c.timeoutMs} ms` });
      }, c.timeoutMs + (this.o.graceMs ?? 2000));
    });
    let outcome: DeliveryOutcome;
    try {
      outcome = await Promise.race([
        lane.ch.notifier.deliver(n, { deliveryId: row.id, attempt, signal: ac.signal }).catch((err: unknown) => ({
          ok: false as const,
          permanent: false,
          error: `channel failed: ${(err as Error)?.message ?? String(err)}`,
        })),
        abandoned,
      ]);
    } finally {
      clearTimeout(abandon);
    }
    if (ac.signal.aborted && !outcome.ok && this.stopped) outcome = { ok: false, permanent: false, error: `interrupted: the hub stopped (${outcome.error})` };
    this.record(lane, row, n, attempt, startedAt, Math.round(performance.now() - t0), outcome);
  }

  private record(lane: Lane, row: QueueRow, n: Notification, attempt: number, startedAt: number, durationMs: number, o: DeliveryOutcome): void {
    const c = lane.ch.config;
    const q = this.o.queue;
    const now = this.o.now();
    const log = this.o.logger;
    const a = { attempt, startedAt, durationMs };
    try {
      if (o.ok) {
        q.delivered(row, a, now);
        this.o.metrics?.sent.inc({ channel: c.id });
        log.debug({ channel: c.id, notification: n.id, attempt, durationMs }, 'notification delivered');
        return;
      }
      this.o.metrics?.failed.inc({ channel: c.id, class: o.permanent ? 'permanent' : 'transient' });
      const base = { channel: c.id, notification: n.id, queueId: row.id, attempt, err: o.error };
      let reason: string | undefined;
      if (o.permanent) reason = `permanent failure: ${o.error}`;
      else if (attempt >= c.maxAttempts) reason = `${attempt} attempts failed`;
      else if (now - row.ageFrom >= c.maxAgeMinutes * 60_000) reason = `expired: not delivered within ${c.maxAgeMinutes} min`;
      if (reason) {
        q.dead(row, reason, now, { ...a, error: o.error });
        this.o.metrics?.dead.inc({ channel: c.id });
        log.error({ ...base, reason }, 'notification failed: dead letter (replay it with POST /api/v1/notifications/:id/replay)');
        return;
      }
      // Stopping: due again at once on the next start; otherwise backoff (or the receiver's Retry-After).
      const wait = this.stopped ? 0 : Math.min(c.retry.maxMs, Math.max(lane.backoff.delay(attempt - 1), o.retryAfterMs ?? 0));
      q.retry(row, { ...a, error: o.error }, now + wait, now);
      log.warn({ ...base, retryInMs: wait }, 'notification attempt failed: will retry');
    } catch (err) {
      // The outcome could not be written (database closing, disk full): the row stays pending and is tried again.
      log.error({ err, channel: c.id, queueId: row.id }, 'could not record a notification attempt');
    }
  }
}
