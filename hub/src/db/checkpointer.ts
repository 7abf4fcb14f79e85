/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
 * pushes the WAL past its threshold: copying the WAL back into the database file and syncing it
 * holds the event loop for tens of milliseconds, in an alert's urgent commit as often as in a
 * routine one. A worker thread with its own connection checkpoints instead, every `intervalMs`,
 * PASSIVE (it never waits for the hub's writes nor blocks them); the hub's own connection keeps an
 * automatic checkpoint only as a safety net far above what the worker lets the WAL reach, for the
 * case that the worker stops.
 */
import type { HubDatabase } from './database.js';
import { sqliteWorker } from './sqlite-worker.js';

export interface CheckpointResult {
  /** The WAL's frames, and how many of them are in the database file now (SQLite's log, checkpointed). */
  frames: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  intervalMs?: number;
  /** The hub connection's automatic checkpoint threshold (pages), the safety net. */
  safetyNetPages?: number;
  onCheckpoint?(r: CheckpointResult): void;
  /** A checkpoint failed, or the worker stopped (then the safety net checkpoints). */
  onError?(err: Error): void;
}

export interface Checkpointer {
  /** Stops the worker and closes its connection (before the hub's connection closes). */
  stop(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;
export const DEFAULT_SAFETY_NET_PAGES = 16_384;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let db;
try {
  db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
  // The checkpoint syncs the database file before the WAL may be reused.
  db.pragma('synchronous = FULL');
} catch (err) {
  parentPort.postMessage({ error: 'opening ' + workerData.file + ': ' + String((err && err.message) || err) });
  process.exit(1);
}
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ frames: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(db: HubDatabase, opts: CheckpointerOptions = {}): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${opts.safetyNetPages ?? DEFAULT_SAFETY_NET_PAGES}`);
  const worker = sqliteWorker(WORKER_SOURCE, { file: db.name, intervalMs: opts.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS });
  // Never what keeps the process alive.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: { frames: number; checkpointed: number } | { error: string }) => {
    if ('error' in m) opts.onError?.(new Error(`WAL checkpoint failed: ${m.error}`));
    else opts.onCheckpoint?.(m);
  });
  worker.on('error', (err: unknown) => opts.onError?.(err instanceof Error && err.message ? err : new Error(`WAL checkpoint worker failed: ${String(err)}`)));
  void exited.then(() => {
    if (!stopping) opts.onError?.(new Error('the WAL checkpoint worker stopped; the hub checkpoints in its own commits'));
  });
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      // Held alive until its connection is closed, even if nothing else is.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
