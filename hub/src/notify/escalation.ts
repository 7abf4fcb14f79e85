/**
 * Escalation: an alert still open (nobody acknowledged it, its condition present) `afterMinutes`
 * after it was raised goes to the tier's channels. Each tier is armed once per alert (a durable
 * timer row), when the first notification of the alert that matches the tier arrives while the
 * alert is open; anything that takes the alert out of "open" (acknowledged, cleared, closed…)
 * cancels its pending tiers. When a timer is due the alert's current state decides again, so an
 * acknowledgement whose notification was missed still cancels.
 */
import type { EscalationTier } from './config.js';
import type { NotifyQueue } from './queue.js';
import { tierMatches } from './routes.js';
import type { Notification } from './types.js';

export type AlertStateFn = (alertId: number) => { state: string; level: number } | undefined;

const isOpen = (s: { state: string; level: number } | undefined) => s !== undefined && s.state === 'open' && s.level > 0;

export class Escalations {
  constructor(
    private readonly queue: NotifyQueue,
    private readonly tiers: readonly EscalationTier[],
    private readonly alertState: AlertStateFn,
  ) {}

  /** Arms or cancels this alert's tiers after one of its events (inside the enqueue transaction). */
  onEvent(n: Notification, now: number): void {
    if (!isOpen(n)) {
      this.queue.cancelEscalations(n.alertId, `alert ${n.eventKind} (${n.state})`, now);
      return;
    }
    this.tiers.forEach((t, i) => {
      if (tierMatches(n, t)) this.queue.armEscalation(n, i, now + t.afterMinutes * 60_000, now);
    });
  }

  /** Fires or cancels the timers due at `now`; returns the escalation notifications to enqueue with their channels. */
  due(now: number, limit = 500): Array<{ notification: Notification; channels: string[] }> {
    const out: Array<{ notification: Notification; channels: string[] }> = [];
    for (const e of this.queue.dueEscalations(now, limit)) {
      const tier = this.tiers[e.tier];
      const state = this.alertState(e.alertId);
      if (!tier) {
        this.queue.decideEscalation(e.alertId, e.tier, 'cancelled', 'tier no longer configured', now);
      } else if (!isOpen(state)) {
        this.queue.decideEscalation(e.alertId, e.tier, 'cancelled', state ? `alert ${state.state} at level ${state.level}` : 'alert not found', now);
      } else {
        const n0 = e.payload;
        const m = tier.afterMinutes;
        out.push({
          channels: tier.channels,
          notification: {
            ...n0,
            id: `alert-${e.alertId}/escalation/${e.tier}`,
            eventKind: 'unacknowledged',
            level: state!.level,
            state: state!.state,
            ts: now,
            escalation: { tier: e.tier, afterMinutes: m },
            message: { vi: `Chưa được xác nhận sau ${m} phút: ${n0.message.vi}`, en: `Not acknowledged after ${m} minutes: ${n0.message.en}` },
          },
        });
        this.queue.decideEscalation(e.alertId, e.tier, 'fired', `not acknowledged after ${m} min`, now);
      }
    }
    return out;
  }
}
