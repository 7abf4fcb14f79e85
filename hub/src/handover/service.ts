/**
 * What a shift reads when it starts and writes when it ends: since the last handover of its desk
 * (or the last 24 h), the alerts that were opened, escalated, acknowledged, cleared or closed, the
 * notes people wrote on alerts, and the alerts open now — all within the reader's scope.
 */
import type { AlertViews } from '../alerts/views.js';
import type { AlertView } from '../alerts/types.js';
import type { Scope } from '../auth/scope.js';
import type { AlertEventKind } from '../store/types.js';
import { deskOf, type HandoverRecord, type SqliteHandoverStore } from './store.js';
import type { AlertBrief, HandoverChange, HandoverSummary } from './views.js';

/** Without any handover yet, a shift looks back this far. */
export const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;
/** Events read per summary: a typhoon night has hundreds, not tens of thousands. */
const MAX_EVENTS = 5_000;
const OPEN_LIMIT = 1_000;

const CHANGE_KINDS: ReadonlySet<AlertEventKind> = new Set<AlertEventKind>(['raised', 'escalated', 'acknowledged', 'cleared', 'closed']);

export function brief(a: AlertView): AlertBrief {
  return { id: a.id, level: a.level, state: a.state, category: a.category, levelLabel: a.levelLabel, message: a.message, deviceName: a.device?.name ?? null, communeCode: a.communeCode };
}

export class HandoverService {
  constructor(
    private readonly store: SqliteHandoverStore,
    private readonly alerts: AlertViews,
    private readonly now: () => number = Date.now,
  ) {}

  current(scope: Scope): HandoverSummary {
    const last = this.store.latest(deskOf(scope.areas));
    const since = last ? last.ts : this.now() - DEFAULT_LOOKBACK_MS;
    const events = this.store.alertEventsSince(since, MAX_EVENTS);
    // Each alert once, through the scope: an alert outside it does not exist for this reader.
    const views = new Map<number, AlertView | null>();
    const view = (id: number) => {
      if (!views.has(id)) views.set(id, this.alerts.get(id, scope.devices) ?? null);
      return views.get(id)!;
    };
    const alertsChanged: HandoverChange[] = [];
    const notes: HandoverChange[] = [];
    for (const e of events) {
      const isChange = CHANGE_KINDS.has(e.kind);
      if (!isChange && !e.note) continue;
      const a = view(e.alertId);
      if (!a) continue;
      const c: HandoverChange = { ts: e.ts, kind: e.kind, level: e.level, by: e.by, note: e.note, alert: brief(a) };
      if (isChange) alertsChanged.push(c);
      if (e.note) notes.push(c);
    }
    const open = this.alerts.list({ scope: scope.devices, unclosed: true, limit: OPEN_LIMIT }).sort((a, b) => b.level - a.level || b.openedAt - a.openedAt);
    return {
      since,
      lastHandover: last ? { id: last.id, by: last.by, at: last.ts, note: last.note, openAlerts: last.openAlerts } : null,
      alertsChanged: alertsChanged.reverse(),
      openAlerts: open.map(brief),
      notes: notes.reverse(),
    };
  }

  /** Records the handover; `within` (the audit entry) runs in the same transaction. */
  write(scope: Scope, by: string, note: string, within: (h: HandoverRecord) => void = () => undefined): HandoverRecord {
    const open = this.alerts.list({ scope: scope.devices, unclosed: true, limit: OPEN_LIMIT });
    return this.store.transaction(() => {
      const h = this.store.add({ ts: this.now(), by, desk: deskOf(scope.areas), note, openAlerts: open.map((a) => a.id) });
      within(h);
      return h;
    });
  }
}
