/** People (../../auth/): users, their sessions, machines' API keys, failed logins (for lockout). */
export const PEOPLE_SCHEMA = `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'commune', 'technician', 'viewer')),
    areas TEXT NOT NULL,                 -- JSON array of area codes ('*', province or commune codes)
    password_hash TEXT NOT NULL,         -- argon2id (PHC string)
    totp_secret TEXT,                    -- sealed with the hub's secret key (AES-256-GCM)
    totp_last_step INTEGER,              -- the last accepted 30 s step: a code is never accepted twice
    recovery_codes TEXT,                 -- JSON array of SHA-256 hashes of unused codes
    disabled INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER
  );

  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,            -- SHA-256 of the cookie value: a database read does not give sessions away
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    mfa_pending INTEGER NOT NULL DEFAULT 0,   -- an admin who still has to enrol TOTP
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip TEXT,
    user_agent TEXT
  );
  CREATE INDEX sessions_user ON sessions (user_id);

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,                 -- public part of the key (ioc_<id>.<secret>)
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'commune', 'technician', 'viewer')),
    areas TEXT NOT NULL,
    secret_hash TEXT NOT NULL,           -- SHA-256 of the 256-bit secret
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
  );

  CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    ip TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX login_failures_user ON login_failures (username, at);
`;
