/**
 * The gateway's store-and-forward buffer (SQLite, WAL). A reading is written here before the
 * driver's poll counts as done, and leaves only when the hub's end-to-end ack covers its seq, or
 * when a cap forces the oldest routine rows out (then the deleted seq ranges are kept in
 * pending_drops and reported to the hub until its ack passes them).
 *
 * Counts and byte estimates live in memory (initialised once at open), so append does no COUNT(*).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger, OutboxHealth, Reading } from '@ioc/shared';
import { OUTBOX_DDL, ROW_OVERHEAD_BYTES, type MetaKey } from './schema.js';
import { outboxHealth, readOutboxState } from './state.js';
import { groupDrops, toRanges, type PendingDrop, type Range } from './drops.js';
import { writeExportFile, type ExportOptions } from './export.js';

export interface OutboxOptions {
  path: string;
  /**
   * FULL (default): every append/ack commit is fsynced, so it survives a power cut as well as a
   * process crash. NORMAL: survives a process crash; a power cut may roll back the commits since
   * the last checkpoint — and with them seqs the hub already stored, which would then be reused.
   * Chosen by measurement: test/bench/outbox.bench.ts and test/bench/README.md.
   */
  synchronous?: 'NORMAL' | 'FULL';
  maxRows?: number;
  maxBytes?: number;
  /** Routine rows older than this are dropped (0 or absent: never by age). */
  maxAgeMs?: number;
  now?: () => number;
  logger?: Logger;
}

export interface OutboxRun {
  first: number;
  last: number;
  bodies: string[];
}

export interface OutboxCounters {
  /** Times a cap was still exceeded after every droppable row was gone (only alerting rows left). */
  capExceeded: number;
  droppedTotal: number;
}

type Stmt<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>;

interface CounterSnapshot {
  lastSeq: number;
  rows: number;
  bytes: number;
  routineFloor: number;
  droppedTotal: number;
  lastDrop: { first: number; last: number; reason: string } | null;
  lastAgeCheck: number;
}

/** readRun's first read; more rows only when these are one unbroken run. */
const PROBE_ROWS = 16;
/** Rows read per step when looking for routine rows to drop. */
const DROP_SCAN_ROWS = 1000;
const CAP_WARN_EVERY_MS = 60_000;

