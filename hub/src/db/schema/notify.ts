/**
 * Alert notifications (../../notify): the durable queue (one row per notification × channel),
 * every delivery attempt, escalation timers, and the recovery mark. Self-contained: no foreign
 * key into the alert tables, so the alert model can change beneath it.
 */
export const NOTIFY_SCHEMA = `
  CREATE TABLE notify_queue (
    id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,      -- notification id + channel: enqueueing the same event twice is a no-op
    notification_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    alert_id INTEGER NOT NULL,
    dev TEXT,                            -- for the caller's scope in the API
    event_kind TEXT NOT NULL,
    payload TEXT NOT NULL,               -- the Notification (JSON)
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,            -- pending: not before this (epoch ms)
    created_at INTEGER NOT NULL,
    age_from INTEGER NOT NULL,           -- maxAge counts from here: created_at, or the last replay
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT,
    dead_reason TEXT,
    replays INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX notify_queue_due ON notify_queue (channel, next_at) WHERE status = 'pending';
  CREATE INDEX notify_queue_status ON notify_queue (status, id);
  CREATE INDEX notify_queue_alert ON notify_queue (alert_id);

  CREATE TABLE notify_attempts (
    id INTEGER PRIMARY KEY,
    queue_id INTEGER NOT NULL REFERENCES notify_queue (id),
    channel TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),  -- retry: failed, tried again later; dead: failed, no more tries
    error TEXT                           -- truncated, never a secret
  );
  CREATE INDEX notify_attempts_queue ON notify_attempts (queue_id, id);

  CREATE TABLE notify_escalations (
    alert_id INTEGER NOT NULL,
    tier INTEGER NOT NULL,               -- position in notify.escalation
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'fired', 'cancelled')),
    payload TEXT NOT NULL,               -- the notification that armed it (JSON)
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    reason TEXT,
    PRIMARY KEY (alert_id, tier)
  ) WITHOUT ROWID;
  CREATE INDEX notify_escalations_due ON notify_escalations (due_at) WHERE state = 'pending';

  CREATE TABLE notify_marks (
    name TEXT PRIMARY KEY,               -- 'alert_history': position in the alert history already routed
    value INTEGER NOT NULL
  );
`;
