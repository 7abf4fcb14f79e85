/**
 * Restore hub.db from a backup (`ioc-hub restore`). Only with the hub stopped: the data
 * directory's lock (shared/src/dir-lock.ts) is taken for the whole restore, so a running hub makes
 * it refuse and a hub started meanwhile is refused.
 *
 * The backup is first copied into the data directory (0600) and checked there — integrity,
 * schema version not newer than this hub's, and its audit chain against this hub's secret key —
 * so nothing is replaced by a file that would not open, and the backup file itself is only read.
 * The database it replaces is kept as hub.db.before-restore-<time> (with its -wal, under the
 * name SQLite looks for), then the copy is renamed into place, migrated if it is older, and the
 * restore is recorded in its audit log.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { acquireDirLock } from '@ioc/shared';
import { SqliteAuditLog } from '../audit/sqlite.js';
import { openHubDatabase, SCHEMA_VERSION } from '../db/database.js';
import type { Keyring } from '../secrets/keyring.js';
import { fsyncDir, sha256File } from './backup.js';
import { checkHubDatabase } from './verify.js';

export interface RestoreOptions {
  dataDir: string;
  file: string;
  keyring: Keyring;
  /** Who restores (audit actor), e.g. cli:root. */
  actor: string;
  /** Restore even if the backup's audit chain does not verify with this key. */
  allowUnverifiedAudit?: boolean;
  now?: () => number;
  onStep?: (msg: string) => void;
}

export interface RestoreResult {
  schemaVersion: number;
  migratedTo: number;
  /** Where the replaced database was kept (null when there was none). */
  previous: string | null;
  sha256: string;
  auditEntries: number;
}

export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefused';
  }
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export async function restoreHubDatabase(o: RestoreOptions): Promise<RestoreResult> {
  const step = o.onStep ?? (() => undefined);
  if (!existsSync(o.file)) throw new RestoreRefused(`${o.file}: no such file`);
  // Refuses (DataDirLockedError) while a hub runs on this directory; held until the end.
  const lock = acquireDirLock(o.dataDir, 'ioc-hub');
  const incoming = join(o.dataDir, 'hub.db.restoring');
  try {
    for (const f of [incoming, `${incoming}-journal`, `${incoming}-wal`, `${incoming}-shm`]) rmSync(f, { force: true });
    step(`copying ${o.file} into ${o.dataDir}`);
    closeSync(openSync(incoming, 'wx', 0o600));
    copyFileSync(o.file, incoming);
    const sha256 = await sha256File(incoming);

    step('checking the copy (integrity, schema version, audit chain)');
    const db = new Database(incoming);
    let schemaVersion: number;
    let auditEntries = 0;
    try {
      // A backup made from a WAL database by other means is made self-contained here.
      db.pragma('journal_mode = DELETE');
      const check = checkHubDatabase(db);
      schemaVersion = check.schemaVersion;
      if (!check.ok) throw new RestoreRefused(`${o.file} cannot be restored: ${check.problems.join('; ')}`);
      const hasAudit = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'audit_log'").get() !== undefined;
      if (hasAudit) {
        const v = new SqliteAuditLog(db, o.keyring.subkey('audit-chain')).verify();
        auditEntries = v.entries;
        if (!v.ok && !o.allowUnverifiedAudit) {
          throw new RestoreRefused(
            `the backup's audit log does not verify with this hub's secret key (${v.message}). Restore the secret key the backup was made ` +
              'under first (hub.secretKeyFile or $IOC_HUB_SECRET_KEY): without it the audit chain cannot be checked and the sealed secrets ' +
              '(second factors) cannot be opened. If the backup itself is damaged and you restore it anyway, add --allow-unverified-audit',
          );
        }
      }
    } finally {
      db.close();
    }
    const fd = openSync(incoming, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }

    // The database replaced is kept, with its WAL (it may hold the last commits) under the name SQLite looks for.
    const live = join(o.dataDir, 'hub.db');
    let previous: string | null = null;
    if (existsSync(live)) {
      previous = `${live}.before-restore-${stamp((o.now ?? Date.now)())}`;
      step(`keeping the current database as ${basename(previous)}`);
      for (const suffix of ['-wal', '-shm']) if (existsSync(live + suffix)) renameSync(live + suffix, previous + suffix);
      renameSync(live, previous);
    }
    renameSync(incoming, live);
    fsyncDir(o.dataDir);

    step('opening the restored database');
    const restored = openHubDatabase(live); // migrates an older schema forward
    try {
      new SqliteAuditLog(restored, o.keyring.subkey('audit-chain')).append({
        actor: o.actor,
        action: 'hub.restored',
        target: `file:${o.file}`,
        summary: `hub.db restored from ${basename(o.file)} (schema ${schemaVersion}${schemaVersion < SCHEMA_VERSION ? ` → ${SCHEMA_VERSION}` : ''})`,
        after: { file: o.file, sha256, schemaVersion, migratedTo: SCHEMA_VERSION, previous },
      });
    } finally {
      restored.close();
    }
    return { schemaVersion, migratedTo: SCHEMA_VERSION, previous, sha256, auditEntries };
  } catch (err) {
    rmSync(incoming, { force: true });
    rmSync(`${incoming}-journal`, { force: true });
    throw err;
  } finally {
    lock.release();
  }
}
