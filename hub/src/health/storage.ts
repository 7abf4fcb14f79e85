/**
 * Is the hub able to store? Two signals, both shown by GET /api/v1/health and /metrics:
 *
 * - writes failing now: a commit refused by the disk (SQLITE_FULL, SQLITE_IOERR*, a file system
 *   gone read-only, corruption). Then nothing is stored and nothing acknowledged: gateways keep
 *   their rows and resend, no alert can be raised, and the hub must not look healthy. Failing
 *   from the first such error until a write succeeds again (gateways resend unacknowledged
 *   batches within uplink.ackTimeoutMs, so a recovery shows within seconds of space returning).
 * - free space on the data directory below hub.minFreeDiskMB: the warning before the above.
 *   Read with statfs, on a timer and on each health request if older than a few seconds.
 *
 * Each change of state is logged once, loudly (error when it starts, warn when it ends); failures
 * in between at most once a minute with how many there were, so a full disk cannot flood the log.
 */
import { statfsSync } from 'node:fs';
import type { Logger } from '@ioc/shared';

/** Bounded label set of ioc_hub_store_write_failures_total. */
export type StorageErrorKind = 'full' | 'ioerr' | 'readonly' | 'corrupt';

/** SQLite's (extended) error code → kind; null for errors that are not the storage's fault (a constraint, a bug, a busy lock). */
export function storageErrorKind(err: unknown): StorageErrorKind | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR')) return 'ioerr';
  if (code.startsWith('SQLITE_READONLY')) return 'readonly';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  return null;
}

export type HealthReason = 'store_writes_failing' | 'disk_low' | 'disk_unreadable';

export interface StorageState {
  /** ok: nothing to report. degraded: see reasons. */
  status: 'ok' | 'degraded';
  reasons: HealthReason[];
  /** True while commits fail: the API answers 503. */
  writesFailing: boolean;
  store: {
    /** Storage errors since the hub started, by kind. */
    writeFailures: Partial<Record<StorageErrorKind, number>>;
    /** The first failure of the current failing spell (epoch ms), null when writes succeed. */
    failingSince: number | null;
    lastError: { ts: number; code: string; message: string } | null;
  };
  disk: { dataDir: string; freeBytes: number | null; minFreeBytes: number; low: boolean; checkedAt: number | null };
}

export interface StorageHealthOptions {
  dataDir: string;
  /** Below this much free space the hub reports disk_low (hub.minFreeDiskMB). 0: never. */
  minFreeBytes: number;
  logger: Logger;
  /** Counts each storage error (ioc_hub_store_write_failures_total{kind}). */
  onFailure?: (kind: StorageErrorKind) => void;
  now?: () => number;
  /** Free bytes available to the hub's user on `dir` (statfs; replaceable in tests). */
  freeBytes?: (dir: string) => number;
  /** How often the timer reads the free space (default 30 s); a health request re-reads after 5 s. */
  diskCheckMs?: number;
}

const REPEAT_LOG_MS = 60_000;
const DISK_CACHE_MS = 5_000;

export const statfsFreeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

