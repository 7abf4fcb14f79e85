/** `ioc-hub backup` and `ioc-hub restore` (registered by ./main.ts). */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DataDirLockedError } from '@ioc/shared';
import { SqliteAuditLog } from '../audit/sqlite.js';
import { backupHubDatabase, type BackupProgress } from '../backup/backup.js';
import { restoreHubDatabase, RestoreRefused } from '../backup/restore.js';
import { loadHubConfig } from '../config/load.js';
import { CLI_BUSY_TIMEOUT_MS } from './state.js';
import { openHubDatabase } from '../db/database.js';
import { hubKeyFile, loadHubKeyring, SECRET_KEY_ENV } from '../secrets/keyring.js';

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? '?'}`;
  }
}

/** Progress on stderr: one updating line on a terminal, a line per 10 % otherwise (logs, pipes). */
function progressPrinter(label: string): (p: BackupProgress) => void {
  let lastTenth = -1;
  return ({ totalPages, remainingPages }) => {
    if (totalPages === 0) return;
    const done = totalPages - remainingPages;
    const pct = Math.floor((done / totalPages) * 100);
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label}: ${pct}% (${done}/${totalPages} pages)${remainingPages === 0 ? '\n' : ''}`);
    } else if (Math.floor(pct / 10) > lastTenth) {
      lastTenth = Math.floor(pct / 10);
      process.stderr.write(`${label}: ${pct}% (${done}/${totalPages} pages)\n`);
    }
  };
}

const KEY_NOTE = (keyFile: string) =>
  `The secret key is NOT in the backup (by design: a stolen backup alone opens no sealed secret). ` +
  `Keep a copy of ${process.env[SECRET_KEY_ENV] ? `$${SECRET_KEY_ENV}` : keyFile} somewhere else: a restore needs the key the backup was made under.`;

export function registerBackupCommands(program: Command, fail: (err: unknown) => never): void {
  program
    .command('backup')
    .description('write a consistent copy of hub.db to a file while the hub runs (SQLite online backup), check it, record it in the audit log')
    .argument('<file>', 'the backup file to create (must not exist); written 0600')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The hub may be running: the copy is the database as it was when the backup started, and the hub
keeps storing meanwhile. The file is checked (SQLite integrity check, schema version) before it
gets its name; a failed backup leaves nothing behind. The hub's secret key is not in the file:
back it up separately (see README, "Back up and restore").

Examples:
  ioc-hub backup /var/backups/ioc/hub-$(date +%F).db --config /etc/ioc/hub.yaml
  ioc-hub backup hub-backup.db --config hub.yaml --json`,
    )
    .action(async (file: string, opts: { config: string; json?: boolean }) => {
      const target = resolve(file);
      let db;
      try {
        const { config } = loadHubConfig(opts.config);
        const dbPath = join(config.hub.dataDir, 'hub.db');
        if (!existsSync(dbPath)) throw new Error(`no hub.db in ${config.hub.dataDir} (is hub.dataDir right? has the hub run?)`);
        const keyring = loadHubKeyring(config.hub, { create: false });
        db = openHubDatabase(dbPath, { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS });
        const audit = new SqliteAuditLog(db, keyring.subkey('audit-chain'));
        let result;
        try {
          result = await backupHubDatabase(db, target, progressPrinter('backing up hub.db'));
        } catch (err) {
          audit.append({ actor: actor(), action: 'hub.backup', target: `file:${target}`, outcome: 'failed', summary: (err as Error).message.slice(0, 300) });
          throw err;
        }
        const entry = audit.append({
          actor: actor(),
          action: 'hub.backup',
          target: `file:${target}`,
          summary: `hub.db backed up to ${target} (${result.bytes} bytes)`,
          after: { file: target, bytes: result.bytes, pages: result.pages, sha256: result.sha256, schemaVersion: result.check.schemaVersion, integrity: 'ok', durationMs: result.durationMs },
        });
        db.close();
        if (opts.json) console.log(JSON.stringify({ ...result, auditSeq: entry.seq }));
        else {
          console.log(`backup written: ${target}`);
          console.log(`  ${result.bytes} bytes, ${result.pages} pages, ${(result.durationMs / 1000).toFixed(1)} s, sha256 ${result.sha256}`);
          console.log(`  integrity ok, schema version ${result.check.schemaVersion}; audit entry #${entry.seq}`);
          console.log(KEY_NOTE(hubKeyFile(config.hub)));
        }
      } catch (err) {
        if (db?.open) db.close();
        fail(err);
      }
    });

  program
    .command('restore')
    .description('replace hub.db with a backup (the hub must be stopped); the replaced database is kept beside it')
    .argument('<file>', 'a backup made by `ioc-hub backup`')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--allow-unverified-audit', "restore even if the backup's audit log does not verify with this hub's secret key")
    .addHelpText(
      'after',
      `
Refused while a hub runs on the data directory (stop it first). The backup is checked before
anything is replaced: SQLite integrity check, a schema version not newer than this hub's, and its
audit chain against this hub's secret key (restore the key the backup was made under first). The
current database is kept as hub.db.before-restore-<time>. Readings stored after the backup was
made and already deleted by the gateways are gone; the hub accounts them as lost (reason
hub_rollback) when each gateway reconnects, so the gateways' outboxes do not stall.

Examples:
  systemctl stop ioc-hub
  ioc-hub restore /var/backups/ioc/hub-2025-11-30.db --config /etc/ioc/hub.yaml
  systemctl start ioc-hub`,
    )
    .action(async (file: string, opts: { config: string; allowUnverifiedAudit?: boolean }) => {
      try {
        const { config } = loadHubConfig(opts.config);
        const keyring = loadHubKeyring(config.hub, { create: false });
        const r = await restoreHubDatabase({
          dataDir: config.hub.dataDir,
          file: resolve(file),
          keyring,
          actor: actor(),
          allowUnverifiedAudit: opts.allowUnverifiedAudit === true,
          onStep: (msg) => process.stderr.write(`${msg}\n`),
        });
        console.log(`restored ${resolve(file)} into ${join(config.hub.dataDir, 'hub.db')} (sha256 ${r.sha256})`);
        console.log(`  schema version ${r.schemaVersion}${r.schemaVersion < r.migratedTo ? `, migrated to ${r.migratedTo}` : ''}; ${r.auditEntries} audit entries verified`);
        if (r.previous) console.log(`  the replaced database is kept as ${r.previous}`);
        console.log('Start the hub again. Gateways resend what they still hold; what they deleted after the backup is accounted as lost when they reconnect.');
      } catch (err) {
        if (err instanceof DataDirLockedError) {
          console.error(`ioc-hub: the hub is running on ${err.dir}${err.holder ? ` (pid ${err.holder.pid})` : ''}: stop it first (e.g. systemctl stop ioc-hub), then run the restore again`);
          process.exit(1);
        }
        if (err instanceof RestoreRefused) {
          console.error(`ioc-hub: restore refused: ${err.message}`);
          process.exit(1);
        }
        fail(err);
      }
    });
}