/** UTF-8 bytes of bodies joined with one separator each. */
function utf8Size(bodies: readonly string[]): number {
  let n = 0;
  for (const b of bodies) n += Buffer.byteLength(b) + 1;
  return n;
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  /** Hysteresis: a cap drop frees 1% of the cap, so it runs once per ~1% of appends, not per append. */
  private readonly dropChunkRows: number;
  private readonly dropChunkBytes: number;
  private readonly ageCheckEveryMs: number;

  private _lastSeq: number;
  private _ackedUpTo: number;
  private _droppedTotal: number;
  private _lastAckTs: number | null;
  private rows: number;
  private bytes: number;
  /** No routine row with seq <= routineFloor remains: drop scans start here, not at the table head. */
  private routineFloor: number;
  private lastDrop: { first: number; last: number; reason: string } | null;
  private lastAgeCheck = Number.NEGATIVE_INFINITY;
  private capExceeded = 0;
  private lastCapWarn = Number.NEGATIVE_INFINITY;
  private readonly droppedNotes: Array<{ reason: string; count: number; first: number; last: number }> = [];

  private readonly s: {
    insert: Stmt<[number, number, number, string]>;
    setMeta: Stmt<[MetaKey, number]>;
    run: Stmt<[number, number, number], [number, string]>;
    ackBytes: Stmt<[number, number], number>;
    ackDelete: Stmt<[number]>;
    dropsCovered: Stmt<[number]>;
    routineScan: Stmt<[number, number], [number, number, number]>;
    routineDelete: Stmt<[number, number]>;
    dropInsert: Stmt<[number, number, string, number]>;
    dropExtend: Stmt<[number, number, number]>;
    dropsAfter: Stmt<[number], { first: number; last: number; reason: string; ts: number }>;
    oldestTs: Stmt<[], number>;
    all: Stmt<[], [number, string]>;
  };
  private readonly appendCapped: (readings: Reading[], alerting: boolean[] | undefined, first: number, ts: number) => void;
  private readonly ackTx: (upTo: number, ts: number) => { deleted: number; bytes: number };
  private readonly dropTx: (seqs: number[], reason: string, ts: number) => void;

  static open(opts: OutboxOptions): Outbox {
    const sync = opts.synchronous ?? 'FULL';
    if (sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`outbox: synchronous must be NORMAL or FULL, got ${String(sync)}`);
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    const db = new Database(opts.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync}`);
      // Keep the WAL file from staying at its high-water mark after a big backlog drains.
      db.pragma('journal_size_limit = 67108864');
      db.exec(OUTBOX_DDL);
      return new Outbox(db, opts);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(db: Database.Database, opts: OutboxOptions) {
    this.db = db;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    this.maxRows = opts.maxRows ?? 10_000_000;
    this.maxBytes = opts.maxBytes ?? 2 * 1024 * 1024 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? 0;
    this.dropChunkRows = Math.max(1, Math.ceil(this.maxRows / 100));
    this.dropChunkBytes = Math.max(1, Math.ceil(this.maxBytes / 100));
    this.ageCheckEveryMs = Math.min(60_000, Math.max(1000, Math.floor(this.maxAgeMs / 100)));

    this.s = {
      insert: db.prepare('INSERT INTO outbox (seq, ts, prio, body) VALUES (?, ?, ?, ?)'),
      setMeta: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v'),
      run: db.prepare<[number, number, number], [number, string]>(
        'SELECT seq, body FROM outbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
      // octet_length reads the stored size without loading the text.
      ackBytes: db.prepare<[number, number], number>(
        'SELECT total(octet_length(body)) FROM outbox WHERE seq > ? AND seq <= ?').pluck(),
      ackDelete: db.prepare('DELETE FROM outbox WHERE seq <= ?'),
      dropsCovered: db.prepare('DELETE FROM pending_drops WHERE last <= ?'),
      routineScan: db.prepare<[number, number], [number, number, number]>(
        'SELECT seq, ts, octet_length(body) FROM outbox WHERE seq > ? AND prio = 0 ORDER BY seq LIMIT ?').raw(),
      routineDelete: db.prepare('DELETE FROM outbox WHERE seq > ? AND seq <= ? AND prio = 0'),
      dropInsert: db.prepare('INSERT INTO pending_drops (first, last, reason, ts) VALUES (?, ?, ?, ?)'),
      dropExtend: db.prepare('UPDATE pending_drops SET last = ?, ts = ? WHERE first = ?'),
      dropsAfter: db.prepare('SELECT first, last, reason, ts FROM pending_drops WHERE last > ? ORDER BY first'),
      oldestTs: db.prepare<[], number>('SELECT ts FROM outbox ORDER BY seq LIMIT 1').pluck(),
      all: db.prepare<[], [number, string]>('SELECT seq, body FROM outbox ORDER BY seq').raw(),
    };

    const st = readOutboxState(db);
    this._lastSeq = st.lastSeq;
    this._ackedUpTo = st.ackedUpTo;
    this._droppedTotal = st.droppedTotal;
    this._lastAckTs = st.lastAckTs;
    this.rows = st.rows;
    this.bytes = st.bytes;
    this.routineFloor = this._ackedUpTo;
    this.lastDrop = st.lastDrop;

    this.appendCapped = db.transaction((readings: Reading[], alerting: boolean[] | undefined, first: number, ts: number) => {
      let chars = 0;
      for (let i = 0; i < readings.length; i++) {
        const body = JSON.stringify(readings[i]);
        chars += body.length;
        this.s.insert.run(first + i, ts, alerting?.[i] === true ? 1 : 0, body);
      }
      const n = readings.length;
      this._lastSeq = first + n - 1;
      this.rows += n;
      this.bytes += chars + n * ROW_OVERHEAD_BYTES;
      // Nested dropTx calls run as savepoints of this transaction.
      if (this.rows > this.maxRows || this.bytes > this.maxBytes || this.maxAgeMs > 0) this.applyLimits();
    });
    this.ackTx = db.transaction((upTo: number, ts: number) => {
      const bytes = this.s.ackBytes.get(this._ackedUpTo, upTo) ?? 0;
      const deleted = this.s.ackDelete.run(upTo).changes;
      this.s.dropsCovered.run(upTo);
      this.s.setMeta.run('acked_up_to', upTo);
      this.s.setMeta.run('last_ack_ts', ts);
      this.s.setMeta.run('last_seq', this._lastSeq);
      return { deleted, bytes };
    });
    this.dropTx = db.transaction((seqs: number[], reason: string, ts: number) => {
      const last = seqs[seqs.length - 1]!;
      // Every routine row in (floor, last] is in seqs (ordered prefix of the scan): one range delete.
      this.s.routineDelete.run(this.routineFloor, last);
      for (const [a, b] of toRanges(seqs)) this.recordDrop(a, b, reason, ts);
      this.s.setMeta.run('dropped_total', this._droppedTotal + seqs.length);
      this.s.setMeta.run('last_seq', this._lastSeq);
    });

    this.enforceLimits();
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  get ackedUpTo(): number {
    return this._ackedUpTo;
  }

  /** Monotonic; a change tells the uplink there are new drops to report. */
  get droppedTotal(): number {
    return this._droppedTotal;
  }

  get depth(): number {
    return this.rows;
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /**
   * Stores readings in one transaction with consecutive seqs; `alerting[i]` marks rows that are
   * never dropped. Returns the assigned range, or null for an empty list.
   */
  append(readings: Reading[], alerting?: boolean[]): { first: number; last: number } | null {
    const n = readings.length;
    if (n === 0) return null;
    const first = this._lastSeq + 1;
    const before = this.snapshot();
    try {
      // The rows and any cap drops they cause commit together: one fsync, and no reader ever sees
      // the outbox over its cap. The counters move inside; a failed commit puts them back.
      this.appendCapped(readings, alerting, first, this.now());
    } catch (err) {
      this.restore(before);
      throw err;
    }
    this.logDrops();
    return { first, last: this._lastSeq };
  }

  /**
   * The next contiguous run of rows with seq > afterSeq, at most `limit` rows, none above
   * `maxSeq`, and (if given) bodies plus one separator each totalling at most `maxBytes` UTF-8
   * bytes (at least one row). Stops at a gap left by dropped rows: readings[i] of a batch must
   * have seq first + i.
   */
  readRun(afterSeq: number, limit: number, maxSeq = Number.MAX_SAFE_INTEGER, maxBytes = Number.POSITIVE_INFINITY): OutboxRun | null {
    if (limit < 1 || maxSeq <= afterSeq) return null;
    // A few rows first, the rest only if those were one unbroken run: after cap drops the unsent
    // rows are short runs between dropped ranges, and reading `limit` rows to use one or two made
    // such a drain quadratic; a dense run still costs two reads, not one call per row.
    let first = 0;
    let last = afterSeq;
    // UTF-16 units of the bodies plus separators: 3 bytes per unit bounds their UTF-8 size, so
    // while 3 × units fits, nothing is measured (the usual case: a 2 MiB limit and ~50 KB
    // batches). Past that bound the run is measured exactly, once, then body by body.
    let units = 0;
    let bytes = -1;
    const bodies: string[] = [];
    for (let want = Math.min(limit, PROBE_ROWS); want > 0; want = limit - bodies.length) {
      const rows = this.s.run.all(last, maxSeq, want);
      for (const [seq, body] of rows) {
        const u = units + body.length + 1;
        if (bodies.length === 0) first = seq;
        else if (seq !== last + 1) return { first, last, bodies };
        else if (u * 3 > maxBytes) {
          if (bytes < 0) bytes = utf8Size(bodies);
          const b = Buffer.byteLength(body) + 1;
          if (bytes + b > maxBytes) return { first, last, bodies };
          bytes += b;
        }
        bodies.push(body);
        units = u;
        last = seq;
      }
      if (rows.length < want) break; // the end of the outbox (or of maxSeq)
    }
    return bodies.length ? { first, last, bodies } : null;
  }

  /**
   * The hub has durably stored (or accounted as dropped) every seq <= upTo: delete those rows in
   * one statement. A lower or equal upTo is ignored; one above lastSeq is clamped (the caller logs
   * it). Returns the number of rows deleted.
   */
  ack(upTo: number): number {
    if (!Number.isSafeInteger(upTo)) return 0;
    const to = Math.min(upTo, this._lastSeq);
    if (to <= this._ackedUpTo) return 0;
    const ts = this.now();
    const { deleted, bytes } = this.ackTx(to, ts);
    this._ackedUpTo = to;
    this._lastAckTs = ts;
    this.rows -= deleted;
    this.bytes = Math.max(0, this.bytes - bytes - deleted * ROW_OVERHEAD_BYTES);
    if (to > this.routineFloor) this.routineFloor = to;
    if (this.lastDrop && this.lastDrop.last <= to) this.lastDrop = null;
    return deleted;
  }

  /**
   * The hub has accounted seqs up to `hubUpTo`, beyond anything this outbox ever assigned: the
   * outbox file was replaced or restored from an old copy, so its seqs started again below the
   * hub's. Every unacknowledged row is renumbered to follow `hubUpTo` (in order, contiguous) and
   * the counter continues from there, so the hub stores these readings instead of taking them for
   * duplicates of the old ones. Returns the number of rows renumbered.
   */
  rebase(hubUpTo: number): number {
    if (!Number.isSafeInteger(hubUpTo) || hubUpTo <= this._lastSeq) return 0;
    const shift = hubUpTo - this._ackedUpTo;
    const moved = this.db.transaction(() => {
      // Two steps through negative keys: seq is the primary key, a one-step shift could collide.
      const n = this.db.prepare('UPDATE outbox SET seq = -(seq + ?) WHERE seq > ?').run(shift, this._ackedUpTo).changes;
      this.db.prepare('UPDATE outbox SET seq = -seq WHERE seq < 0').run();
      // Drop notices name old seqs the hub has already accounted past.
      this.db.prepare('DELETE FROM pending_drops').run();
      this.s.setMeta.run('acked_up_to', hubUpTo);
      this.s.setMeta.run('last_seq', this._lastSeq + shift);
      return n;
    })();
    this.log?.error({ hubUpTo, lastSeq: this._lastSeq, renumbered: moved },
      'the hub is ahead of this outbox (file replaced or restored?): unsent rows renumbered after the hub\'s seq');
    this._lastSeq += shift;
    this._ackedUpTo = hubUpTo;
    this.routineFloor = hubUpTo;
    this.lastDrop = null;
    return moved;
  }

  /**
   * Applies the caps and the age limit now (append does this itself; a gateway may also call it
   * from a timer so aged rows go even when nothing is appended). Returns rows dropped.
   */
  enforceLimits(): number {
    const before = this.snapshot();
    try {
      const dropped = this.applyLimits();
      this.logDrops();
      return dropped;
    } catch (err) {
      this.restore(before);
      throw err;
    }
  }

  /** enforceLimits without the rollback guard: the caller restores the counters if it throws. */
  private applyLimits(): number {
    let dropped = 0;
    if (this.rows > this.maxRows || this.bytes > this.maxBytes) {
      const rowTarget = Math.max(0, this.maxRows - this.dropChunkRows);
      const byteTarget = Math.max(0, this.maxBytes - this.dropChunkBytes);
      dropped += this.dropRoutine('outbox_full', (_ts, rows, bytes) => rows > rowTarget || bytes > byteTarget);
      if (this.rows > this.maxRows || this.bytes > this.maxBytes) this.noteCapExceeded();
    }
    if (this.maxAgeMs > 0) {
      const now = this.now();
      if (now - this.lastAgeCheck >= this.ageCheckEveryMs) {
        this.lastAgeCheck = now;
        const cutoff = now - this.maxAgeMs;
        // ts is the gateway's insert time, so it rises with seq: stop at the first young row.
        dropped += this.dropRoutine('max_age', (ts) => ts < cutoff);
      }
    }
    return dropped;
  }

  /**
   * Dropped seq ranges the hub's ack has not yet passed, ready to become `DroppedEvent`s; with
   * `afterSeq`, only the ranges that end above it (what is new since a report that went that far).
   */
  pendingDrops(afterSeq = 0): PendingDrop[] {
    return groupDrops(this.s.dropsAfter.all(afterSeq));
  }

  stats(): OutboxHealth {
    const oldest = this.rows > 0 ? this.s.oldestTs.get() : undefined;
    return outboxHealth(
      { rows: this.rows, bytes: this.bytes, droppedTotal: this._droppedTotal, lastSeq: this._lastSeq, ackedUpTo: this._ackedUpTo, lastAckTs: this._lastAckTs },
      oldest,
      this.now(),
      { maxRows: this.maxRows, maxBytes: this.maxBytes },
    );
  }

  counters(): OutboxCounters {
    return { capExceeded: this.capExceeded, droppedTotal: this._droppedTotal };
  }

  /**
   * Writes every unacknowledged row (and pending drop notices) to `file` in the format described
   * in export.ts. Reads one consistent snapshot; deletes nothing. Returns rows written.
   * `onProgress` runs while the snapshot is being read: it must not call this outbox.
   */
  exportUnsent(file: string, gw: string, onProgress?: ExportOptions['onProgress'], batchSize?: number): number {
    const drops = this.pendingDrops();
    return writeExportFile(
      file,
      { rows: this.s.all.iterate(), total: this.rows, drops, ackedUpTo: this._ackedUpTo, lastSeq: this._lastSeq, now: this.now() },
      { gw, onProgress, batchSize },
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Deletes the oldest routine rows while `more(ts, rowsLeft, bytesLeft)` holds, a scan chunk per
   * transaction, and records their seq ranges as pending drops.
   */
  private dropRoutine(reason: string, more: (ts: number, rows: number, bytes: number) => boolean): number {
    let total = 0;
    for (;;) {
      const scan = this.s.routineScan.all(this.routineFloor, DROP_SCAN_ROWS);
      if (scan.length === 0) {
        this.routineFloor = this._lastSeq; // nothing droppable left: later scans start at the tail
        return total;
      }
      const seqs: number[] = [];
      let rows = this.rows;
      let bytes = this.bytes;
      let stopped = false;
      for (const [seq, ts, len] of scan) {
        if (!more(ts, rows, bytes)) {
          stopped = true;
          break;
        }
        seqs.push(seq);
        rows -= 1;
        bytes -= len + ROW_OVERHEAD_BYTES;
      }
      if (seqs.length > 0) {
        this.dropTx(seqs, reason, this.now());
        this.routineFloor = seqs[seqs.length - 1]!;
        this._droppedTotal += seqs.length;
        this.rows = rows;
        this.bytes = Math.max(0, bytes);
        total += seqs.length;
        this.droppedNotes.push({ reason, count: seqs.length, first: seqs[0]!, last: this.routineFloor });
      }
      if (stopped) return total;
    }
  }

  /** The in-memory counters, taken before a write so that a failed transaction can put them back. */
  private snapshot(): CounterSnapshot {
    return {
      lastSeq: this._lastSeq, rows: this.rows, bytes: this.bytes, routineFloor: this.routineFloor, droppedTotal: this._droppedTotal,
      lastDrop: this.lastDrop && { ...this.lastDrop }, lastAgeCheck: this.lastAgeCheck,
    };
  }

  private restore(s: CounterSnapshot): void {
    this._lastSeq = s.lastSeq;
    this.rows = s.rows;
    this.bytes = s.bytes;
    this.routineFloor = s.routineFloor;
    this._droppedTotal = s.droppedTotal;
    this.lastDrop = s.lastDrop;
    this.lastAgeCheck = s.lastAgeCheck;
    this.droppedNotes.length = 0;
  }

  /** Drops are logged once their transaction has committed, never for a rolled-back one. */
  private logDrops(): void {
    for (const d of this.droppedNotes) this.log?.warn(d, 'outbox dropped unsent routine readings');
    this.droppedNotes.length = 0;
  }

  /** Inside dropTx: extends the newest pending range when contiguous, else adds one. */
  private recordDrop(first: number, last: number, reason: string, ts: number): void {
    const prev = this.lastDrop;
    if (prev && prev.reason === reason && first === prev.last + 1 && this.s.dropExtend.run(last, ts, prev.first).changes === 1) {
      prev.last = last;
      return;
    }
    this.s.dropInsert.run(first, last, reason, ts);
    this.lastDrop = { first, last, reason };
  }

  private noteCapExceeded(): void {
    this.capExceeded += 1;
    const now = this.now();
    if (now - this.lastCapWarn >= CAP_WARN_EVERY_MS) {
      this.lastCapWarn = now;
      this.log?.error(
        { rows: this.rows, bytes: this.bytes, maxRows: this.maxRows, maxBytes: this.maxBytes, capExceeded: this.capExceeded },
        'outbox over its cap with only alerting rows left: keeping them (never dropped)',
      );
    }
  }
}

export type { PendingDrop, Range };
