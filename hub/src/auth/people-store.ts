/**
 * Where users, sessions, API keys and failed logins are kept: one small interface, SQLite in
 * hub.db today (tables in ../db/schema/people.ts). Secrets arrive here already hashed or sealed.
 */
import type { Statement } from 'better-sqlite3';
import type { HubDatabase } from '../db/database.js';
import type { Role } from './roles.js';

export interface UserRecord {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  areas: string[];
  passwordHash: string;
  /** Sealed (../secrets/keyring.ts); null until the user has enrolled TOTP. */
  totpSecret: string | null;
  totpLastStep: number | null;
  /** SHA-256 of each unused recovery code. */
  recoveryCodes: string[];
  disabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
}

export type UserPatch = Partial<Omit<UserRecord, 'id' | 'username' | 'createdAt'>>;

export interface SessionRecord {
  idHash: string;
  userId: number;
  csrfToken: string;
  mfaPending: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  areas: string[];
  secretHash: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface PeopleStore {
  transaction<T>(fn: () => T): T;
  addUser(u: Omit<UserRecord, 'id'>): number;
  updateUser(id: number, patch: UserPatch): void;
  userById(id: number): UserRecord | undefined;
  userByName(username: string): UserRecord | undefined;
  users(): UserRecord[];

  addSession(s: SessionRecord): void;
  session(idHash: string): SessionRecord | undefined;
  touchSession(idHash: string, lastSeenAt: number): void;
  updateSession(idHash: string, patch: Partial<Pick<SessionRecord, 'mfaPending' | 'expiresAt' | 'lastSeenAt'>>): void;
  deleteSession(idHash: string): void;
  deleteSessionsOf(userId: number): number;
  deleteExpiredSessions(now: number): number;

  addApiKey(k: ApiKeyRecord): void;
  apiKey(id: string): ApiKeyRecord | undefined;
  apiKeys(): ApiKeyRecord[];
  updateApiKey(id: string, patch: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>>): void;

  addLoginFailure(username: string, ip: string | null, at: number): void;
  loginFailuresSince(username: string, since: number): number;
  clearLoginFailures(username: string): void;
}

type Row = Record<string, unknown>;

const USER_COLUMNS: Record<keyof Omit<UserRecord, 'id'>, string> = {
  username: 'username',
  displayName: 'display_name',
  role: 'role',
  areas: 'areas',
  passwordHash: 'password_hash',
  totpSecret: 'totp_secret',
  totpLastStep: 'totp_last_step',
  recoveryCodes: 'recovery_codes',
  disabled: 'disabled',
  lockedUntil: 'locked_until',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastLoginAt: 'last_login_at',
};

function userToDb(key: string, v: unknown): unknown {
  if (key === 'areas' || key === 'recoveryCodes') return JSON.stringify(v);
  if (key === 'disabled') return v ? 1 : 0;
  return v;
}

function userFromRow(r: Row): UserRecord {
  return {
    id: r.id as number,
    username: r.username as string,
    displayName: r.display_name as string,
    role: r.role as Role,
    areas: JSON.parse(r.areas as string) as string[],
    passwordHash: r.password_hash as string,
    totpSecret: (r.totp_secret as string | null) ?? null,
    totpLastStep: (r.totp_last_step as number | null) ?? null,
    recoveryCodes: r.recovery_codes ? (JSON.parse(r.recovery_codes as string) as string[]) : [],
    disabled: r.disabled === 1,
    lockedUntil: (r.locked_until as number | null) ?? null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    lastLoginAt: (r.last_login_at as number | null) ?? null,
  };
}

function sessionFromRow(r: Row): SessionRecord {
  return {
    idHash: r.id_hash as string,
    userId: r.user_id as number,
    csrfToken: r.csrf_token as string,
    mfaPending: r.mfa_pending === 1,
    createdAt: r.created_at as number,
    lastSeenAt: r.last_seen_at as number,
    expiresAt: r.expires_at as number,
    ip: (r.ip as string | null) ?? null,
    userAgent: (r.user_agent as string | null) ?? null,
  };
}

function apiKeyFromRow(r: Row): ApiKeyRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    role: r.role as Role,
    areas: JSON.parse(r.areas as string) as string[],
    secretHash: r.secret_hash as string,
    createdBy: r.created_by as string,
    createdAt: r.created_at as number,
    expiresAt: (r.expires_at as number | null) ?? null,
    revokedAt: (r.revoked_at as number | null) ?? null,
    lastUsedAt: (r.last_used_at as number | null) ?? null,
  };
}

export class SqlitePeopleStore implements PeopleStore {
  private readonly st;
  private readonly tx;
  private readonly updates = new Map<string, Statement>();

