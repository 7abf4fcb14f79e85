/**
 * Online backup of hub.db with SQLite's backup API, while the hub runs and ingests.
 *
 * The copy is one consistent snapshot: the source connection holds a read transaction for the
 * whole copy, so every step reads the same snapshot. (Without it, each commit of the running hub
 * — another connection — restarts the copy from page 1: measured, 28,000 restarts for one 350 MB
 * copy under a steady writer, finishing only when the writer stopped.) In WAL mode that read
 * does not block the hub's writes; the WAL only cannot be checkpointed past the snapshot until the
 * copy ends, so it grows by what arrives meanwhile.
 *
 * The copy goes to `{file}.partial` (created 0600: hub.db holds password hashes and personal
 * data), is switched to a single-file journal, checked (integrity, schema version), fsynced and
 * only then renamed to `file`: a failed or interrupted backup never looks like a good one.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { HubDatabase } from '../db/database.js';
import { checkHubDatabaseFile, type DatabaseCheck } from './verify.js';

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
  sha256: string;
  check: DatabaseCheck;
  durationMs: number;
}

/** Pages per backup step (4 MiB with 4 KiB pages): progress granularity, and the event loop breathes between steps. */
const PAGES_PER_STEP = 1024;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the database open in `src` to `file` (which must not exist) and checks the copy.
 * Throws, leaving nothing at `file`, when the copy fails or does not pass the check.
 */
export async function backupHubDatabase(src: HubDatabase, file: string, onProgress?: (p: BackupProgress) => void): Promise<BackupResult> {
  if (existsSync(file)) throw new Error(`${file} exists already: choose a new name (a backup never overwrites a file)`);
  const started = Date.now();
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  rmSync(`${partial}-journal`, { force: true });
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    // The snapshot: a read transaction on the source connection, held until the copy is done.
    src.exec('BEGIN');
    let pages = 0;
    try {
      src.prepare('SELECT count(*) FROM sqlite_master').get();
      const done = await src.backup(partial, {
        progress: (p) => {
          onProgress?.(p);
          return PAGES_PER_STEP;
        },
      });
      pages = done.totalPages;
      onProgress?.(done);
    } finally {
      src.exec('COMMIT');
    }
    const copy = new Database(partial);
    try {
      // One self-contained file: the copy carries the source's WAL flag otherwise.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const check = await checkHubDatabaseFile(partial);
    if (!check.ok) throw new Error(`the backup copy does not pass its check: ${check.problems.join('; ')}`);
    const fd = openSync(partial, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file);
    fsyncDir(dirname(file));
    return { file, bytes: statSync(file).size, pages, sha256: await sha256File(file), check, durationMs: Date.now() - started };
  } catch (err) {
    rmSync(partial, { force: true });
    rmSync(`${partial}-journal`, { force: true });
    throw err;
  }
}
