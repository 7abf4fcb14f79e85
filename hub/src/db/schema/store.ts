/** The time-series store's tables (readings, seq accounting, gateways' state, alerts). */
export const STORE_SCHEMA = `
    CREATE TABLE readings (
      gw TEXT NOT NULL, seq INTEGER NOT NULL, dev TEXT NOT NULL, metric TEXT NOT NULL,
      ts INTEGER NOT NULL, value REAL, q TEXT NOT NULL, reason TEXT,
      PRIMARY KEY (gw, seq)
    ) WITHOUT ROWID;
    CREATE INDEX readings_dev_metric_ts ON readings (dev, metric, ts);

    CREATE TABLE gw_ranges (
      gw TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
      PRIMARY KEY (gw, first)
    ) WITHOUT ROWID;

    CREATE TABLE gw_stats (
      gw TEXT PRIMARY KEY,
      stored INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
      dropped INTEGER NOT NULL DEFAULT 0, quarantined INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE dropped (
      id INTEGER PRIMARY KEY, gw TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
      reason TEXT NOT NULL, received_at INTEGER NOT NULL
    );

    CREATE TABLE quarantine (
      gw TEXT NOT NULL, seq INTEGER NOT NULL, dev TEXT NOT NULL, metric TEXT NOT NULL,
      ts INTEGER NOT NULL, cause TEXT NOT NULL, reading TEXT NOT NULL, received_at INTEGER NOT NULL,
      PRIMARY KEY (gw, seq)
    ) WITHOUT ROWID;

    CREATE TABLE latest (
      dev TEXT NOT NULL, metric TEXT NOT NULL, gw TEXT NOT NULL, seq INTEGER NOT NULL,
      ts INTEGER NOT NULL, value REAL, q TEXT NOT NULL, reason TEXT,
      PRIMARY KEY (dev, metric)
    ) WITHOUT ROWID;

    CREATE TABLE gateways (
      gw TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER,
      status TEXT, status_at INTEGER
    );

    CREATE TABLE device_events (
      id INTEGER PRIMARY KEY, gw TEXT NOT NULL, dev TEXT NOT NULL, ts INTEGER NOT NULL,
      event TEXT NOT NULL, detail TEXT, received_at INTEGER NOT NULL
    );
    CREATE INDEX device_events_dev ON device_events (dev, ts);

    CREATE TABLE alerts (
      id INTEGER PRIMARY KEY, dev TEXT NOT NULL, metric TEXT NOT NULL, rule TEXT NOT NULL,
      level INTEGER NOT NULL, max_level INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
      active INTEGER NOT NULL,
      opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cleared_at INTEGER,
      acknowledged_by TEXT, acknowledged_at INTEGER, resolved_by TEXT, resolved_at INTEGER,
      note TEXT, last_value REAL
    );
    CREATE INDEX alerts_dev ON alerts (dev, id);
    CREATE INDEX alerts_state ON alerts (state, id);
    CREATE INDEX alerts_active ON alerts (active) WHERE active = 1;

    CREATE TABLE alert_events (
      id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id),
      ts INTEGER NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('raised', 'escalated', 'deescalated', 'cleared', 'acknowledged', 'resolved')),
      level INTEGER NOT NULL, value REAL, by TEXT, note TEXT
    );
    CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

    CREATE TABLE alert_cursors (
      rule TEXT NOT NULL, dev TEXT NOT NULL, metric TEXT NOT NULL, last_ts INTEGER NOT NULL,
      PRIMARY KEY (rule, dev, metric)
    ) WITHOUT ROWID;
  `;
