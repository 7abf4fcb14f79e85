/**
 * Is this file a sound hub.db this hub can use? SQLite's integrity check (every page, index and
 * constraint), the schema version (user_version, see db/migrations.ts) against this hub's, and
 * the tables every hub.db has. Used on a fresh backup before it is kept, on a kept backup when an
 * admin asks, and on a backup before it replaces hub.db.
 *
 * The integrity check reads every page: on a hub.db of years it takes long enough to hold up
 * ingest and alerts. A running hub therefore checks a file in a worker thread
 * (checkHubDatabaseFile); `ioc-hub restore`, with the hub stopped, checks in its own thread.
 */
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../db/database.js';
import { sqliteWorker } from '../db/sqlite-worker.js';

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
  let integrity: string[];
  try {
    integrity = (db.pragma(INTEGRITY_PRAGMA) as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
  } catch (err) {
    integrity = [(err as Error).message];
  }
  return judge(db, integrity);
}

/** checkHubDatabase of a file that no connection writes, with the integrity check in a worker thread. */
export async function checkHubDatabaseFile(file: string): Promise<DatabaseCheck> {
  const integrity = await integrityInWorker(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return judge(db, integrity);
  } catch (err) {
    // Not an SQLite file at all (or unreadable): the integrity check said why.
    return { ok: false, integrity, schemaVersion: 0, problems: [`not a hub database: ${integrity[0] === 'ok' ? (err as Error).message : integrity.join('; ')}`] };
  } finally {
    db?.close();
  }
}

const INTEGRITY_PRAGMA = 'integrity_check(20)';

/** What the rest of the check makes of the integrity check's answer. */
function judge(db: Database.Database, integrity: string[]): DatabaseCheck {
  const problems: string[] = [];
  if (integrity.length !== 1 || integrity[0] !== 'ok') problems.push(`integrity check failed: ${integrity.slice(0, 5).join('; ')}`);
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  if (schemaVersion > SCHEMA_VERSION) problems.push(`schema version ${schemaVersion} is newer than this hub's (${SCHEMA_VERSION}): it was made by a newer ioc-hub; upgrade this one first`);
  if (schemaVersion < 1) problems.push('no schema version: not a hub database');
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (schemaVersion >= 1 && missing.length) problems.push(`not a hub database (no table ${missing.join(', ')})`);
  return { ok: problems.length === 0, integrity, schemaVersion, problems };
}

// Opens the file read-only and runs the one pragma (../db/sqlite-worker.ts).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let integrity;
try {
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  try { integrity = db.pragma(workerData.pragma).map((r) => r.integrity_check); } finally { db.close(); }
} catch (err) {
  integrity = [String(err && err.message || err)];
}
parentPort.postMessage(integrity);
`;

function integrityInWorker(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = sqliteWorker(WORKER_SOURCE, { file, pragma: INTEGRITY_PRAGMA });
    worker.once('message', (integrity: string[]) => resolve(integrity));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the integrity check's worker stopped (exit code ${code}) before answering`)));
  });
}
