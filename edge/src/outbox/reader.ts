/**
 * A read-only view of an outbox file, for `ioc-edge status` and `ioc-edge outbox [--export]`.
 *
 * Opened with SQLite's read-only flag, so these commands can never write the outbox: Outbox.open
 * applies the caps it is given (defaults when none) the moment it opens, and a command opening a
 * gateway's outbox that way deleted rows whenever the gateway's configured caps were higher than
 * the defaults; closing a read-write handle also checkpoints a crashed gateway's WAL into the
 * file. Here nothing is dropped, renumbered, migrated or checkpointed, whether the gateway runs or
 * not. (SQLite may create the empty -wal/-shm companions of a WAL database that has none, with
 * the database file's owner and mode; outbox.db itself is never touched.)
 */
import Database from 'better-sqlite3';
import type { OutboxHealth } from '@ioc/shared';
import { groupDrops, type PendingDrop } from './drops.js';
import { writeExportFile, type ExportOptions } from './export.js';
import { outboxHealth, readOutboxState, type OutboxCaps } from './state.js';

export interface OutboxReaderOptions {
  /** The configured caps, to report how far the outbox is over them (nothing is enforced). */
  caps?: OutboxCaps;
  now?: () => number;
}

export class OutboxReader {
  private constructor(private readonly db: Database.Database, private readonly opts: OutboxReaderOptions) {}

  static open(path: string, opts: OutboxReaderOptions = {}): OutboxReader {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      // Fails here, with SQLite's message, for a file that is not an outbox.
      db.prepare('SELECT 1 FROM outbox, meta, pending_drops LIMIT 1').get();
    } catch (err) {
      db.close();
      throw new Error(`${path}: not a readable outbox (${(err as Error).message})`);
    }
    return new OutboxReader(db, opts);
  }

  /** One consistent snapshot of the figures (the gateway may be writing meanwhile). */
  stats(): OutboxHealth {
    return this.db.transaction(() => {
      const s = readOutboxState(this.db);
      const oldest = s.rows > 0 ? (this.db.prepare('SELECT ts FROM outbox ORDER BY seq LIMIT 1').pluck().get() as number) : undefined;
      return outboxHealth(s, oldest, (this.opts.now ?? Date.now)(), this.opts.caps);
    })();
  }

  pendingDrops(afterSeq = 0): PendingDrop[] {
    return groupDrops(this.db.prepare('SELECT first, last, reason, ts FROM pending_drops WHERE last > ? ORDER BY first')
      .all(afterSeq) as Array<{ first: number; last: number; reason: string; ts: number }>);
  }

  /**
   * Writes every unacknowledged row and the pending drop notices to `file` (format: export.ts),
   * from one read snapshot. Returns the rows written.
   */
  exportUnsent(file: string, gw: string, onProgress?: ExportOptions['onProgress'], batchSize?: number): number {
    return this.db.transaction(() => {
      const s = readOutboxState(this.db);
      const rows = this.db.prepare('SELECT seq, body FROM outbox ORDER BY seq').raw().iterate() as Iterable<[number, string]>;
      return writeExportFile(
        file,
        { rows, total: s.rows, drops: this.pendingDrops(), ackedUpTo: s.ackedUpTo, lastSeq: s.lastSeq, now: (this.opts.now ?? Date.now)() },
        { gw, onProgress, batchSize },
      );
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
