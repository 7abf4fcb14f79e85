/** Fixtures of the notification tests: a notification, channel settings, a scripted channel type, a clock. */
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { openHubDatabase, type HubDatabase } from '../src/db/database.js';
import type { ChannelConfig, NotifyConfig } from '../src/notify/config.js';
import type { DeliveryContext, DeliveryOutcome, Notification, Notifier, NotifierType } from '../src/notify/types.js';
import { tempDir, type TestLike } from './helpers.js';

export function notification(over: Partial<Notification> = {}): Notification {
  const alertId = over.alertId ?? 7;
  const ts = over.ts ?? 1_700_000_000_000;
  const eventKind = over.eventKind ?? 'raised';
  const level = over.level ?? 2;
  return {
    id: `alert-${alertId}/${eventKind}/${ts}/${level}`,
    alertId,
    dev: 'wl-kimlong',
    ruleKind: 'flood-level',
    category: 'flood',
    eventKind,
    level,
    peakLevel: level,
    severity: 'moderate',
    peakSeverity: 'moderate',
    state: 'open',
    area: { communeCode: '19816', provinceCode: '46' },
    message: { vi: 'Báo động cấp 2 — Trạm Kim Long (sông Hương): 2,12 m', en: 'Alarm level 2 — Kim Long station (Hương river): 2.12 m' },
    ts,
    exercise: false,
    alert: { id: alertId, dev: 'wl-kimlong', level },
    ...over,
  };
}

/** Channel settings with the schema's defaults, short retries. */
export function channelConfig(over: Partial<ChannelConfig> & { id: string; type: string }): ChannelConfig {
  return { concurrency: 2, timeoutMs: 2000, maxAttempts: 5, maxAgeMinutes: 60, retry: { initialMs: 1000, maxMs: 60_000 }, ...over };
}

export function notifyConfig(over: Partial<NotifyConfig> = {}): NotifyConfig {
  return { channels: [], routes: [], escalation: [], ...over };
}

/** A clock tests move by hand. */
export function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  const now = () => t;
  return { now, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

export type Behaviour = (n: Notification, ctx: DeliveryContext) => Promise<DeliveryOutcome> | DeliveryOutcome;

/**
 * Channel type "test": each channel does what `behave[id]` says (default: delivered) and records
 * what it was given. `hold(id)` makes deliveries wait until released.
 */
export function scriptedChannels() {
  const behave: Record<string, Behaviour> = {};
  const calls: Array<{ channel: string; n: Notification; attempt: number; deliveryId: number }> = [];
  const delivered: Array<{ channel: string; n: Notification }> = [];
  const type: NotifierType = {
    type: 'test',
    options: Type.Object({}),
    create(c): Notifier {
      return {
        id: c.id,
        type: 'test',
        async deliver(n, ctx) {
          calls.push({ channel: c.id, n, attempt: ctx.attempt, deliveryId: ctx.deliveryId });
          const o = await (behave[c.id] ?? (() => ({ ok: true as const })))(n, ctx);
          if (o.ok) delivered.push({ channel: c.id, n });
          return o;
        },
        async close() {},
      };
    },
  };
  /** Outcomes in order, then delivered. */
  const script = (id: string, outcomes: DeliveryOutcome[]) => {
    behave[id] = () => outcomes.shift() ?? { ok: true };
  };
  /** Deliveries wait until release(); then they are delivered. */
  const hold = (id: string) => {
    const waiting: Array<() => void> = [];
    let open = false;
    behave[id] = () => (open ? { ok: true } : new Promise<DeliveryOutcome>((r) => waiting.push(() => r({ ok: true }))));
    return {
      waiting: () => waiting.length,
      release: () => {
        open = true;
        for (const w of waiting.splice(0)) w();
      },
    };
  };
  return { type, behave, calls, delivered, script, hold };
}

export const TRANSIENT: DeliveryOutcome = { ok: false, permanent: false, error: 'HTTP 503: busy' };
export const PERMANENT: DeliveryOutcome = { ok: false, permanent: true, error: 'HTTP 400: bad request' };

/** hub.db with every migration, in a temp folder removed after the test; reopen() gives a new connection. */
export function notifyDb(t: TestLike): { dir: string; path: string; open(): HubDatabase } {
  const { dir, cleanup } = tempDir('ioc-notify-test-');
  const opened: HubDatabase[] = [];
  t.after(() => {
    for (const db of opened) if (db.open) db.close();
    cleanup();
  });
  const path = join(dir, 'hub.db');
  return {
    dir,
    path,
    open() {
      const db = openHubDatabase(path);
      opened.push(db);
      return db;
    },
  };
}
