/**
 * People and machines proving who they are: password logins with lockout, TOTP for the roles that
 * need it, cookie sessions, API keys; and the account changes an admin makes. Every decision that
 * matters is written to the audit log, in the same transaction as the change it records.
 *
 * Secrets never stored as given: passwords as argon2id, session ids and API-key secrets as
 * SHA-256 (256 random bits each: a slow hash buys nothing), TOTP secrets sealed with the hub's key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/types.js';
import type { Registry } from '../config/registry.js';
import type { Keyring } from '../secrets/keyring.js';
import { checkPasswordPolicy, decoyHash, hashPassword, verifyPassword } from './passwords.js';
import type { ApiKeyRecord, PeopleStore, UserRecord } from './people-store.js';
import type { Principal } from './principal.js';
import { MFA_REQUIRED, type Role } from './roles.js';
import { buildScope, effectiveAreas, type Scope } from './scope.js';
import type { ApiKeyView, UserView } from './views.js';

export type { ApiKeyView, UserView };
import { checkTotp, hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpUri } from './totp.js';

export interface AuthSettings {
  sessionHours: number;
  idleMinutes: number;
  lockoutAttempts: number;
  lockoutWindowMinutes: number;
  lockMinutes: number;
  passwordMinLength: number;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  sessionHours: 12,
  idleMinutes: 60,
  lockoutAttempts: 5,
  lockoutWindowMinutes: 15,
  lockMinutes: 15,
  passwordMinLength: 10,
};

export class AuthError extends Error {
  constructor(
    readonly code:
      | 'invalid_credentials'
      | 'locked'
      | 'disabled'
      | 'mfa_required'
      | 'invalid_mfa'
      | 'mfa_not_started'
      | 'policy'
      | 'conflict'
      | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export function userView(u: UserRecord): UserView {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    areas: u.areas,
    mfaEnabled: u.totpSecret !== null,
    mfaRequired: MFA_REQUIRED.has(u.role),
    recoveryCodesLeft: u.recoveryCodes.length,
    disabled: u.disabled,
    lockedUntil: u.lockedUntil,
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt,
  };
}

function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  const { secretHash: _secret, ...view } = k;
  return view;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const token = () => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `ioc_<id>.<secret>`: the id finds the row, the secret proves possession. */
const API_KEY_RE = /^ioc_([a-z0-9]{16})\.([A-Za-z0-9_-]{43})$/;

export interface LoginInput {
  username: string;
  password: string;
  /** A 6-digit TOTP code or a recovery code. */
  otp?: string;
  ip?: string;
  userAgent?: string;
}

export interface LoginResult {
  /** The cookie value (given to the browser once; only its hash is kept). */
  sessionToken: string;
  csrfToken: string;
  expiresAt: number;
  user: UserView;
  /** An account that must enrol TOTP before it can do anything else. */
  mfaEnrolmentRequired: boolean;
}

export interface NewUser {
  username: string;
  displayName?: string;
  role: Role;
  areas: string[];
  password: string;
}

export interface AuthServiceOptions {
  people: PeopleStore;
  audit: AuditLog;
  keyring: Keyring;
  registry: Registry;
  settings?: Partial<AuthSettings>;
  now?: () => number;
}

export class AuthService {
  readonly settings: AuthSettings;
  private readonly people: PeopleStore;
  private readonly audit: AuditLog;
  private readonly keyring: Keyring;
  private readonly registry: Registry;
  private readonly now: () => number;
  /** Scopes are built from the registry once per distinct area list. */
  private readonly scopes = new Map<string, Scope>();

  constructor(opts: AuthServiceOptions) {
    this.people = opts.people;
    this.audit = opts.audit;
    this.keyring = opts.keyring;
    this.registry = opts.registry;
    this.settings = { ...DEFAULT_AUTH_SETTINGS, ...opts.settings };
    this.now = opts.now ?? Date.now;
  }

