/** Prometheus metrics of notifications, registered in the hub's registry (see ../metrics.ts). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChannelStats } from './queue.js';

export interface NotifyMetrics {
  sent: Counter<'channel'>;
  /** Failed attempts, by class: transient (retried) or permanent. */
  failed: Counter<'channel' | 'class'>;
  /** Notifications that became dead letters. */
  dead: Counter<'channel'>;
}

/** `stats` and `now` are read at scrape time. */
export function createNotifyMetrics(registry: Registry, stats: () => ChannelStats[], now: () => number): NotifyMetrics {
  const registers = [registry];
  const perChannel = (name: string, help: string, pick: (s: ChannelStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const s of stats()) this.set({ channel: s.channel }, pick(s));
      },
    });
  perChannel('ioc_hub_notify_queue_depth', 'Notifications waiting to be delivered (pending, retries included)', (s) => s.pending);
  perChannel('ioc_hub_notify_oldest_pending_age_seconds', 'Age of the oldest notification still pending (0 when none)', (s) => (s.oldestPendingAt === null ? 0 : Math.max(0, (now() - s.oldestPendingAt) / 1000)));
  perChannel('ioc_hub_notify_dead_letters', 'Dead letters waiting for an admin (GET /api/v1/notifications/dead)', (s) => s.dead);
  return {
    sent: new Counter({ name: 'ioc_hub_notify_sent_total', help: 'Notifications delivered', labelNames: ['channel'], registers }),
    failed: new Counter({ name: 'ioc_hub_notify_failed_total', help: 'Failed delivery attempts, by class (transient: retried; permanent: refused by the receiver)', labelNames: ['channel', 'class'], registers }),
    dead: new Counter({ name: 'ioc_hub_notify_dead_total', help: 'Notifications that became dead letters (permanent failure, too many attempts or too old)', labelNames: ['channel'], registers }),
  };
}
