/**
 * Alerts of configured rules (migration 5 of hub.db): an episode per (rule, target) with the
 * lifecycle open → acknowledged → cleared → closed, shelving, flapping, late and missed episodes;
 * the rule versions edited through the API; shelves per target. Alerts of the single flood rule
 * of migration 1 are carried over as rule "flood" (kind flood-levels); "resolved" became "closed".
 */
export const ALERTS_SCHEMA = `
  CREATE TABLE alerts_v2 (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,                   -- the configured rule's id
    kind TEXT NOT NULL,                   -- its kind (flood-levels, accumulation, …)
    category TEXT NOT NULL,
    target TEXT NOT NULL,                 -- the rule's target key: a device id, site:…, gw:…
    dev TEXT,                             -- the device the alert belongs to (scope); NULL for a gateway
    metric TEXT,
    gw TEXT,
    commune_code TEXT NOT NULL DEFAULT '',
    province_code TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL, max_level INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared', 'closed')),
    active INTEGER NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    late INTEGER NOT NULL DEFAULT 0,      -- raised from a backlog, not announced yet
    missed INTEGER NOT NULL DEFAULT 0,    -- began and ended while the gateway was offline: a report
    flaps INTEGER NOT NULL DEFAULT 0,
    exercise INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cleared_at INTEGER,
    acknowledged_by TEXT, acknowledged_at INTEGER,
    closed_by TEXT, closed_at INTEGER,
    assignee TEXT,
    shelved_until INTEGER, shelved_by TEXT,
    note TEXT, last_value REAL,
    risk_level INTEGER, risk_confirmed_by TEXT, risk_confirmed_at INTEGER
  );
  INSERT INTO alerts_v2 (id, rule, kind, category, target, dev, metric, gw, level, max_level, state, active,
      opened_at, updated_at, cleared_at, acknowledged_by, acknowledged_at, closed_by, closed_at, note, last_value)
    SELECT id, CASE rule WHEN 'flood-level' THEN 'flood' ELSE rule END,
      CASE rule WHEN 'flood-level' THEN 'flood-levels' ELSE rule END, 'flood', dev, dev, metric, NULL, level, max_level,
      CASE WHEN state = 'resolved' THEN 'closed' WHEN active = 0 THEN 'cleared' ELSE state END, active,
      opened_at, updated_at, cleared_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, note, last_value
    FROM alerts;

  CREATE TABLE alert_events_v2 (
    id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts_v2 (id),
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('raised', 'escalated', 'deescalated', 'cleared', 'reopened', 'acknowledged', 'assigned',
      'shelved', 'unshelved', 'closed', 'stale', 'fresh', 'announced', 'missed', 'risk-confirmed')),
    level INTEGER NOT NULL, value REAL, by TEXT, note TEXT
  );
  INSERT INTO alert_events_v2 (id, alert_id, ts, kind, level, value, by, note)
    SELECT id, alert_id, ts, CASE kind WHEN 'resolved' THEN 'closed' ELSE kind END, level, value, by, note FROM alert_events;
  DROP TABLE alert_events;
  DROP TABLE alerts;
  ALTER TABLE alerts_v2 RENAME TO alerts;
  ALTER TABLE alert_events_v2 RENAME TO alert_events;
  CREATE INDEX alerts_dev ON alerts (dev, id);
  CREATE INDEX alerts_state ON alerts (state, id);
  CREATE INDEX alerts_active ON alerts (active) WHERE active = 1;
  CREATE INDEX alerts_target ON alerts (rule, target, id);
  CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
  UPDATE alert_cursors SET rule = 'flood' WHERE rule = 'flood-level';

  -- Shelving is per (rule, target): alerts raised while a shelf holds are recorded, not notified.
  CREATE TABLE alert_shelves (
    rule TEXT NOT NULL, target TEXT NOT NULL, until INTEGER NOT NULL, by TEXT NOT NULL, note TEXT,
    PRIMARY KEY (rule, target)
  ) WITHOUT ROWID;

  -- Every version of every rule; the newest non-deleted version of an id is in force.
  CREATE TABLE alert_rules (
    id TEXT NOT NULL, version INTEGER NOT NULL,
    spec TEXT NOT NULL,                   -- JSON
    source TEXT NOT NULL CHECK (source IN ('default', 'config', 'api')),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL, note TEXT,
    PRIMARY KEY (id, version)
  ) WITHOUT ROWID;
`;
