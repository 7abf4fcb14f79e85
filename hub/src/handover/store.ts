/**
 * Shift handovers on hub.db (table `handovers`, migration 7) and what a shift needs to read at its
 * start: the alert events since the last handover of its desk. A desk is the set of areas of the
 * person writing ("*" for the province's watch desk): a handover is read by the next shift of the
 * same desk, never by a desk with other areas.
 */
import type { HubDatabase } from '../db/database.js';
import type { AlertEventRecord } from '../store/types.js';

export interface HandoverRecord {
  id: number;
  ts: number;
  by: string;
  desk: string;
  note: string;
  openAlerts: number[];
}

/** The desk of a set of areas: sorted, so ["19816","19801"] and ["19801","19816"] are one desk. */
export function deskOf(areas: readonly string[]): string {
  return [...new Set(areas)].sort().join(',');
}

export class SqliteHandoverStore {
  constructor(private readonly db: HubDatabase) {}

  /** Runs `fn` in one transaction (the handover and its audit entry go in together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  add(h: Omit<HandoverRecord, 'id'>): HandoverRecord {
    const r = this.db
      .prepare('INSERT INTO handovers (ts, by, desk, note, open_alerts) VALUES (?, ?, ?, ?, ?)')
      .run(h.ts, h.by, h.desk, h.note, JSON.stringify(h.openAlerts));
    return { id: Number(r.lastInsertRowid), ...h };
  }

  /** The newest handover of a desk. */
  latest(desk: string): HandoverRecord | undefined {
    const row = this.db.prepare('SELECT id, ts, by, desk, note, open_alerts FROM handovers WHERE desk = ? ORDER BY ts DESC, id DESC LIMIT 1').get(desk) as
      | { id: number; ts: number; by: string; desk: string; note: string; open_alerts: string }
      | undefined;
    return row ? { id: row.id, ts: row.ts, by: row.by, desk: row.desk, note: row.note, openAlerts: JSON.parse(row.open_alerts) as number[] } : undefined;
  }

  /**
   * Alert events at or after `since`, oldest first, at most `limit` (the caller filters them by
   * scope through the alerts they belong to).
   */
  alertEventsSince(since: number, limit: number): AlertEventRecord[] {
    return (
      this.db
        .prepare('SELECT alert_id AS alertId, ts, kind, level, value, by, note FROM alert_events WHERE ts >= ? ORDER BY ts, id LIMIT ?')
        .all(since, limit) as AlertEventRecord[]
    );
  }
}
