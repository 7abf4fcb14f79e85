/**
 * Notifications of alert changes, end to end: route each change to channels, queue it durably,
 * deliver (./dispatcher.ts), escalate what nobody acknowledges (./escalation.ts), and let an
 * admin see the queue and replay dead letters.
 *
 * Nothing is lost between an alert's commit and its enqueue. Alert changes are announced after
 * their commit, and enqueue() writes at once — but a crash can fall between the two, and an
 * announcement can fail. So the alert history is the source of truth: the queue keeps a mark (the
 * position in the alert history up to which every event has been routed), and each tick routes
 * the events after the mark again. Every row has a unique key (notification id × channel), so an
 * event that the live path already queued is not queued twice. The tick only looks at events
 * that were already in the history at the previous tick: the live path, which has the rule's own
 * wording, normally gets there first. At start every event after the mark is routed at once.
 * The very first start sets the mark to the end of the history (no flood of old alerts).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '@ioc/shared';
import type { AlertChange } from '../alerts/types.js';
import type { Bus } from '../broker/bus.js';
import type { HubDatabase } from '../db/database.js';
import { scopeHas, type DeviceScope } from '../store/types.js';
import { CHANNEL_TYPES } from './channels/registry.js';
import type { NotifyConfig } from './config.js';
import { Dispatcher, type DispatchChannel } from './dispatcher.js';
import { Escalations, type AlertStateFn } from './escalation.js';
import { notificationFromChange, type AlertHistorySource } from './from-alert.js';
import { createNotifyMetrics, type NotifyMetrics } from './metrics.js';
import { NotifyQueue, type AttemptRow, type ChannelStats, type ListFilter, type QueueRow } from './queue.js';
import { channelsFor } from './routes.js';
import type { Notification, NotifierType } from './types.js';

export const HISTORY_MARK = 'alert_history';
const HISTORY_PAGE = 500;

export interface NotifyServiceOptions {
  db: HubDatabase;
  config: NotifyConfig;
  logger: Logger;
  version: string;
  /** The alert's state now, for escalation (the alert engine is not imported here). */
  alertState: AlertStateFn;
  /** Alert history by position, for recovery (absent: no recovery — tests of the queue alone). */
  history?: AlertHistorySource;
  /** Registry to put the notify metrics in (the hub's). */
  metricsRegistry?: Registry;
  now?: () => number;
  random?: () => number;
  /** How often due retries, escalations and the history are looked at (ms). */
  pollMs?: number;
  /** An attempt that outlives its channel's timeoutMs by this much is abandoned (default 2 s). */
  graceMs?: number;
  /** Channel types (default: ./channels/registry.ts); tests add their own. */
  channelTypes?: readonly NotifierType<any>[];
}

export interface StartOptions {
  /** The hub's MQTT bus, for the mqtt channel. */
  bus?: Bus;
}

export type NotificationView = QueueRow & { attemptLog: AttemptRow[] };

export type ReplayResult = { ok: true; row: QueueRow } | { ok: false; code: 'not_found' | 'conflict'; message: string };

