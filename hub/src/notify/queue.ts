/**
 * The durable notification queue in hub.db: one row per notification × channel (a unique key, so
 * the same event enqueued twice — live and again from history after a crash — is one row), every
 * attempt with its outcome, escalation timers and the recovery mark. Synchronous (better-sqlite3):
 * a row is on disk before enqueue() returns.
 */
import type { HubDatabase } from '../db/database.js';
import type { Notification } from './types.js';

export type QueueStatus = 'pending' | 'delivered' | 'dead';
export type AttemptOutcome = 'delivered' | 'retry' | 'dead';

export interface QueueRow {
  id: number;
  notificationId: string;
  channel: string;
  alertId: number;
  dev: string | null;
  eventKind: string;
  status: QueueStatus;
  attempts: number;
  nextAt: number;
  createdAt: number;
  ageFrom: number;
  updatedAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  deadReason: string | null;
  replays: number;
}

export interface AttemptRow {
  id: number;
  queueId: number;
  channel: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  durationMs: number;
  error?: string;
}

export interface ChannelStats {
  channel: string;
  pending: number;
  dead: number;
  /** When the oldest pending row was queued (or replayed). */
  oldestPendingAt: number | null;
}

export interface EscalationRow {
  alertId: number;
  tier: number;
  dueAt: number;
  payload: Notification;
}

export interface ListFilter {
  status?: QueueStatus;
  channel?: string;
  alertId?: number;
  /** Rows with id below this (paging back). */
  beforeId?: number;
  limit: number;
}

