/**
 * What the CLI's account and audit commands open: hub.db (also while the hub runs: SQLite
 * serialises the writers), the hub's secret key, the audit log and the account service.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditLog } from '../audit/sqlite.js';
import { SqlitePeopleStore } from '../auth/people-store.js';
import { AuthService } from '../auth/service.js';
import { loadHubConfig } from '../config/load.js';
import type { ResolvedHubConfig } from '../config/schema.js';
import { buildRegistry } from '../config/registry.js';
import { openHubDatabase, type HubDatabase } from '../db/database.js';
import { loadKeyring } from '../secrets/keyring.js';

export interface CliState {
  config: ResolvedHubConfig;
  db: HubDatabase;
  audit: SqliteAuditLog;
  auth: AuthService;
  /** How the audit log names whoever runs the command: `cli:<os user>`. */
  actor: string;
  close(): void;
}

/**
 * A command waits longer than the hub does: a running hub's group commits or another command
 * (several run at once when a site is provisioned) hold the write lock in turns.
 */
export const CLI_BUSY_TIMEOUT_MS = 30_000;

export function openCliState(configFile: string): CliState {
  const { config } = loadHubConfig(configFile);
  const keyring = loadKeyring({ file: config.hub.secretKeyFile ?? join(config.hub.dataDir, 'secret.key') });
  const db = openHubDatabase(join(config.hub.dataDir, 'hub.db'), { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS });
  const audit = new SqliteAuditLog(db, keyring.subkey('audit-chain'));
  const auth = new AuthService({ people: new SqlitePeopleStore(db), audit, keyring, registry: buildRegistry(config.registry), settings: config.auth });
  let os = 'unknown';
  try {
    os = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  return { config, db, audit, auth, actor: `cli:${os}`, close: () => db.close() };
}
