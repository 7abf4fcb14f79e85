/**
 * Is this file a sound hub.db this hub can use? SQLite's integrity check (every page, index and
 * constraint), the schema version (user_version, see db/migrations.ts) against this hub's, and
 * the tables every hub.db has. Used on a fresh backup before it is kept, and on a backup before
 * it replaces hub.db.
 */
import type Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../db/database.js';

export interface DatabaseCheck {
  ok: boolean;
  /** "ok", or SQLite's first complaints. */
  integrity: string[];
  schemaVersion: number;
  /** What is wrong, for a person (empty when ok). */
  problems: string[];
}

/** Tables of the first migrations: a file without them is not a hub.db. */
const REQUIRED_TABLES = ['readings', 'gw_ranges', 'gateways', 'alerts'];

export function checkHubDatabase(db: Database.Database): DatabaseCheck {
  const problems: string[] = [];
  let integrity: string[];
  try {
    integrity = (db.pragma('integrity_check(20)') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
  } catch (err) {
    integrity = [(err as Error).message];
  }
  if (integrity.length !== 1 || integrity[0] !== 'ok') problems.push(`integrity check failed: ${integrity.slice(0, 5).join('; ')}`);
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  if (schemaVersion > SCHEMA_VERSION) problems.push(`schema version ${schemaVersion} is newer than this hub's (${SCHEMA_VERSION}): it was made by a newer ioc-hub; upgrade this one first`);
  if (schemaVersion < 1) problems.push('no schema version: not a hub database');
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (schemaVersion >= 1 && missing.length) problems.push(`not a hub database (no table ${missing.join(', ')})`);
  return { ok: problems.length === 0, integrity, schemaVersion, problems };
}
