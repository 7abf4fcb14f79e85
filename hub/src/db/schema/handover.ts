/**
 * Shift handovers (migration 7 of hub.db): the outgoing shift's note and the open alerts it hands
 * over, per desk (the author's areas, e.g. "*" for the province desk or "19816" for a commune):
 * the next shift of the same desk reads what happened since.
 */
export const HANDOVER_SCHEMA = `
  CREATE TABLE handovers (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    by TEXT NOT NULL,                     -- the principal's id (username)
    desk TEXT NOT NULL,                   -- the author's areas, sorted, comma-separated
    note TEXT NOT NULL,
    open_alerts TEXT NOT NULL             -- JSON array of the alert ids open when handed over
  );
  CREATE INDEX handovers_desk ON handovers (desk, ts);
  CREATE INDEX alert_events_ts ON alert_events (ts);
`;