  scopeFor(role: Role, areas: readonly string[]): Scope {
    const eff = effectiveAreas(role, areas);
    const k = [...eff].sort().join(',');
    let s = this.scopes.get(k);
    if (!s) this.scopes.set(k, (s = buildScope(this.registry, eff)));
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Logins and sessions

  async login(input: LoginInput): Promise<LoginResult> {
    const now = this.now();
    const user = this.people.userByName(input.username);
    const actor = `user:${user?.username ?? input.username.slice(0, 64)}`;
    const refuse = (code: AuthError['code'], why: string, message: string): never => {
      this.audit.append({ actor, action: 'auth.login_failed', target: actor, summary: why, outcome: 'refused', ...(input.ip ? { ip: input.ip } : {}) });
      throw new AuthError(code, message);
    };
    if (!user) {
      await verifyPassword(await decoyHash(), input.password);
      this.people.addLoginFailure(input.username.slice(0, 64), input.ip ?? null, now);
      return refuse('invalid_credentials', 'unknown username', 'wrong username or password');
    }
    if (user.lockedUntil !== null && user.lockedUntil > now) {
      return refuse('locked', 'account locked', `too many failed logins: the account is locked until ${new Date(user.lockedUntil).toISOString()}; an admin can unlock it`);
    }
    if (!(await verifyPassword(user.passwordHash, input.password))) {
      this.recordFailure(user, input.ip, now, 'wrong password');
      throw new AuthError('invalid_credentials', 'wrong username or password');
    }
    // After the password: a disabled account is not revealed to someone who does not know it.
    if (user.disabled) return refuse('disabled', 'account disabled', 'this account is disabled; ask an admin');
    let usedRecovery: string | null = null;
    let totpStep: number | null = null;
    if (user.totpSecret !== null) {
      if (!input.otp) {
        this.audit.append({ actor, action: 'auth.login_failed', target: actor, summary: 'password right, second factor missing', outcome: 'refused', ...(input.ip ? { ip: input.ip } : {}) });
        throw new AuthError('mfa_required', 'enter the 6-digit code from your authenticator app (or a recovery code)');
      }
      const otp = input.otp.trim();
      if (/^[0-9]{6}$/.test(otp)) {
        totpStep = await checkTotp(this.keyring.open(user.totpSecret, `user:${user.id}:totp`), otp, user.totpLastStep, now);
      } else {
        const h = hashRecoveryCode(otp);
        if (user.recoveryCodes.includes(h)) usedRecovery = h;
      }
      if (totpStep === null && usedRecovery === null) {
        this.recordFailure(user, input.ip, now, 'wrong second factor');
        throw new AuthError('invalid_mfa', 'the code is wrong or was already used');
      }
    }
    const mfaPending = user.totpSecret === null && MFA_REQUIRED.has(user.role);
    const sessionToken = token();
    const csrfToken = token();
    const expiresAt = now + this.settings.sessionHours * 3_600_000;
    this.people.transaction(() => {
      this.people.addSession({
        idHash: sha256(sessionToken), userId: user.id, csrfToken, mfaPending, createdAt: now, lastSeenAt: now, expiresAt,
        ip: input.ip ?? null, userAgent: input.userAgent?.slice(0, 256) ?? null,
      });
      this.people.updateUser(user.id, {
        lastLoginAt: now, lockedUntil: null,
        ...(totpStep !== null ? { totpLastStep: totpStep } : {}),
        ...(usedRecovery !== null ? { recoveryCodes: user.recoveryCodes.filter((c) => c !== usedRecovery) } : {}),
      });
      this.people.clearLoginFailures(user.username);
      if (usedRecovery !== null) {
        this.audit.append({ actor, action: 'auth.recovery_code_used', target: actor, summary: `${user.recoveryCodes.length - 1} recovery codes left`, ...(input.ip ? { ip: input.ip } : {}) });
      }
      this.audit.append({
        actor, action: 'auth.login', target: actor,
        summary: mfaPending ? 'password only: must enrol TOTP before anything else' : user.totpSecret ? 'password and second factor' : 'password',
        ...(input.ip ? { ip: input.ip } : {}),
      });
    });
    this.people.deleteExpiredSessions(now);
    return { sessionToken, csrfToken, expiresAt, user: userView(this.people.userById(user.id)!), mfaEnrolmentRequired: mfaPending };
  }

  private recordFailure(user: UserRecord, ip: string | undefined, now: number, why: string): void {
    const actor = `user:${user.username}`;
    this.people.transaction(() => {
      this.people.addLoginFailure(user.username, ip ?? null, now);
      this.audit.append({ actor, action: 'auth.login_failed', target: actor, summary: why, outcome: 'refused', ...(ip ? { ip } : {}) });
      const recent = this.people.loginFailuresSince(user.username, now - this.settings.lockoutWindowMinutes * 60_000);
      if (recent >= this.settings.lockoutAttempts) {
        const until = now + this.settings.lockMinutes * 60_000;
        this.people.updateUser(user.id, { lockedUntil: until });
        this.people.clearLoginFailures(user.username);
        this.people.deleteSessionsOf(user.id);
        this.audit.append({ actor: 'system', action: 'auth.locked', target: actor, summary: `${recent} failed logins in ${this.settings.lockoutWindowMinutes} min: locked for ${this.settings.lockMinutes} min`, outcome: 'ok', ...(ip ? { ip } : {}) });
      }
    });
  }

  /** The principal behind a session cookie, or null (unknown, expired, idle too long, user disabled). */
  sessionPrincipal(sessionToken: string): Principal | null {
    const now = this.now();
    const idHash = sha256(sessionToken);
    const s = this.people.session(idHash);
    if (!s) return null;
    if (s.expiresAt <= now || now - s.lastSeenAt > this.settings.idleMinutes * 60_000) {
      this.people.deleteSession(idHash);
      return null;
    }
    const user = this.people.userById(s.userId);
    if (!user || user.disabled || (user.lockedUntil !== null && user.lockedUntil > now)) return null;
    // Throttled: one write a minute per session is enough for the idle timeout.
    if (now - s.lastSeenAt > 60_000) this.people.touchSession(idHash, now);
    return {
      kind: 'user',
      id: user.username,
      actor: `user:${user.username}`,
      role: user.role,
      scope: this.scopeFor(user.role, user.areas),
      session: { idHash, csrfToken: s.csrfToken, mfaPending: s.mfaPending },
    };
  }

  logout(p: Principal, ip?: string): void {
    if (!p.session) return;
    this.people.transaction(() => {
      this.people.deleteSession(p.session!.idHash);
      this.audit.append({ actor: p.actor, action: 'auth.logout', target: p.actor, ...(ip ? { ip } : {}) });
    });
  }

  checkCsrf(p: Principal, header: string | undefined): boolean {
    return !!p.session && typeof header === 'string' && sameText(header, p.session.csrfToken);
  }

  // ---------------------------------------------------------------------------------------------
  // TOTP enrolment

  /** Starts (or restarts) TOTP enrolment: a new secret, kept sealed and inactive until confirmed. */
  mfaBegin(username: string): { secret: string; uri: string } {
    const user = this.mustUser(username);
    if (user.totpSecret !== null) throw new AuthError('conflict', 'TOTP is already enrolled; an admin can reset it (ioc-hub user reset-mfa)');
    const secret = newTotpSecret();
    this.pendingTotp.set(user.id, { sealed: this.keyring.seal(secret, `user:${user.id}:totp`), at: this.now() });
    return { secret, uri: totpUri(user.username, secret) };
  }

  /** Pending enrolments live in memory only: a restart mid-enrolment just means scanning a new QR code. */
  private readonly pendingTotp = new Map<number, { sealed: string; at: number }>();

  /** Confirms enrolment with a first code; returns the recovery codes (shown once). */
  async mfaConfirm(username: string, code: string, sessionIdHash?: string, ip?: string): Promise<string[]> {
    const user = this.mustUser(username);
    const pending = this.pendingTotp.get(user.id);
    if (!pending || this.now() - pending.at > 15 * 60_000) throw new AuthError('mfa_not_started', 'start TOTP enrolment first (it expires after 15 minutes)');
    const step = await checkTotp(this.keyring.open(pending.sealed, `user:${user.id}:totp`), code, null, this.now());
    if (step === null) throw new AuthError('invalid_mfa', 'the code does not match: check the phone’s clock and enter the current code');
    const codes = newRecoveryCodes();
    this.people.transaction(() => {
      this.people.updateUser(user.id, { totpSecret: pending.sealed, totpLastStep: step, recoveryCodes: codes.map(hashRecoveryCode), updatedAt: this.now() });
      if (sessionIdHash) this.people.updateSession(sessionIdHash, { mfaPending: false });
      this.audit.append({ actor: `user:${user.username}`, action: 'auth.mfa_enrolled', target: `user:${user.username}`, summary: 'TOTP enrolled; 10 recovery codes issued', ...(ip ? { ip } : {}) });
    });
    this.pendingTotp.delete(user.id);
    return codes;
  }

  resetMfa(username: string, actor: string, ip?: string): UserView {
    const user = this.mustUser(username);
    this.people.transaction(() => {
      this.people.updateUser(user.id, { totpSecret: null, totpLastStep: null, recoveryCodes: [], updatedAt: this.now() });
      this.people.deleteSessionsOf(user.id);
      this.audit.append({ actor, action: 'auth.mfa_reset', target: `user:${user.username}`, summary: 'TOTP removed; the user enrols again at the next login', ...(ip ? { ip } : {}) });
    });
    return userView(this.people.userById(user.id)!);
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts (admins, and the CLI for the first admin and recovery)

  private mustUser(username: string): UserRecord {
    const u = this.people.userByName(username);
    if (!u) throw new AuthError('not_found', `no user "${username}"`);
    return u;
  }

  user(username: string): UserView | undefined {
    const u = this.people.userByName(username);
    return u ? userView(u) : undefined;
  }

  users(): UserView[] {
    return this.people.users().map(userView);
  }

  async addUser(n: NewUser, actor: string, ip?: string): Promise<UserView> {
    if (this.people.userByName(n.username)) throw new AuthError('conflict', `user "${n.username}" already exists`);
    try {
      checkPasswordPolicy(n.password, n.username, this.settings.passwordMinLength);
    } catch (err) {
      throw new AuthError('policy', (err as Error).message);
    }
    const now = this.now();
    const passwordHash = await hashPassword(n.password);
    const id = this.people.transaction(() => {
      const id = this.people.addUser({
        username: n.username, displayName: n.displayName ?? n.username, role: n.role, areas: n.areas, passwordHash,
        totpSecret: null, totpLastStep: null, recoveryCodes: [], disabled: false, lockedUntil: null, createdAt: now, updatedAt: now, lastLoginAt: null,
      });
      this.audit.append({ actor, action: 'user.created', target: `user:${n.username}`, after: { role: n.role, areas: n.areas, displayName: n.displayName ?? n.username }, ...(ip ? { ip } : {}) });
      return id;
    });
    return userView(this.people.userById(id)!);
  }

  async updateUser(
    username: string,
    patch: { displayName?: string; role?: Role; areas?: string[]; password?: string; disabled?: boolean; unlock?: boolean },
    actor: string,
    ip?: string,
  ): Promise<UserView> {
    const user = this.mustUser(username);
    if (patch.password !== undefined) {
      try {
        checkPasswordPolicy(patch.password, user.username, this.settings.passwordMinLength);
      } catch (err) {
        throw new AuthError('policy', (err as Error).message);
      }
    }
    const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    const before = { displayName: user.displayName, role: user.role, areas: user.areas, disabled: user.disabled };
    this.people.transaction(() => {
      this.people.updateUser(user.id, {
        ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
        ...(patch.role !== undefined ? { role: patch.role } : {}),
        ...(patch.areas !== undefined ? { areas: patch.areas } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
        ...(patch.unlock ? { lockedUntil: null } : {}),
        updatedAt: this.now(),
      });
      const after = this.people.userById(user.id)!;
      // A changed role, scope, password or a disabled account ends the user's sessions.
      if (patch.role !== undefined || patch.areas !== undefined || passwordHash !== undefined || patch.disabled) this.people.deleteSessionsOf(user.id);
      if (patch.unlock) this.people.clearLoginFailures(user.username);
      const action = patch.disabled === true ? 'user.disabled' : patch.disabled === false ? 'user.enabled' : passwordHash !== undefined && Object.keys(patch).length === 1 ? 'auth.password_changed' : 'user.updated';
      this.audit.append({
        actor, action, target: `user:${user.username}`,
        before, after: { displayName: after.displayName, role: after.role, areas: after.areas, disabled: after.disabled },
        ...(passwordHash !== undefined ? { summary: 'password changed' } : patch.unlock ? { summary: 'unlocked' } : {}),
        ...(ip ? { ip } : {}),
      });
    });
    return userView(this.people.userById(user.id)!);
  }

  // ---------------------------------------------------------------------------------------------
  // API keys

  createApiKey(k: { name: string; role: Role; areas: string[]; expiresAt?: number | null }, actor: string, ip?: string): { key: string; apiKey: ApiKeyView } {
    const id = randomBytes(10).toString('hex').slice(0, 16);
    const secret = token();
    const rec: ApiKeyRecord = {
      id, name: k.name, role: k.role, areas: k.areas, secretHash: sha256(secret), createdBy: actor, createdAt: this.now(),
      expiresAt: k.expiresAt ?? null, revokedAt: null, lastUsedAt: null,
    };
    this.people.transaction(() => {
      this.people.addApiKey(rec);
      this.audit.append({ actor, action: 'apikey.created', target: `apikey:${id}`, after: { name: k.name, role: k.role, areas: k.areas, expiresAt: rec.expiresAt }, ...(ip ? { ip } : {}) });
    });
    return { key: `ioc_${id}.${secret}`, apiKey: apiKeyView(rec) };
  }

  apiKeys(): ApiKeyView[] {
    return this.people.apiKeys().map(apiKeyView);
  }

  revokeApiKey(id: string, actor: string, ip?: string): ApiKeyView {
    const k = this.people.apiKey(id);
    if (!k) throw new AuthError('not_found', `no API key "${id}"`);
    if (k.revokedAt !== null) throw new AuthError('conflict', `API key "${id}" is already revoked`);
    this.people.transaction(() => {
      this.people.updateApiKey(id, { revokedAt: this.now() });
      this.audit.append({ actor, action: 'apikey.revoked', target: `apikey:${id}`, summary: k.name, ...(ip ? { ip } : {}) });
    });
    return apiKeyView(this.people.apiKey(id)!);
  }

  /** The principal behind `Authorization: Bearer ioc_…`, or null. */
  apiKeyPrincipal(presented: string): Principal | null {
    const m = API_KEY_RE.exec(presented);
    if (!m) return null;
    const k = this.people.apiKey(m[1]!);
    if (!k || k.revokedAt !== null) return null;
    const now = this.now();
    if (k.expiresAt !== null && k.expiresAt <= now) return null;
    if (!sameText(sha256(m[2]!), k.secretHash)) return null;
    if (k.lastUsedAt === null || now - k.lastUsedAt > 60_000) this.people.updateApiKey(k.id, { lastUsedAt: now });
    return { kind: 'apikey', id: k.id, actor: `apikey:${k.id}`, role: k.role, scope: this.scopeFor(k.role, k.areas) };
  }
}
