/**
 * SQLite layout of the gateway outbox. Created if missing, never dropped or recreated: the
 * buffer survives restarts, upgrades and config changes.
 */

export const OUTBOX_DDL = `
CREATE TABLE IF NOT EXISTS outbox (
  seq  INTEGER PRIMARY KEY,   -- rowid: per-gateway sequence number, assigned on insert
  ts   INTEGER NOT NULL,      -- gateway clock (epoch ms) when the row entered the outbox
  prio INTEGER NOT NULL,      -- 1 = feeds an alert rule (never dropped), 0 = routine
  body TEXT    NOT NULL       -- the reading as JSON, serialized once so a batch is concatenation
);
CREATE TABLE IF NOT EXISTS meta (
  k TEXT PRIMARY KEY,
  v INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_drops (
  first  INTEGER PRIMARY KEY, -- inclusive seq range deleted unsent, reported until acked past
  last   INTEGER NOT NULL,
  reason TEXT    NOT NULL,
  ts     INTEGER NOT NULL
);
`;

export type MetaKey = 'last_seq' | 'acked_up_to' | 'dropped_total' | 'last_ack_ts';

/** Estimated SQLite cost of a row beyond its body (cell header, rowid, ts, prio, pointer). */
export const ROW_OVERHEAD_BYTES = 40;
