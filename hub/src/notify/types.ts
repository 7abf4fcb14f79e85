/**
 * Notifications: the notifier extension point. A channel type (./channels/*.ts) turns one
 * Notification into a delivery attempt and says how it went; the durable queue (./queue.ts) and
 * the dispatcher (./dispatcher.ts) decide when to try again. Nothing here knows the alert engine:
 * ./from-alert.ts is the one place that reads alerts.
 */
import type { TObject } from '@sinclair/typebox';
import type { Logger } from '@ioc/shared';
import type { Bus } from '../broker/bus.js';

export const SEVERITIES = ['minor', 'moderate', 'severe', 'extreme'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['flood', 'rain', 'fire', 'technical'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface LocalizedText {
  vi: string;
  en: string;
}

/** What a channel delivers: one alert event (or one escalation of an alert), self-contained. */
export interface Notification {
  /**
   * Stable identity of what is told, the same on every retry, replay and channel (receivers
   * deduplicate on it): `alert-{id}/{event}/{ts}/{level}`, `alert-{id}/escalation/{tier}`.
   */
  id: string;
  alertId: number;
  /** The device the alert is about (null when it is about no one device), for the caller's scope. */
  dev: string | null;
  /** Rule kind, e.g. "flood-levels". */
  ruleKind: string;
  category: Category;
  /** Alert event kind ("raised", "escalated", "cleared", "acknowledged", …) or "unacknowledged" for an escalation. */
  eventKind: string;
  /** Level after the event (0 once the condition cleared). */
  level: number;
  /** The episode's highest level so far. */
  peakLevel: number;
  /** Severity of the event's level (of the peak once the condition cleared). */
  severity: Severity;
  /** Severity of the episode's peak: routes judge this, so whoever got the alarm also gets its all-clear. */
  peakSeverity: Severity;
  /** The alert's state after the event ("open", "acknowledged", …). */
  state: string;
  area: { communeCode: string | null; provinceCode: string | null; name?: string };
  message: LocalizedText;
  /** When the event happened (epoch ms). */
  ts: number;
  /** A drill: receivers must show it as such. */
  exercise: boolean;
  /** Set on an escalation: which tier, after how long without acknowledgement. */
  escalation?: { tier: number; afterMinutes: number };
  /** The alert as the API shows it (JSON). */
  alert: unknown;
}

/** How one delivery attempt went. */
export type DeliveryOutcome =
  | { ok: true; detail?: string }
  | {
      ok: false;
      /** true: trying again cannot help (dead letter at once); false: retry with backoff. */
      permanent: boolean;
      /** One line for the attempt log (never a secret). */
      error: string;
      /** The receiver asked to wait this long (HTTP Retry-After). */
      retryAfterMs?: number;
    };

export interface DeliveryContext {
  /** Queue row id: the same for every attempt of this notification on this channel. */
  deliveryId: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the hub stops or the dispatcher gives up on the attempt. */
  signal: AbortSignal;
}

/** One configured channel. */
export interface Notifier {
  readonly id: string;
  readonly type: string;
  /** Never rejects: every failure is an outcome (the conformance suite holds each channel to it). */
  deliver(n: Notification, ctx: DeliveryContext): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}

/** What a channel may use from the hub. */
export interface NotifierDeps {
  logger: Logger;
  /** The hub's MQTT bus (the mqtt channel publishes through it). */
  bus?: Bus;
  /** The hub's version, for User-Agent and mail headers. */
  version: string;
}

/** Settings every channel has (./config.ts), besides its own. */
export interface ChannelCommon {
  id: string;
  type: string;
  /** Deliveries in flight at once on this channel. */
  concurrency: number;
  /** One attempt may take this long. */
  timeoutMs: number;
  /** Attempts before a notification becomes a dead letter. */
  maxAttempts: number;
  /** A notification still undelivered this long after it was queued (or replayed) becomes a dead letter. */
  maxAgeMinutes: number;
  retry: { initialMs: number; maxMs: number };
}

/** A channel type: its own options (TypeBox, checked with hub.yaml) and how to make one. */
export interface NotifierType<O = unknown> {
  readonly type: string;
  /** Options besides ChannelCommon; additionalProperties false is added by ./config.ts. */
  readonly options: TObject;
  create(config: ChannelCommon & O, deps: NotifierDeps): Notifier;
  /** Checks a schema cannot express (e.g. plain transport only to a loopback host), each naming its key. */
  problems?(config: ChannelCommon & O): string[];
}
