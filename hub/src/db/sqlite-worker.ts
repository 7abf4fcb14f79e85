/**
 * A worker thread running plain JavaScript with better-sqlite3 at hand (`workerData.sqlite` is its
 * resolved path): work on hub.db that must not hold the event loop, with no TypeScript loader
 * needed whether the hub runs from its sources or its build.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export function sqliteWorker(source: string, data: Record<string, unknown>): Worker {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Worker(source, { eval: true, workerData: { ...data, sqlite } });
}