/** Error texts are kept short: enough to diagnose, never a whole response body. */
export const MAX_ERROR_CHARS = 500;
const cut = (s: string | undefined) => (s === undefined ? null : s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS - 1)}…` : s);

const ROW = `id, notification_id AS notificationId, channel, alert_id AS alertId, dev, event_kind AS eventKind, status, attempts,
  next_at AS nextAt, created_at AS createdAt, age_from AS ageFrom, updated_at AS updatedAt, delivered_at AS deliveredAt,
  last_error AS lastError, dead_reason AS deadReason, replays`;

export class NotifyQueue {
  private readonly s;

  constructor(private readonly db: HubDatabase) {
    this.s = {
      insert: db.prepare(`INSERT OR IGNORE INTO notify_queue
        (dedup_key, notification_id, channel, alert_id, dev, event_kind, payload, status, next_at, created_at, age_from, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`),
      due: db.prepare(`SELECT ${ROW}, payload FROM notify_queue WHERE status = 'pending' AND channel = ? AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
      get: db.prepare(`SELECT ${ROW} FROM notify_queue WHERE id = ?`),
      payload: db.prepare('SELECT payload FROM notify_queue WHERE id = ?').pluck(),
      attempt: db.prepare('INSERT INTO notify_attempts (queue_id, channel, attempt, started_at, duration_ms, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      delivered: db.prepare(`UPDATE notify_queue SET status = 'delivered', attempts = ?, delivered_at = ?, updated_at = ?, last_error = NULL WHERE id = ?`),
      retry: db.prepare(`UPDATE notify_queue SET attempts = ?, next_at = ?, updated_at = ?, last_error = ? WHERE id = ?`),
      dead: db.prepare(`UPDATE notify_queue SET status = 'dead', attempts = ?, updated_at = ?, last_error = coalesce(?, last_error), dead_reason = ? WHERE id = ?`),
      replay: db.prepare(`UPDATE notify_queue SET status = 'pending', attempts = 0, next_at = ?, age_from = ?, updated_at = ?, dead_reason = NULL, replays = replays + 1
        WHERE id = ? AND status = 'dead'`),
      // Delivered rows are most of the table and never counted: IN (…) keeps to the status index.
      stats: db.prepare(`SELECT channel, sum(status = 'pending') AS pending, sum(status = 'dead') AS dead,
        min(CASE WHEN status = 'pending' THEN age_from END) AS oldestPendingAt FROM notify_queue WHERE status IN ('pending', 'dead') GROUP BY channel`),
      arm: db.prepare(`INSERT OR IGNORE INTO notify_escalations (alert_id, tier, due_at, state, payload, created_at) VALUES (?, ?, ?, 'pending', ?, ?)`),
      cancel: db.prepare(`UPDATE notify_escalations SET state = 'cancelled', decided_at = ?, reason = ? WHERE alert_id = ? AND state = 'pending'`),
      dueEscalations: db.prepare(`SELECT alert_id AS alertId, tier, due_at AS dueAt, payload FROM notify_escalations WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?`),
      decide: db.prepare(`UPDATE notify_escalations SET state = ?, decided_at = ?, reason = ? WHERE alert_id = ? AND tier = ? AND state = 'pending'`),
      escalationsOf: db.prepare(`SELECT alert_id AS alertId, tier, due_at AS dueAt, state, reason FROM notify_escalations WHERE alert_id = ? ORDER BY tier`),
      mark: db.prepare('SELECT value FROM notify_marks WHERE name = ?').pluck(),
      setMark: db.prepare('INSERT INTO notify_marks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Queues `n` for each channel (already queued ones are left as they are); returns the rows added. */
  enqueue(n: Notification, channels: readonly string[], now: number): number {
    let added = 0;
    const payload = JSON.stringify(n);
    for (const ch of channels) {
      added += this.s.insert.run(`${n.id}|${ch}`, n.id, ch, n.alertId, n.dev, n.eventKind, payload, now, now, now, now).changes;
    }
    return added;
  }

  /** Pending rows of a channel due at `now`, oldest first. */
  due(channel: string, now: number, limit: number): Array<{ row: QueueRow; notification: Notification }> {
    return (this.s.due.all(channel, now, limit) as Array<QueueRow & { payload: string }>).map(({ payload, ...row }) => ({ row, notification: JSON.parse(payload) as Notification }));
  }

  get(id: number): QueueRow | undefined {
    return this.s.get.get(id) as QueueRow | undefined;
  }

  notificationOf(id: number): Notification | undefined {
    const p = this.s.payload.get(id) as string | undefined;
    return p === undefined ? undefined : (JSON.parse(p) as Notification);
  }

  delivered(row: QueueRow, a: AttemptRecord, now: number): void {
    this.transaction(() => {
      this.s.attempt.run(row.id, row.channel, a.attempt, a.startedAt, a.durationMs, 'delivered', cut(a.error));
      this.s.delivered.run(a.attempt, now, now, row.id);
    });
  }

  retry(row: QueueRow, a: AttemptRecord & { error: string }, nextAt: number, now: number): void {
    this.transaction(() => {
      this.s.attempt.run(row.id, row.channel, a.attempt, a.startedAt, a.durationMs, 'retry', cut(a.error));
      this.s.retry.run(a.attempt, nextAt, now, cut(a.error), row.id);
    });
  }

  /** A dead letter: after an attempt (`a`), or without one (expired before it could be tried). */
  dead(row: QueueRow, reason: string, now: number, a?: AttemptRecord): void {
    this.transaction(() => {
      if (a) this.s.attempt.run(row.id, row.channel, a.attempt, a.startedAt, a.durationMs, 'dead', cut(a.error));
      this.s.dead.run(a?.attempt ?? row.attempts, now, cut(a?.error), cut(reason), row.id);
    });
  }

  /** A dead letter back to pending, due now, with a fresh attempt count and age. */
  replay(id: number, now: number): boolean {
    return this.s.replay.run(now, now, now, id).changes === 1;
  }

  list(f: ListFilter): QueueRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) (where.push('status = ?'), args.push(f.status));
    if (f.channel) (where.push('channel = ?'), args.push(f.channel));
    if (f.alertId !== undefined) (where.push('alert_id = ?'), args.push(f.alertId));
    if (f.beforeId !== undefined) (where.push('id < ?'), args.push(f.beforeId));
    const sql = `SELECT ${ROW} FROM notify_queue ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, f.limit) as QueueRow[];
  }

  /** Attempts of these rows, oldest first, at most `perRow` (the newest) each. */
  attemptsOf(ids: readonly number[], perRow = 20): Map<number, AttemptRow[]> {
    const out = new Map<number, AttemptRow[]>();
    if (!ids.length) return out;
    const rows = this.db
      .prepare(
        `SELECT id, queue_id AS queueId, channel, attempt, started_at AS startedAt, duration_ms AS durationMs, outcome, error
         FROM notify_attempts WHERE queue_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`,
      )
      .all(...ids) as AttemptRow[];
    for (const r of rows) {
      const list = out.get(r.queueId) ?? [];
      list.push(r);
      if (list.length > perRow) list.shift();
      out.set(r.queueId, list);
    }
    return out;
  }

  stats(): ChannelStats[] {
    return this.s.stats.all() as ChannelStats[];
  }

  // -- escalation ----------------------------------------------------------------------------

  /** Arms tier `tier` for the alert unless it was armed before (once per tier per alert). */
  armEscalation(n: Notification, tier: number, dueAt: number, now: number): boolean {
    return this.s.arm.run(n.alertId, tier, dueAt, JSON.stringify(n), now).changes === 1;
  }

  cancelEscalations(alertId: number, reason: string, now: number): number {
    return this.s.cancel.run(now, reason, alertId).changes;
  }

  dueEscalations(now: number, limit: number): EscalationRow[] {
    return (this.s.dueEscalations.all(now, limit) as Array<Omit<EscalationRow, 'payload'> & { payload: string }>).map((r) => ({ ...r, payload: JSON.parse(r.payload) as Notification }));
  }

  decideEscalation(alertId: number, tier: number, state: 'fired' | 'cancelled', reason: string, now: number): void {
    this.s.decide.run(state, now, reason, alertId, tier);
  }

  escalationsOf(alertId: number): Array<{ alertId: number; tier: number; dueAt: number; state: string; reason: string | null }> {
    return this.s.escalationsOf.all(alertId) as Array<{ alertId: number; tier: number; dueAt: number; state: string; reason: string | null }>;
  }

  // -- recovery mark -------------------------------------------------------------------------

  mark(name: string): number | undefined {
    return this.s.mark.get(name) as number | undefined;
  }

  setMark(name: string, value: number): void {
    this.s.setMark.run(name, value);
  }
}
