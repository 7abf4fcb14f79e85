/**
 * The audit log: append-only, each entry chained to the one before by an HMAC (see ../../audit/chain.ts).
 * The triggers stop accidental edits through SQL; the chain is what detects a deliberate one.
 */
export const AUDIT_SCHEMA = `
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    summary TEXT,
    before TEXT,
    after TEXT,
    ip TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_log_action ON audit_log (action, seq);
  CREATE INDEX audit_log_actor ON audit_log (actor, seq);
  CREATE INDEX audit_log_ts ON audit_log (ts);
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;
