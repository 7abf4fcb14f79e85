/**
 * One program instance per data directory. Two gateways on one outbox would assign the same seqs
 * and delete each other's rows; two hubs on one hub.db would acknowledge what the other stored.
 *
 * How: an SQLite file `{dir}/{program}.lock` on which this process opens an EXCLUSIVE transaction
 * and keeps it open. SQLite takes that lock with fcntl(F_SETLK), which the kernel drops when the
 * process ends in any way — exit, crash, `kill -9`, OOM kill — so a stale lock cannot exist and a
 * restart after a crash is never blocked. A PID file would have to guess: after a reboot or in a
 * container the old PID is often alive again as another process. SQLite also keeps the locks of
 * one process straight across connections (a second acquire in the same process is refused too,
 * and closing another handle on the file does not drop the lock, as a bare fcntl would).
 *
 * `{program}.lock.holder` names the holder (pid, start time) for the refusal message only; the
 * lock itself is the only thing that decides.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface LockHolder {
  pid: number;
  program: string;
  startedAt: string;
}

export interface DirLock {
  readonly path: string;
  /** Releases the lock (idempotent). The process ending releases it too. */
  release(): void;
}

/** Thrown when another live process holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'IOC_DATADIR_LOCKED';
  constructor(readonly dir: string, readonly program: string, readonly holder: LockHolder | null) {
    const who = holder ? ` (pid ${holder.pid}, started ${holder.startedAt})` : '';
    super(`another ${program} is already running on ${dir}${who}: stop it first; two on one data directory would corrupt each other's state`);
    this.name = 'DataDirLockedError';
  }
}

export function lockPath(dir: string, program: string): string {
  return join(dir, `${program}.lock`);
}

function readHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(`${path}.holder`, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/**
 * Takes the data directory for `program` (e.g. "ioc-hub"), creating the folder (0700) if needed.
 * Throws DataDirLockedError at once (never waits) when another process — or another part of this
 * one — holds it.
 */
export function acquireDirLock(dir: string, program: string): DirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = lockPath(dir, program);
  // Owner-only like the rest of the folder (SQLite gives its -journal the same mode).
  closeSync(openSync(path, 'a', 0o600));
  // timeout 0: refuse at once instead of waiting for the other instance to end.
  const db = new Database(path, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirLockedError(dir, program, readHolder(path));
    throw err;
  }
  const holder: LockHolder = { pid: process.pid, program, startedAt: new Date().toISOString() };
  try {
    writeFileSync(`${path}.holder`, JSON.stringify(holder) + '\n', { mode: 0o600 });
  } catch {
    // Informational only: the lock holds without it.
  }
  return {
    path,
    release() {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