export class NotifyService {
  readonly queue: NotifyQueue;
  private readonly escalations: Escalations;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly metrics: NotifyMetrics | undefined;
  private dispatcher: Dispatcher | undefined;
  private channels: DispatchChannel[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** History head seen at the previous tick: the tick routes up to there (see the top of this file). */
  private seenHead = 0;
  private closed = false;

  constructor(private readonly o: NotifyServiceOptions) {
    this.queue = new NotifyQueue(o.db);
    this.now = o.now ?? Date.now;
    this.log = o.logger;
    this.escalations = new Escalations(this.queue, o.config.escalation, o.alertState);
    this.metrics = o.metricsRegistry ? createNotifyMetrics(o.metricsRegistry, () => this.stats(), this.now) : undefined;
    if (o.history && this.queue.mark(HISTORY_MARK) === undefined) {
      const head = o.history.head();
      this.queue.setMark(HISTORY_MARK, head);
      this.log.info({ head }, 'notifications: first start, alert history before now is not notified');
    }
  }

  /** The configuration in force, as checked at start (callers showing it must leave out what names secrets). */
  get config(): NotifyConfig {
    return this.o.config;
  }

  /** Creates the channels and starts delivering; routes what the alert history holds beyond the mark. */
  start(opts: StartOptions = {}): void {
    if (this.dispatcher || this.closed) return;
    const types = this.o.channelTypes ?? CHANNEL_TYPES;
    const deps = { logger: this.log, version: this.o.version, ...(opts.bus ? { bus: opts.bus } : {}) };
    const channels = (this.channels = this.o.config.channels.map((config) => {
      const type = types.find((t) => t.type === config.type);
      if (!type) throw new Error(`notify.channels: no channel type "${config.type}"`);
      return { config, notifier: type.create(config, { ...deps, logger: this.log.child({ channel: config.id }) }) };
    }));
    this.dispatcher = new Dispatcher({
      queue: this.queue, channels, now: this.now, logger: this.log, ...(this.metrics ? { metrics: this.metrics } : {}), ...(this.o.random ? { random: this.o.random } : {}),
      ...(this.o.graceMs !== undefined ? { graceMs: this.o.graceMs } : {}),
    });
    this.reconcile(Infinity);
    const orphans = this.stats().filter((s) => s.pending > 0 && !this.o.config.channels.some((c) => c.id === s.channel));
    if (orphans.length) this.log.warn({ orphans }, 'notifications are queued for channels no longer configured: they wait until the channel is back');
    this.log.info({ channels: channels.map((c) => `${c.config.id}:${c.config.type}`), routes: this.o.config.routes.length, escalation: this.o.config.escalation.length }, 'notifications started');
    this.timer = setInterval(() => this.tick(), this.o.pollMs ?? 1000);
    this.timer.unref();
    this.tick();
  }

  /** An alert change was committed (the engine's "change" event). Never throws. */
  onAlertChange(change: AlertChange): void {
    let n: Notification;
    try {
      n = notificationFromChange(change);
    } catch (err) {
      this.log.error({ err, alert: change.alert?.id }, 'notifications: cannot read an alert change (the history recovery will)');
      return;
    }
    this.accept(n);
  }

  /** Queues one notification for the channels of its routes and arms or cancels escalation. Never throws. */
  accept(n: Notification): number {
    // Also after close(): the hub's ingest drains after the notifier stopped, and its alert
    // changes are queued for the next start while the database is still open.
    try {
      const now = this.now();
      const added = this.queue.transaction(() => {
        const k = this.queue.enqueue(n, channelsFor(n, this.o.config.routes), now);
        this.escalations.onEvent(n, now);
        return k;
      });
      if (added) this.kick();
      return added;
    } catch (err) {
      this.log.error({ err, notification: n.id }, 'notifications: could not queue (the history recovery will try again)');
      return 0;
    }
  }

  /** One round: the history after the mark, due escalations, due deliveries. Tests call it after moving their clock. */
  tick(): void {
    if (this.closed) return;
    try {
      this.reconcile(this.seenHead);
      if (this.o.history) this.seenHead = this.o.history.head();
      const now = this.now();
      const fired = this.queue.transaction(() => {
        const due = this.escalations.due(now);
        for (const e of due) this.queue.enqueue(e.notification, e.channels, now);
        return due;
      });
      for (const e of fired) this.log.warn({ alert: e.notification.alertId, tier: e.notification.escalation?.tier, channels: e.channels }, 'alert not acknowledged in time: escalated');
    } catch (err) {
      this.log.error({ err }, 'notifications: tick failed');
    }
    this.dispatcher?.pump();
  }

  /** Routes the history events after the mark, up to position `upTo`. */
  private reconcile(upTo: number): void {
    const h = this.o.history;
    if (!h) return;
    let mark = this.queue.mark(HISTORY_MARK) ?? 0;
    while (mark < upTo) {
      const page = h.since(mark, HISTORY_PAGE);
      if (page.upTo <= mark) break;
      const next = Math.min(page.upTo, upTo);
      let recovered = 0;
      for (const e of page.events) {
        if (e.seq > upTo) break;
        recovered += this.accept(e.notification);
      }
      if (recovered) this.log.warn({ from: mark, to: next, queued: recovered }, 'notifications: alert events recovered from the history (missed by the live path)');
      this.queue.setMark(HISTORY_MARK, next);
      if (next === mark) break;
      mark = next;
    }
  }

  private kick(): void {
    if (this.dispatcher) setImmediate(() => this.dispatcher?.pump());
  }

  /** Per configured channel (and any channel rows still wait for), for metrics. */
  stats(): ChannelStats[] {
    const byChannel = new Map(this.o.config.channels.map((c) => [c.id, { channel: c.id, pending: 0, dead: 0, oldestPendingAt: null } as ChannelStats]));
    for (const s of this.queue.stats()) byChannel.set(s.channel, s);
    return [...byChannel.values()];
  }

  // -- admin ---------------------------------------------------------------------------------

  list(f: ListFilter, scope: DeviceScope): NotificationView[] {
    const rows = this.queue.list(f).filter((r) => visible(r, scope));
    const attempts = this.queue.attemptsOf(rows.map((r) => r.id));
    return rows.map((r) => ({ ...r, attemptLog: attempts.get(r.id) ?? [] }));
  }

  get(id: number, scope: DeviceScope): NotificationView | undefined {
    const r = this.queue.get(id);
    if (!r || !visible(r, scope)) return undefined;
    return { ...r, attemptLog: this.queue.attemptsOf([id]).get(id) ?? [] };
  }

  notification(id: number, scope: DeviceScope): Notification | undefined {
    const r = this.queue.get(id);
    return r && visible(r, scope) ? this.queue.notificationOf(id) : undefined;
  }

  /** A dead letter back into the queue (fresh attempts and age). `within` runs in the same transaction (the audit entry). */
  replay(id: number, scope: DeviceScope, within?: (row: QueueRow) => void): ReplayResult {
    const r = this.queue.get(id);
    if (!r || !visible(r, scope)) return { ok: false, code: 'not_found', message: `notification ${id} not found` };
    const done = this.queue.transaction(() => {
      if (!this.queue.replay(id, this.now())) return false;
      within?.(r);
      return true;
    });
    if (!done) return { ok: false, code: 'conflict', message: `notification ${id} is ${r.status}, only a dead letter can be replayed` };
    this.kick();
    return { ok: true, row: this.queue.get(id)! };
  }

  /** Every dead letter (of one channel) back into the queue; returns their ids. `within` as for replay(). */
  replayDead(channel: string | undefined, scope: DeviceScope, within?: (ids: number[]) => void): number[] {
    const ids: number[] = [];
    const now = this.now();
    this.queue.transaction(() => {
      let before: number | undefined;
      for (;;) {
        const rows = this.queue.list({ status: 'dead', ...(channel ? { channel } : {}), ...(before !== undefined ? { beforeId: before } : {}), limit: 500 });
        if (!rows.length) break;
        for (const r of rows) if (visible(r, scope) && this.queue.replay(r.id, now)) ids.push(r.id);
        before = rows[rows.length - 1]!.id;
      }
      if (ids.length) within?.(ids);
    });
    if (ids.length) this.kick();
    return ids;
  }

  /** Resolves when no delivery is in flight (tests). */
  idle(): Promise<void> {
    return this.dispatcher?.idle() ?? Promise.resolve();
  }

  /** Stops delivering (attempts in flight are aborted and recorded), closes the channels. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const d = this.dispatcher;
    if (!d) return;
    await d.stop();
    await Promise.allSettled(this.channels.map((c) => c.notifier.close()));
  }
}

function visible(r: QueueRow, scope: DeviceScope): boolean {
  return r.dev === null ? scope.all : scopeHas(scope, r.dev);
}
