/**
 * People at the API: logins, lockout, sessions with CSRF, TOTP for admins, API keys, roles, and
 * area scope (404 outside it) — on a real hub.db, AuthService and audit log, through fastify inject.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import type { SqliteAuditLog } from '../src/audit/sqlite.js';
import type { AuthService } from '../src/auth/service.js';
import { totpAt } from '../src/auth/totp.js';
import type { HubDatabase } from '../src/db/database.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { apiParts, login as apiLogin, type Session } from './api-fixture.js';
import { DETECTOR, GW, GW2, KIM_LONG, tempDir, wl } from './helpers.js';

const T0 = 1_700_000_000_000;
let clock = T0;
let db: HubDatabase;
let store: SqliteStore;
let audit: SqliteAuditLog;
let auth: AuthService;
let app: ApiInstance;
let cleanup: () => void;
let alertId: number;
let deps: ReturnType<typeof apiParts>['deps'];
const PW = 'correct horse battery';

async function req(method: string, url: string, opts: { session?: Session; csrf?: string | null; bearer?: string; body?: unknown; host?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.session) headers.cookie = opts.session.cookie;
  const csrf = opts.csrf === undefined ? opts.session?.csrf : opts.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.host) headers.host = opts.host;
  const res = await app.inject({ method: method as 'GET', url, headers, ...(opts.body !== undefined ? { payload: opts.body as object } : {}) });
  let body: any = null;
  try { body = res.json(); } catch { body = res.body; }
  return { status: res.statusCode, body, headers: res.headers };
}

const login = (username: string, password = PW, otp?: string) => apiLogin(app, username, password, otp);

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const parts = apiParts(t.dir, { now: () => clock, auth: { lockoutAttempts: 3 } });
  ({ db, store, audit, auth, deps } = parts);
  const { engine, views } = parts.stack;
  // Kim Long (commune 19816) floods; the detector and wl-other are in commune 19801.
  const res = store.writeBatch(GW, 1, [wl(2.5, T0), { dev: DETECTOR, metric: 'temperature', value: 31, unit: '°C', ts: T0, q: 'good' }]);
  engine.evaluate(res.fresh);
  store.writeBatch(GW2, 1, [wl(0.4, T0, 'good', 'wl-other')]);
  alertId = views.list({ scope: { all: true } })[0]!.id;
  app = buildApi(deps);
  await app.ready();
  for (const [username, role, areas] of [['op', 'operator', ['*']], ['xa', 'commune', ['19816']], ['kt', 'technician', ['19801']], ['xem', 'viewer', ['46']], ['quantri', 'admin', []]] as const) {
    await auth.addUser({ username, role, areas: [...areas], password: PW }, 'cli:test');
  }
});

after(async () => {
  await app?.close();
  store?.close();
  db?.close();
  cleanup();
});

test('no credentials: 401 everywhere but health and login; a forged cookie or key is nobody', async () => {
  assert.equal((await req('GET', '/api/v1/health')).status, 200);
  for (const url of ['/api/v1/devices', '/api/v1/alerts', '/api/v1/gateways', `/api/v1/readings?dev=${KIM_LONG}&metric=water_level`, '/api/v1/audit', '/metrics']) {
    const r = await req('GET', url);
    assert.equal(r.status, 401, url);
    assert.equal(r.body.error, 'unauthenticated');
  }
  assert.equal((await req('GET', '/api/v1/devices', { session: { cookie: 'ioc_session=forged', csrf: 'x' } })).status, 401);
  assert.equal((await req('GET', '/api/v1/devices', { bearer: 'ioc_0123456789abcdef.' + 'A'.repeat(43) })).status, 401);
});

test('a wrong password is refused and audited; repeated failures lock the account, and an admin unlocks it', async () => {
  await auth.addUser({ username: 'lock.me', role: 'viewer', areas: ['46'], password: PW }, 'cli:test');
  for (let i = 0; i < 3; i++) assert.equal((await login('lock.me', 'wrong password!')).status, 401);
  const locked = await login('lock.me');
  assert.equal(locked.status, 423, 'the right password no longer opens a locked account');
  assert.equal(locked.body.error, 'locked');
  const failed = audit.list({ action: 'auth.login_failed', target: 'user:lock.me', limit: 10 });
  assert.ok(failed.length >= 4);
  assert.ok(audit.list({ action: 'auth.locked', limit: 5 }).some((e) => e.target === 'user:lock.me'));
  assert.equal((await login('nobody.here')).status, 401, 'an unknown user reads like a wrong password');
  await auth.updateUser('lock.me', { unlock: true }, 'cli:test');
  assert.equal((await login('lock.me')).status, 200);
});

test('session cookie is HttpOnly and SameSite=Strict; unsafe requests need the CSRF token; the note lands in the audit log', async () => {
  const r = await req('POST', '/api/v1/auth/login', { body: { username: 'op', password: PW } });
  assert.equal(r.status, 200);
  const cookie = String(r.headers['set-cookie']);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.equal(r.body.user.role, 'operator');
  assert.equal(r.body.user.passwordHash, undefined, 'no hash ever leaves');
  const s = await login('op');
  assert.equal((await req('GET', '/api/v1/auth/me', { session: s })).body.id, 'op');
  const noCsrf = await req('POST', `/api/v1/alerts/${alertId}/ack`, { session: s, csrf: null, body: { note: 'x' } });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.error, 'csrf');
  assert.equal((await req('POST', `/api/v1/alerts/${alertId}/ack`, { session: s, csrf: 'wrong', body: { note: 'x' } })).status, 403);
  const ok = await req('POST', `/api/v1/alerts/${alertId}/ack`, { session: s, body: { note: 'đã gọi trạm Kim Long' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.alert.acknowledgedBy, 'op');
  const [entry] = audit.list({ action: 'alert.acknowledged', limit: 1 });
  assert.deepEqual([entry!.actor, entry!.target, entry!.summary], ['user:op', `alert:${alertId}`, 'đã gọi trạm Kim Long']);
  // Logout ends the session server-side: the old cookie is worthless.
  assert.equal((await req('POST', '/api/v1/auth/logout', { session: s })).status, 200);
  assert.equal((await req('GET', '/api/v1/devices', { session: s })).status, 401);
});

test('a commune user sees only their commune: other devices, readings and alerts are 404, not 403', async () => {
  const s = await login('xa');
  const devices = (await req('GET', '/api/v1/devices', { session: s })).body.devices.map((d: any) => d.id);
  assert.deepEqual(devices, [KIM_LONG]);
  for (const url of [`/api/v1/devices/${DETECTOR}`, '/api/v1/devices/wl-other', '/api/v1/readings?dev=wl-other&metric=water_level', `/api/v1/gateways/${GW2}`]) {
    const r = await req('GET', url, { session: s });
    assert.equal(r.status, 404, url);
    assert.equal(r.body.error, 'not_found');
  }
  assert.equal((await req('GET', `/api/v1/readings?dev=${KIM_LONG}&metric=water_level`, { session: s })).body.readings.length, 1);
  assert.deepEqual((await req('GET', '/api/v1/gateways', { session: s })).body.gateways.map((g: any) => g.id), [GW]);
  assert.equal((await req('GET', '/api/v1/alerts', { session: s })).body.alerts.length, 1);
  // The technician of commune 19801 does not see Kim Long's flood, even by its id.
  const kt = await login('kt');
  assert.equal((await req('GET', '/api/v1/alerts', { session: kt })).body.alerts.length, 0);
  assert.equal((await req('GET', `/api/v1/alerts/${alertId}`, { session: kt })).status, 404);
  assert.deepEqual((await req('GET', '/api/v1/devices', { session: kt })).body.devices.map((d: any) => d.id).sort(), [DETECTOR, 'wl-other']);
  // A province-level area (46) covers every commune of the province.
  const xem = await login('xem');
  assert.equal((await req('GET', '/api/v1/devices', { session: xem })).body.devices.length, 3);
});

test('roles: a viewer or commune user cannot acknowledge; only admins read the audit log', async () => {
  const xem = await login('xem');
  const r = await req('POST', `/api/v1/alerts/${alertId}/close`, { session: xem, body: { note: 'x' } });
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'forbidden');
  const op = await login('op');
  assert.equal((await req('GET', '/api/v1/audit', { session: op })).status, 403);
  assert.equal((await req('GET', '/api/v1/users', { session: op })).status, 403);
});

test('an admin must enrol TOTP before anything else, then needs a code to log in; codes are not replayable; recovery codes work once', async () => {
  clock = T0 + 3_600_000;
  const first = await login('quantri');
  assert.equal(first.status, 200);
  assert.equal(first.body.mfaEnrolmentRequired, true);
  const blocked = await req('GET', '/api/v1/users', { session: first });
  assert.deepEqual([blocked.status, blocked.body.error], [403, 'mfa_enrolment_required']);
  const begin = await req('POST', '/api/v1/auth/mfa/begin', { session: first });
  assert.equal(begin.status, 200);
  assert.match(begin.body.uri, /^otpauth:\/\/totp\//);
  const secret: string = begin.body.secret;
  assert.equal((await req('POST', '/api/v1/auth/mfa/confirm', { session: first, body: { code: '000000' } })).status, 401);
  const confirm = await req('POST', '/api/v1/auth/mfa/confirm', { session: first, body: { code: await totpAt(secret, clock) } });
  assert.equal(confirm.status, 200);
  const recovery: string[] = confirm.body.recoveryCodes;
  assert.equal(recovery.length, 10);
  assert.equal((await req('GET', '/api/v1/users', { session: first })).status, 200, 'enrolled: the session is whole');
  assert.ok(audit.list({ action: 'auth.mfa_enrolled', limit: 1 }).length);

  clock += 60_000;
  const noCode = await login('quantri');
  assert.deepEqual([noCode.status, noCode.body.error], [401, 'mfa_required']);
  assert.equal((await login('quantri', PW, '123456')).status, 401);
  const code = await totpAt(secret, clock);
  const ok = await login('quantri', PW, code);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.mfaEnrolmentRequired, false);
  assert.equal((await login('quantri', PW, code)).status, 401, 'the same code twice is refused');
  const rec = await login('quantri', PW, recovery[0]);
  assert.equal(rec.status, 200);
  assert.equal(rec.body.user.recoveryCodesLeft, 9);
  assert.equal((await login('quantri', PW, recovery[0])).status, 401, 'a recovery code works once');
  const users = (await req('GET', '/api/v1/users', { session: ok })).body.users;
  assert.equal(users.find((u: any) => u.username === 'quantri').mfaEnabled, true);
  assert.equal(JSON.stringify(users).includes('$argon2id$'), false);
});

test('API keys: made by an admin, shown once, scoped by role and area, revocable', async () => {
  const secret = await newAdminSecret();
  const admin = await login(adminName, PW, await totpAt(secret, clock));
  assert.equal(admin.status, 200);
  const made = await req('POST', '/api/v1/api-keys', { session: admin, body: { name: 'kho dữ liệu', role: 'viewer', areas: ['19801'] } });
  assert.equal(made.status, 201);
  const key: string = made.body.key;
  assert.match(key, /^ioc_[a-z0-9]{16}\./);
  const list = await req('GET', '/api/v1/api-keys', { session: admin });
  assert.equal(JSON.stringify(list.body).includes(key.split('.')[1]!), false, 'the secret is never shown again');
  assert.deepEqual((await req('GET', '/api/v1/devices', { bearer: key })).body.devices.map((d: any) => d.id).sort(), [DETECTOR, 'wl-other']);
  assert.equal((await req('GET', `/api/v1/devices/${KIM_LONG}`, { bearer: key })).status, 404);
  assert.equal((await req('POST', `/api/v1/alerts/${alertId}/ack`, { bearer: key, body: { note: 'x' } })).status, 403, 'a viewer key acts on nothing');
  assert.equal((await req('POST', `/api/v1/api-keys/${made.body.apiKey.id}/revoke`, { session: admin })).status, 200);
  assert.equal((await req('GET', '/api/v1/devices', { bearer: key })).status, 401);
  assert.deepEqual(audit.list({ action: 'apikey', limit: 5 }).map((e) => e.action).sort(), ['apikey.created', 'apikey.revoked']);
});

/** A fresh admin with TOTP enrolled through the service (the previous test's secret stays its own). */
async function newAdminSecret(): Promise<string> {
  const name = `admin${Math.floor(Math.random() * 1e6)}`;
  await auth.addUser({ username: name, role: 'admin', areas: [], password: PW }, 'cli:test');
  const { secret } = auth.mfaBegin(name);
  await auth.mfaConfirm(name, await totpAt(secret, clock));
  clock += 60_000;
  adminName = name;
  return secret;
}
let adminName = '';

test('hostile requests: foreign Host header, oversized body, security headers, no stack traces', async () => {
  const evil = await req('GET', '/api/v1/health', { host: 'attacker.example' });
  assert.equal(evil.status, 421);
  const h = await req('GET', '/api/v1/health');
  assert.equal(h.headers['x-content-type-options'], 'nosniff');
  assert.equal(h.headers['x-frame-options'], 'SAMEORIGIN');
  assert.ok(h.headers['content-security-policy']);
  const big = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'y'.repeat(200_000) }) });
  assert.equal(big.statusCode, 413);
  const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"username":' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.body.includes('at '), false, 'no stack trace');
  const proto = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1},"username":"a","password":"b"}' });
  assert.equal(proto.statusCode, 400);
});

test('logins are rate-limited per client address (on top of the per-account lockout)', async () => {
  const limited = buildApi({ ...deps, loginRatePerMinute: 3 });
  await limited.ready();
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await limited.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'op', password: 'wrong password!' } });
    codes.push(r.statusCode);
  }
  assert.deepEqual(codes, [401, 401, 401, 429, 429]);
  await limited.close();
});
