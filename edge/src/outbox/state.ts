/**
 * What an outbox file says about itself: the counters kept in `meta` and the aggregate of the
 * rows, read in one go. Shared by the Outbox (once, at open) and the read-only OutboxReader, so
 * the two report the same depth, bytes and seqs for the same file.
 */
import type Database from 'better-sqlite3';
import type { OutboxHealth } from '@ioc/shared';
import { ROW_OVERHEAD_BYTES } from './schema.js';

export interface OutboxState {
  lastSeq: number;
  ackedUpTo: number;
  droppedTotal: number;
  lastAckTs: number | null;
  rows: number;
  /** Estimated bytes: bodies plus ROW_OVERHEAD_BYTES per row. */
  bytes: number;
  /** The newest pending drop range (the one a next drop may extend). */
  lastDrop: { first: number; last: number; reason: string } | null;
}

export function readOutboxState(db: Database.Database): OutboxState {
  const meta = new Map((db.prepare('SELECT k, v FROM meta').all() as { k: string; v: number }[]).map((r) => [r.k, r.v]));
  const agg = db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS maxSeq, total(octet_length(body)) AS b FROM outbox')
    .get() as { n: number; maxSeq: number; b: number };
  const lastDrop = (db.prepare('SELECT first, last, reason FROM pending_drops ORDER BY first DESC LIMIT 1').get() as
    OutboxState['lastDrop'] | undefined) ?? null;
  return {
    // meta.last_seq is written whenever rows are deleted, so max(meta, max(seq)) is every seq ever assigned.
    lastSeq: Math.max(meta.get('last_seq') ?? 0, agg.maxSeq),
    ackedUpTo: meta.get('acked_up_to') ?? 0,
    droppedTotal: meta.get('dropped_total') ?? 0,
    lastAckTs: meta.get('last_ack_ts') ?? null,
    rows: agg.n,
    bytes: agg.b + agg.n * ROW_OVERHEAD_BYTES,
    lastDrop,
  };
}

export interface OutboxCaps {
  maxRows: number;
  maxBytes: number;
}

/**
 * The health figures of `ioc-edge status` and the gateway's status message. `overCap` only when
 * the outbox holds more than a cap allows — which happens only when every routine row is gone and
 * alerting rows, never dropped, still exceed it.
 */
export function outboxHealth(
  s: Pick<OutboxState, 'rows' | 'bytes' | 'droppedTotal' | 'lastSeq' | 'ackedUpTo' | 'lastAckTs'>,
  oldestTs: number | undefined,
  now: number,
  caps?: OutboxCaps,
): OutboxHealth {
  const bytes = Math.max(0, Math.round(s.bytes));
  const h: OutboxHealth = {
    depth: s.rows,
    oldestUnsentAgeS: oldestTs === undefined ? 0 : Math.max(0, (now - oldestTs) / 1000),
    bytes,
    dropped: s.droppedTotal,
    lastSeq: s.lastSeq,
    ackedUpTo: s.ackedUpTo,
    lastAckTs: s.lastAckTs,
  };
  if (caps && (s.rows > caps.maxRows || bytes > caps.maxBytes)) {
    h.overCap = {
      rows: Math.max(0, s.rows - caps.maxRows),
      bytes: Math.max(0, bytes - caps.maxBytes),
      maxRows: caps.maxRows,
      maxBytes: caps.maxBytes,
    };
  }
  return h;
}