export class StorageHealth {
  private readonly failures: Partial<Record<StorageErrorKind, number>> = {};
  private failingSince: number | null = null;
  private lastError: StorageState['store']['lastError'] = null;
  /** Failures not yet in a log line. */
  private unlogged = 0;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private disk: { freeBytes: number | null; checkedAt: number | null; low: boolean; unreadable: boolean } = { freeBytes: null, checkedAt: null, low: false, unreadable: false };
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: StorageHealthOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Reads the free space now and then every diskCheckMs, until stop(). */
  start(): void {
    this.checkDisk();
    this.timer = setInterval(() => this.checkDisk(), this.opts.diskCheckMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * A write to hub.db failed. Returns true when it was the storage's fault (counted, and the hub
   * reports it); false for other errors, which the caller handles as before.
   */
  writeFailed(err: unknown, context: Record<string, unknown> = {}): boolean {
    const kind = storageErrorKind(err);
    if (!kind) return false;
    const t = this.now();
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
    this.opts.onFailure?.(kind);
    const e = err as { code: string; message?: string };
    this.lastError = { ts: t, code: e.code, message: String(e.message ?? '').slice(0, 256) };
    this.unlogged++;
    if (this.failingSince === null) {
      this.failingSince = t;
      this.checkDisk();
      this.opts.logger.error(
        { err, kind, ...context, freeBytes: this.disk.freeBytes, dataDir: this.opts.dataDir },
        'HUB STORAGE FAILING: writes to hub.db fail, nothing is stored or acknowledged and no alert can be raised (disk full? I/O error?); /api/v1/health answers 503 until a write succeeds',
      );
      this.lastLoggedAt = t;
      this.unlogged = 0;
    } else if (t - this.lastLoggedAt >= REPEAT_LOG_MS) {
      this.opts.logger.error({ kind, ...context, failuresSinceLastLine: this.unlogged, failingSince: new Date(this.failingSince).toISOString() }, 'hub storage still failing');
      this.lastLoggedAt = t;
      this.unlogged = 0;
    }
    return true;
  }

  /** A write to hub.db committed: ends a failing spell. Cheap on the hot path (one comparison). */
  writeSucceeded(): void {
    if (this.failingSince === null) return;
    const t = this.now();
    this.opts.logger.warn(
      { failingForS: Math.round((t - this.failingSince) / 1000), failures: this.failures, lastError: this.lastError },
      'hub storage recovered: writes to hub.db succeed again',
    );
    this.failingSince = null;
    this.unlogged = 0;
  }

  /** Reads the free space (statfs) and logs when it crosses hub.minFreeDiskMB. */
  checkDisk(): void {
    const t = this.now();
    let free: number | null;
    try {
      free = (this.opts.freeBytes ?? statfsFreeBytes)(this.opts.dataDir);
    } catch (err) {
      if (!this.disk.unreadable) this.opts.logger.error({ err, dataDir: this.opts.dataDir }, 'cannot read the free disk space of the data directory');
      this.disk = { ...this.disk, checkedAt: t, unreadable: true };
      return;
    }
    const low = this.opts.minFreeBytes > 0 && free < this.opts.minFreeBytes;
    const fields = { dataDir: this.opts.dataDir, freeMB: Math.floor(free / 1048576), minFreeMB: Math.floor(this.opts.minFreeBytes / 1048576) };
    if (low && !this.disk.low) this.opts.logger.error(fields, 'HUB DISK LOW: free space on the data directory is below hub.minFreeDiskMB; when it runs out nothing more is stored');
    if (!low && this.disk.low) this.opts.logger.warn(fields, 'hub disk space back above hub.minFreeDiskMB');
    this.disk = { freeBytes: free, checkedAt: t, low, unreadable: false };
  }

  /** For the health endpoint and metrics; re-reads the free space if the last reading is stale. */
  state(): StorageState {
    if (this.disk.checkedAt === null || this.now() - this.disk.checkedAt >= DISK_CACHE_MS) this.checkDisk();
    const reasons: HealthReason[] = [];
    if (this.failingSince !== null) reasons.push('store_writes_failing');
    if (this.disk.low) reasons.push('disk_low');
    if (this.disk.unreadable) reasons.push('disk_unreadable');
    return {
      status: reasons.length ? 'degraded' : 'ok',
      reasons,
      writesFailing: this.failingSince !== null,
      store: { writeFailures: { ...this.failures }, failingSince: this.failingSince, lastError: this.lastError },
      disk: { dataDir: this.opts.dataDir, freeBytes: this.disk.freeBytes, minFreeBytes: this.opts.minFreeBytes, low: this.disk.low, checkedAt: this.disk.checkedAt },
    };
  }
}
