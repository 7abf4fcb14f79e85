/**
 * Gateway identities: one-time enrolment tokens (stored as SHA-256 only), the certificates the
 * hub's CA signed, and each gateway's state (enrolled, revoked). Migration 4 of hub.db.
 */
export const ENROL_SCHEMA = `
  CREATE TABLE enrolment_tokens (
    token_hash TEXT PRIMARY KEY,         -- SHA-256 (hex) of the token: a copy of hub.db does not give tokens away
    gateway TEXT NOT NULL,
    commune TEXT NOT NULL,               -- the commune the gateway is enrolled into (GSO code)
    created_by TEXT NOT NULL,            -- audit actor: user:…, apikey:…, cli:…
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,                     -- set in the transaction that issues the certificate
    used_ip TEXT,
    serial TEXT                          -- the certificate issued with it
  );
  CREATE INDEX enrolment_tokens_gateway ON enrolment_tokens (gateway, created_at);

  CREATE TABLE gateway_identities (
    gateway TEXT PRIMARY KEY,
    commune TEXT,                        -- null for a hub.yaml gateway revoked or renewed without enrolling
    serial TEXT,                         -- the newest certificate the hub signed for it
    fingerprint TEXT,
    not_after INTEGER,
    enrolled_at INTEGER,
    renewed_at INTEGER,
    revoked_at INTEGER,                  -- not null: refused at connect, whatever certificate it shows
    revoked_by TEXT,
    revoke_reason TEXT
  );

  CREATE TABLE gateway_certificates (
    serial TEXT PRIMARY KEY,             -- upper-case hex
    gateway TEXT NOT NULL,
    fingerprint TEXT NOT NULL,           -- SHA-256 of the DER certificate, colon hex
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('enrol', 'renew')),
    revoked_at INTEGER                   -- every certificate of a gateway is revoked with it, and stays so after a re-enrolment
  );
  CREATE INDEX gateway_certificates_gateway ON gateway_certificates (gateway, issued_at);
`;