  constructor(private readonly db: HubDatabase) {
    this.tx = db.transaction((fn: () => unknown) => fn());
    const cols = Object.values(USER_COLUMNS);
    this.st = {
      addUser: db.prepare(`INSERT INTO users (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`),
      userById: db.prepare('SELECT * FROM users WHERE id = ?'),
      userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
      users: db.prepare('SELECT * FROM users ORDER BY username'),
      addSession: db.prepare(
        `INSERT INTO sessions (id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (@idHash, @userId, @csrfToken, @mfaPending, @createdAt, @lastSeenAt, @expiresAt, @ip, @userAgent)`,
      ),
      session: db.prepare('SELECT * FROM sessions WHERE id_hash = ?'),
      touchSession: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
      deleteSession: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      deleteSessionsOf: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
      deleteExpired: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
      addApiKey: db.prepare(
        `INSERT INTO api_keys (id, name, role, areas, secret_hash, created_by, created_at, expires_at, revoked_at, last_used_at)
         VALUES (@id, @name, @role, @areas, @secretHash, @createdBy, @createdAt, @expiresAt, @revokedAt, @lastUsedAt)`,
      ),
      apiKey: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
      apiKeys: db.prepare('SELECT * FROM api_keys ORDER BY created_at DESC'),
      addFailure: db.prepare('INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)'),
      failuresSince: db.prepare('SELECT count(*) FROM login_failures WHERE username = ? AND at >= ?').pluck(),
      clearFailures: db.prepare('DELETE FROM login_failures WHERE username = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.tx.immediate(fn) as T;
  }

  addUser(u: Omit<UserRecord, 'id'>): number {
    const keys = Object.keys(USER_COLUMNS) as Array<keyof typeof USER_COLUMNS>;
    return Number(this.st.addUser.run(...keys.map((k) => userToDb(k, u[k]))).lastInsertRowid);
  }

  updateUser(id: number, patch: UserPatch): void {
    const keys = Object.keys(patch) as Array<keyof UserPatch>;
    if (!keys.length) return;
    const sql = `UPDATE users SET ${keys.map((k) => `${USER_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`;
    let stmt = this.updates.get(sql);
    if (!stmt) this.updates.set(sql, (stmt = this.db.prepare(sql)));
    const values: unknown[] = keys.map((k) => userToDb(k, patch[k]));
    stmt.run(...values, id);
  }

  userById(id: number): UserRecord | undefined {
    const r = this.st.userById.get(id) as Row | undefined;
    return r ? userFromRow(r) : undefined;
  }

  userByName(username: string): UserRecord | undefined {
    const r = this.st.userByName.get(username) as Row | undefined;
    return r ? userFromRow(r) : undefined;
  }

  users(): UserRecord[] {
    return (this.st.users.all() as Row[]).map(userFromRow);
  }

  addSession(s: SessionRecord): void {
    this.st.addSession.run({ ...s, mfaPending: s.mfaPending ? 1 : 0 });
  }

  session(idHash: string): SessionRecord | undefined {
    const r = this.st.session.get(idHash) as Row | undefined;
    return r ? sessionFromRow(r) : undefined;
  }

  touchSession(idHash: string, lastSeenAt: number): void {
    this.st.touchSession.run(lastSeenAt, idHash);
  }

  updateSession(idHash: string, patch: Partial<Pick<SessionRecord, 'mfaPending' | 'expiresAt' | 'lastSeenAt'>>): void {
    const cols: Record<string, string> = { mfaPending: 'mfa_pending', expiresAt: 'expires_at', lastSeenAt: 'last_seen_at' };
    const keys = Object.keys(patch) as Array<keyof typeof patch>;
    if (!keys.length) return;
    const sql = `UPDATE sessions SET ${keys.map((k) => `${cols[k]} = ?`).join(', ')} WHERE id_hash = ?`;
    const values: unknown[] = keys.map((k) => (k === 'mfaPending' ? (patch[k] ? 1 : 0) : patch[k]));
    this.db.prepare(sql).run(...values, idHash);
  }

  deleteSession(idHash: string): void {
    this.st.deleteSession.run(idHash);
  }

  deleteSessionsOf(userId: number): number {
    return this.st.deleteSessionsOf.run(userId).changes;
  }

  deleteExpiredSessions(now: number): number {
    return this.st.deleteExpired.run(now).changes;
  }

  addApiKey(k: ApiKeyRecord): void {
    this.st.addApiKey.run({ ...k, areas: JSON.stringify(k.areas) });
  }

  apiKey(id: string): ApiKeyRecord | undefined {
    const r = this.st.apiKey.get(id) as Row | undefined;
    return r ? apiKeyFromRow(r) : undefined;
  }

  apiKeys(): ApiKeyRecord[] {
    return (this.st.apiKeys.all() as Row[]).map(apiKeyFromRow);
  }

  updateApiKey(id: string, patch: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>>): void {
    if (patch.revokedAt !== undefined) this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(patch.revokedAt, id);
    if (patch.lastUsedAt !== undefined) this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(patch.lastUsedAt, id);
  }

  addLoginFailure(username: string, ip: string | null, at: number): void {
    this.st.addFailure.run(username, ip, at);
  }

  loginFailuresSince(username: string, since: number): number {
    return this.st.failuresSince.get(username, since) as number;
  }

  clearLoginFailures(username: string): void {
    this.st.clearFailures.run(username);
  }
}
