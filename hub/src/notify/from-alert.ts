/**
 * The one place that reads the alert model: AlertChange / AlertView → Notification, an alert's
 * state for escalation, and alert history since a mark (recovery). Fields the alert model may or
 * may not carry yet (severity, category, area, exercise, state names) are read defensively, with
 * the value derived from what is there when they are absent.
 */
import type { AlertChange, AlertHistoryEntry, AlertView, LocalizedText } from '../alerts/types.js';
import { eventMessage } from '../alerts/views.js';
import type { HubDatabase } from '../db/database.js';
import { CATEGORIES, SEVERITIES, type Category, type Notification, type Severity } from './types.js';

/** Levels 1, 2, 3 (Báo động I–III) and above (BĐ3 + 0.3 m, + 1 m, historic peak). */
export function severityOfLevel(level: number): Severity {
  return level >= 4 ? 'extreme' : level === 3 ? 'severe' : level === 2 ? 'moderate' : 'minor';
}

function categoryOfRule(kind: string): Category {
  if (/flood|water|river/.test(kind)) return 'flood';
  if (/rain/.test(kind)) return 'rain';
  if (/fire|smoke/.test(kind)) return 'fire';
  return 'technical';
}

const pick = <T extends string>(allowed: readonly T[], v: unknown): T | undefined =>
  typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;

type Loose = Record<string, unknown>;

export function notificationId(alertId: number, e: Pick<AlertHistoryEntry, 'kind' | 'ts' | 'level'>): string {
  return `alert-${alertId}/${e.kind}/${e.ts}/${e.level}`;
}

/** A notification of one alert event, with the message saying what happened. */
export function notificationOf(alert: AlertView, event: AlertHistoryEntry, message: LocalizedText): Notification {
  const a = alert as AlertView & Loose;
  const ruleKind = typeof a.kind === 'string' ? a.kind : a.rule;
  const peakLevel = Math.max(a.maxLevel ?? 0, event.level);
  const peakSeverity = pick(SEVERITIES, a.maxSeverity) ?? severityOfLevel(peakLevel);
  const severity = event.level > 0 ? pick(SEVERITIES, a.severity) ?? severityOfLevel(event.level) : peakSeverity;
  const area = (a.area ?? null) as { communeCode?: string; provinceCode?: string; communeName?: string } | null;
  const communeCode = area?.communeCode ?? a.device?.communeCode ?? null;
  const provinceCode = area?.provinceCode ?? a.device?.provinceCode ?? null;
  return {
    id: notificationId(a.id, event),
    alertId: a.id,
    dev: typeof a.dev === 'string' ? a.dev : null,
    ruleKind,
    category: pick(CATEGORIES, a.category) ?? categoryOfRule(ruleKind),
    eventKind: event.kind,
    level: event.level,
    peakLevel,
    severity,
    peakSeverity,
    state: String(a.state),
    area: { communeCode, provinceCode, ...(area?.communeName ? { name: area.communeName } : {}) },
    message,
    ts: event.ts,
    exercise: a.exercise === true,
    alert,
  };
}

export function notificationFromChange(c: AlertChange): Notification {
  return notificationOf(c.alert, c.event, c.message);
}

/**
 * The message of an event read back from history (recovery after a crash between the alert's
 * commit and its enqueue): in the words the live path uses.
 */
function historyMessage(alert: AlertView, e: AlertHistoryEntry): LocalizedText {
  return eventMessage(alert, e);
}

/** What escalation needs of an alert now: "open" with a level above 0 means nobody has acted on a present condition. */
export function alertStateOf(alert: AlertView): { state: string; level: number } {
  return { state: String(alert.state), level: alert.level };
}

export interface HistoryEvent {
  /** Monotonic position in the alert history (the event row id). */
  seq: number;
  notification: Notification;
}

/** Alert history read back by position: the recovery path of ./service.ts. */
export interface AlertHistorySource {
  /** Position of the newest event (0 when there is none). */
  head(): number;
  /**
   * Events after `mark`, oldest first, from at most `limit` rows; `upTo` is the last position
   * read (events of alerts that no longer exist are skipped, the mark still moves past them).
   */
  since(mark: number, limit: number): { events: HistoryEvent[]; upTo: number };
}

/** Reads the alert_events table (the alert store's) and builds each event's notification from the alert's view. */
export function alertHistorySource(db: HubDatabase, view: (alertId: number) => AlertView | undefined): AlertHistorySource {
  const head = db.prepare('SELECT coalesce(max(id), 0) FROM alert_events').pluck();
  // What the engine announces: not the steps of an episode found in a backlog before it was
  // announced ('announced') or reported as missed ('missed') — those two events stand for them.
  const since = db.prepare(
    `SELECT id, alert_id AS alertId, ts, kind, level, value, by, note FROM alert_events e WHERE id > ?
       AND NOT EXISTS (SELECT 1 FROM alert_events l WHERE l.alert_id = e.alert_id AND l.kind IN ('announced', 'missed') AND l.id > e.id)
     ORDER BY id LIMIT ?`,
  );
  return {
    head: () => head.get() as number,
    since(mark, limit) {
      const events: HistoryEvent[] = [];
      let upTo = mark;
      for (const r of since.all(mark, limit) as Array<AlertHistoryEntry & { id: number; alertId: number }>) {
        upTo = r.id;
        const alert = view(r.alertId);
        // Not announced yet (late), or the change of a target shelved for maintenance.
        if (!alert || alert.late || (r.by === null && alert.shelvedUntil !== null && r.ts <= alert.shelvedUntil)) continue;
        const event: AlertHistoryEntry = { ts: r.ts, kind: r.kind, level: r.level, value: r.value, by: r.by, note: r.note };
        events.push({ seq: r.id, notification: notificationOf(alert, event, historyMessage(alert, event)) });
      }
      return { events, upTo };
    },
  };
}
