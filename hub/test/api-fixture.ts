/**
 * The HTTP API's parts as hub.ts wires them, for tests that drive the API with `app.inject`:
 * hub.db, the store with the registry's admission, the audit log, logins, the alert stack, and the
 * dependencies every `buildApi` call takes. A test adds what its routes need (handovers, backups,
 * CAP settings…) by spreading `deps`.
 */
import { join } from 'node:path';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import { SqlitePeopleStore } from '../src/auth/people-store.js';
import { AuthService, type AuthSettings } from '../src/auth/service.js';
import type { ApiDeps, ApiInstance } from '../src/api/types.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import type { HubConfig } from '../src/config/schema.js';
import { openHubDatabase } from '../src/db/database.js';
import { createAdmission } from '../src/ingest/admission.js';
import { createHubMetrics } from '../src/metrics.js';
import { keyringFromKey } from '../src/secrets/keyring.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { alertStack, ruleSetOf, silentLogger, testConfig } from './helpers.js';

export interface ApiPartsOptions {
  /** hub.yaml as the test writes it (default: testConfig(dir)). */
  config?: HubConfig;
  /** The clock of audit entries, sessions and alerts (default: the real one). */
  now?: () => number;
  auth?: Partial<AuthSettings>;
  /** Options of the alert stack (rules, flap window…), see alertStack. */
  alerts?: Parameters<typeof alertStack>[2];
}

export function apiParts(dir: string, o: ApiPartsOptions = {}) {
  const cfg = resolveHubConfig(o.config ?? testConfig(dir), dir);
  const registry = buildRegistry(cfg.registry);
  const db = openHubDatabase(join(dir, 'hub.db'));
  const store = openSqliteStore({ db, admit: createAdmission(registry) });
  const keyring = keyringFromKey(Buffer.alloc(32, 1));
  const audit = new SqliteAuditLog(db, keyring.subkey('audit-chain'), o.now);
  const auth = new AuthService({ people: new SqlitePeopleStore(db), audit, keyring, registry, ...(o.now ? { now: o.now } : {}), ...(o.auth ? { settings: o.auth } : {}) });
  const stack = alertStack(store, registry, { ...(o.now ? { now: o.now } : {}), ...o.alerts });
  const deps = {
    store, registry, alerts: stack.views, alertActions: stack.actions, rules: ruleSetOf(store, registry, audit), metrics: createHubMetrics(), logger: silentLogger(),
    version: 't', startedAt: o.now?.() ?? Date.now(), brokerClients: () => 0, audit, auth, loginRatePerMinute: 1000, ...(o.now ? { now: o.now } : {}),
  } satisfies ApiDeps;
  return { cfg, registry, db, store, keyring, audit, auth, stack, deps };
}

/** A browser's session: the cookies a login set, and the CSRF token to send with writes. */
export interface Session {
  cookie: string;
  csrf: string;
}

/** Logs in through the API; `status` and `body` tell a refusal. */
export async function login(app: ApiInstance, username: string, password: string, otp?: string): Promise<Session & { status: number; body: any }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password, ...(otp ? { otp } : {}) } });
  let body: any = null;
  try { body = res.json(); } catch { body = res.body; }
  const set = ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []);
  return { cookie: set.map((c) => c.split(';')[0]!).join('; '), csrf: body?.csrfToken, status: res.statusCode, body };
}
