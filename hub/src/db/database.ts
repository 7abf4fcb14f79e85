/**
 * hub.db: one SQLite file for the hub's state (readings and their accounting, alerts, people,
 * audit log, gateway identities). Opened here once, with the pragmas every part relies on and the
 * migrations of every part applied in order; the parts take the open handle.
 *
 * The file is created 0600 (and its folder 0700): it holds password hashes and personal data.
 * SQLite creates the -wal and -shm files with the database file's permissions; ones left by an
 * older hub (created with the umask's mode) are narrowed too.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type HubDatabase = Database.Database;

export interface OpenHubDatabaseOptions {
  /** Open an existing file without writing to it (`ioc-hub audit verify`, backups' checks). */
  readonly?: boolean;
  /** How long a statement waits for another writer (hub, `ioc-hub` command, backup) before failing. */
  busyTimeoutMs?: number;
}

export function openHubDatabase(path: string, opts: OpenHubDatabaseOptions = {}): HubDatabase {
  const timeout = opts.busyTimeoutMs ?? 5000;
  if (opts.readonly) {
    if (!existsSync(path)) throw new Error(`${path}: no such database (is hub.dataDir right?)`);
    return new Database(path, { readonly: true, fileMustExist: true, timeout });
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  // An older hub created the file (and its WAL and shared-memory files) with the umask's mode.
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (f === path || existsSync(f)) chmodSync(f, 0o600);
  // The busy timeout is set on open, before the first statement (switching to WAL takes a lock too).
  const db = new Database(path, { timeout });
  db.pragma('journal_mode = WAL');
  // An ack lets a gateway delete its copy: a commit must survive a power cut, not only a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Each step in its own write transaction that re-reads the version: hub and CLI may open the file at once. */
function migrate(db: HubDatabase): void {
  const step = db.transaction((): boolean => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(`hub.db schema version ${current} is newer than this hub (${SCHEMA_VERSION}); upgrade the hub`);
    }
    if (current === SCHEMA_VERSION) return false;
    db.exec(MIGRATIONS[current]!.sql);
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  while (step.immediate());
}
