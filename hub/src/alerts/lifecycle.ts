/**
 * What people do to alerts: acknowledge (with a note), assign / hand over, shelve for maintenance
 * until a time, close once the condition has cleared, confirm the candidate disaster-risk level.
 * Each action is a transaction with its history entry and the caller's `within` (the audit
 * entry), then announced like the engine's changes. An alert outside the caller's scope is
 * "not found".
 */
import type { AlertRecord, AlertStore, DeviceScope } from '../store/types.js';
import type { AlertEngine } from './engine.js';
import type { AlertHistoryEntry, AlertView } from './types.js';
import type { AlertViews } from './views.js';

export class AlertActionError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'AlertActionError';
  }
}

export interface ActionContext {
  /** The person acting (principal id). */
  by: string;
  scope: DeviceScope;
  /** Runs inside the action's transaction (the audit entry commits with the change). */
  within?: (a: AlertRecord) => void;
}

/** Longest a shelf may hold: maintenance, not a way to silence a station for good. */
export const MAX_SHELF_MS = 7 * 24 * 3_600_000;

export class AlertActions {
  constructor(
    private readonly alerts: AlertStore,
    private readonly views: AlertViews,
    private readonly engine: Pick<AlertEngine, 'announce' | 'setShelf'>,
    private readonly now: () => number = Date.now,
  ) {}

  private find(id: number, scope: DeviceScope): AlertRecord {
    const a = this.alerts.get(id, scope);
    if (!a) throw new AlertActionError('not_found', `alert ${id} not found`);
    return a;
  }

  private requireNote(note: string | undefined, what: string): string {
    const n = note?.trim();
    if (!n) throw new AlertActionError('invalid', `a note is required to ${what} (what you saw, what you did)`);
    return n;
  }

  acknowledge(id: number, note: string | undefined, ctx: ActionContext): AlertView {
    const text = this.requireNote(note, 'acknowledge an alert');
    const a = this.find(id, ctx.scope);
    if (a.state === 'closed') throw new AlertActionError('conflict', `alert ${id} is closed`);
    if (a.acknowledgedAt !== null && a.state !== 'open') throw new AlertActionError('conflict', `alert ${id} is already acknowledged`);
    const now = this.now();
    return this.act(a, 'acknowledged', text, ctx, { state: a.state === 'cleared' ? 'cleared' : 'acknowledged', acknowledgedBy: ctx.by, acknowledgedAt: now, note: text });
  }

  /** Assigns (or hands over to the next shift): the note says what the next person needs to know. */
  assign(id: number, assignee: string, note: string | undefined, ctx: ActionContext): AlertView {
    const text = this.requireNote(note, 'hand an alert over');
    const a = this.find(id, ctx.scope);
    if (a.state === 'closed') throw new AlertActionError('conflict', `alert ${id} is closed`);
    return this.act(a, 'assigned', `→ ${assignee}: ${text}`, ctx, { assignee });
  }

  /** Shelves the alert's target until `until` (a technician on site): changes are recorded, not notified. */
  shelve(id: number, until: number, note: string | undefined, ctx: ActionContext): AlertView {
    const text = this.requireNote(note, 'shelve an alert');
    const a = this.find(id, ctx.scope);
    const now = this.now();
    if (until <= now) throw new AlertActionError('invalid', 'the shelf must end in the future');
    if (until - now > MAX_SHELF_MS) throw new AlertActionError('invalid', 'a shelf may hold at most 7 days');
    const view = this.act(a, 'shelved', text, ctx, { shelvedUntil: until, shelvedBy: ctx.by }, () =>
      this.alerts.setShelf({ rule: a.rule, target: a.target, until, by: ctx.by, note: text }),
    );
    this.engine.setShelf(a.rule, a.target, until);
    return view;
  }

  unshelve(id: number, note: string | undefined, ctx: ActionContext): AlertView {
    const a = this.find(id, ctx.scope);
    if (a.shelvedUntil === null) throw new AlertActionError('conflict', `alert ${id} is not shelved`);
    const view = this.act(a, 'unshelved', note?.trim() || null, ctx, { shelvedUntil: null, shelvedBy: null }, () =>
      this.alerts.setShelf({ rule: a.rule, target: a.target, until: null }),
    );
    this.engine.setShelf(a.rule, a.target, 0);
    return view;
  }

  close(id: number, note: string | undefined, ctx: ActionContext): AlertView {
    const text = this.requireNote(note, 'close an alert');
    const a = this.find(id, ctx.scope);
    if (a.state === 'closed') throw new AlertActionError('conflict', `alert ${id} is already closed`);
    if (a.active || a.late) {
      throw new AlertActionError('conflict', `alert ${id} cannot be closed while its condition is present (level ${a.level}); acknowledge it, or shelve it for maintenance`);
    }
    return this.act(a, 'closed', text, ctx, { state: 'closed', closedBy: ctx.by, closedAt: this.now(), note: text });
  }

  /** An operator confirms the disaster-risk level (the forecasting agency's, or the candidate). */
  confirmRisk(id: number, level: number, note: string | undefined, ctx: ActionContext): AlertView {
    const a = this.find(id, ctx.scope);
    if (a.category !== 'flood') throw new AlertActionError('conflict', `alert ${id} is not a flood alert`);
    if (a.state === 'closed') throw new AlertActionError('conflict', `alert ${id} is closed`);
    return this.act(a, 'risk-confirmed', note?.trim() || null, ctx, { riskLevel: level, riskConfirmedBy: ctx.by, riskConfirmedAt: this.now() }, undefined, level);
  }

  private act(
    a: AlertRecord,
    kind: AlertHistoryEntry['kind'],
    note: string | null,
    ctx: ActionContext,
    patch: Partial<AlertRecord>,
    alsoWithin?: () => void,
    level = a.level,
  ): AlertView {
    const now = this.now();
    this.alerts.transaction(() => {
      this.alerts.update(a.id, { ...patch, updatedAt: Math.max(now, a.updatedAt) });
      this.alerts.addEvent({ alertId: a.id, ts: now, kind, level, value: null, by: ctx.by, note });
      alsoWithin?.();
      ctx.within?.(a);
    });
    const event: AlertHistoryEntry = { ts: now, kind, level, value: null, by: ctx.by, note };
    this.engine.announce([{ alertId: a.id, event, shelved: false }]);
    return this.views.get(a.id, ctx.scope)!;
  }
}
