/** The enrolment tables of hub.db (./schema.ts): prepared statements, rows in and out, no policy. */
import type { HubDatabase } from '../db/database.js';
import type { GatewayIdentityFields } from './views.js';

export interface TokenRecord {
  tokenHash: string;
  gateway: string;
  commune: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedIp: string | null;
  serial: string | null;
}

export interface IdentityRecord extends GatewayIdentityFields {
  gateway: string;
  commune: string | null;
}

export interface CertificateRecord {
  serial: string;
  gateway: string;
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  how: 'enrol' | 'renew';
}

type Row = Record<string, unknown>;

const tokenFromRow = (r: Row): TokenRecord => ({
  tokenHash: r.token_hash as string,
  gateway: r.gateway as string,
  commune: r.commune as string,
  createdBy: r.created_by as string,
  createdAt: r.created_at as number,
  expiresAt: r.expires_at as number,
  usedAt: (r.used_at as number | null) ?? null,
  usedIp: (r.used_ip as string | null) ?? null,
  serial: (r.serial as string | null) ?? null,
});

const identityFromRow = (r: Row): IdentityRecord => ({
  gateway: r.gateway as string,
  commune: (r.commune as string | null) ?? null,
  serial: (r.serial as string | null) ?? null,
  fingerprint: (r.fingerprint as string | null) ?? null,
  notAfter: (r.not_after as number | null) ?? null,
  enrolledAt: (r.enrolled_at as number | null) ?? null,
  renewedAt: (r.renewed_at as number | null) ?? null,
  revokedAt: (r.revoked_at as number | null) ?? null,
  revokedBy: (r.revoked_by as string | null) ?? null,
  revokeReason: (r.revoke_reason as string | null) ?? null,
});

export class EnrolStore {
  private readonly st;

  constructor(readonly db: HubDatabase) {
    this.st = {
      insertToken: db.prepare(
        `INSERT INTO enrolment_tokens (token_hash, gateway, commune, created_by, created_at, expires_at)
         VALUES (@tokenHash, @gateway, @commune, @createdBy, @createdAt, @expiresAt)`,
      ),
      token: db.prepare('SELECT * FROM enrolment_tokens WHERE token_hash = ?'),
      useToken: db.prepare('UPDATE enrolment_tokens SET used_at = ?, used_ip = ?, serial = ? WHERE token_hash = ? AND used_at IS NULL'),
      identity: db.prepare('SELECT * FROM gateway_identities WHERE gateway = ?'),
      identities: db.prepare('SELECT * FROM gateway_identities ORDER BY gateway'),
      enrolled: db.prepare('SELECT * FROM gateway_identities WHERE enrolled_at IS NOT NULL ORDER BY gateway'),
      upsertEnrolled: db.prepare(
        `INSERT INTO gateway_identities (gateway, commune, serial, fingerprint, not_after, enrolled_at)
         VALUES (@gateway, @commune, @serial, @fingerprint, @notAfter, @at)
         ON CONFLICT (gateway) DO UPDATE SET commune = excluded.commune, serial = excluded.serial,
           fingerprint = excluded.fingerprint, not_after = excluded.not_after, enrolled_at = excluded.enrolled_at,
           renewed_at = NULL, revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL`,
      ),
      upsertRenewed: db.prepare(
        `INSERT INTO gateway_identities (gateway, serial, fingerprint, not_after, renewed_at)
         VALUES (@gateway, @serial, @fingerprint, @notAfter, @at)
         ON CONFLICT (gateway) DO UPDATE SET serial = excluded.serial, fingerprint = excluded.fingerprint,
           not_after = excluded.not_after, renewed_at = excluded.renewed_at`,
      ),
      upsertRevoked: db.prepare(
        `INSERT INTO gateway_identities (gateway, commune, revoked_at, revoked_by, revoke_reason)
         VALUES (@gateway, @commune, @at, @by, @reason)
         ON CONFLICT (gateway) DO UPDATE SET revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by,
           revoke_reason = excluded.revoke_reason`,
      ),
      insertCert: db.prepare(
        `INSERT INTO gateway_certificates (serial, gateway, fingerprint, not_before, not_after, issued_at, how)
         VALUES (@serial, @gateway, @fingerprint, @notBefore, @notAfter, @issuedAt, @how)`,
      ),
      revokeCerts: db.prepare('UPDATE gateway_certificates SET revoked_at = ? WHERE gateway = ? AND revoked_at IS NULL'),
      revokedGateways: db.prepare('SELECT gateway FROM gateway_identities WHERE revoked_at IS NOT NULL').pluck(),
      revokedSerials: db.prepare('SELECT serial FROM gateway_certificates WHERE revoked_at IS NOT NULL').pluck(),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  addToken(t: Omit<TokenRecord, 'usedAt' | 'usedIp' | 'serial'>): void {
    this.st.insertToken.run(t);
  }

  token(tokenHash: string): TokenRecord | undefined {
    const r = this.st.token.get(tokenHash) as Row | undefined;
    return r ? tokenFromRow(r) : undefined;
  }

  /** False when the token was used meanwhile (another connection, another process). */
  useToken(tokenHash: string, at: number, ip: string | null, serial: string): boolean {
    return this.st.useToken.run(at, ip, serial, tokenHash).changes === 1;
  }

  identity(gateway: string): IdentityRecord | undefined {
    const r = this.st.identity.get(gateway) as Row | undefined;
    return r ? identityFromRow(r) : undefined;
  }

  identities(): IdentityRecord[] {
    return (this.st.identities.all() as Row[]).map(identityFromRow);
  }

  /** Gateways that enrolled with a token (whether revoked since or not). */
  enrolled(): IdentityRecord[] {
    return (this.st.enrolled.all() as Row[]).map(identityFromRow);
  }

  recordEnrolled(c: CertificateRecord, commune: string): void {
    this.st.insertCert.run(c);
    this.st.upsertEnrolled.run({ gateway: c.gateway, commune, serial: c.serial, fingerprint: c.fingerprint, notAfter: c.notAfter, at: c.issuedAt });
  }

  recordRenewed(c: CertificateRecord): void {
    this.st.insertCert.run(c);
    this.st.upsertRenewed.run({ gateway: c.gateway, serial: c.serial, fingerprint: c.fingerprint, notAfter: c.notAfter, at: c.issuedAt });
  }

  recordRevoked(gateway: string, commune: string | null, at: number, by: string, reason: string | null): void {
    this.st.upsertRevoked.run({ gateway, commune, at, by, reason });
    this.st.revokeCerts.run(at, gateway);
  }

  revokedGateways(): string[] {
    return this.st.revokedGateways.all() as string[];
  }

  revokedSerials(): string[] {
    return this.st.revokedSerials.all() as string[];
  }

  /** SQLite's PRAGMA data_version: changes when another connection (an `ioc-hub` command) committed. */
  dataVersion(): number {
    return this.st.dataVersion.get() as number;
  }
}
