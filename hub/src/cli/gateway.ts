/**
 * `ioc-hub gateway token | list | revoke`: gateway identity from the hub's own machine. Opens
 * hub.db directly (like `ioc-hub import`), whether the hub runs or not; a running hub sees a
 * revocation within a second (it watches the database for other processes' commits) and cuts the
 * gateway off. Each change is audited with actor `cli:<os user>`.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatDuration, parseDuration, pkiPaths } from '@ioc/shared';
import { SqliteAuditLog } from '../audit/sqlite.js';
import { loadHubConfig } from '../config/load.js';
import { buildRegistry } from '../config/registry.js';
import type { ResolvedHubConfig } from '../config/schema.js';
import { CLI_BUSY_TIMEOUT_MS } from './state.js';
import { openHubDatabase, type HubDatabase } from '../db/database.js';
import { loadHubCa, type HubCa } from '../enrol/ca.js';
import { EnrolmentService } from '../enrol/service.js';
import { EnrolStore } from '../enrol/store.js';
import { enrolCommand } from '../enrol/tokens.js';
import type { GatewayIdentityView } from '../enrol/views.js';
import { loadKeyring } from '../secrets/keyring.js';

type Fail = (err: unknown) => never;

function cliActor(): string {
  let name = process.env.SUDO_USER || process.env.USER || '';
  try {
    name ||= userInfo().username;
  } catch {
    name ||= 'unknown';
  }
  return `cli:${name}`;
}

/** The hub CA's files as the hub itself would use them (mqtt.tls, or the demo PKI in dataDir/pki). */
export function caFiles(config: ResolvedHubConfig): { cert: string; key: string | undefined } {
  if (config.mqtt.tls) return { cert: config.mqtt.tls.ca, key: config.mqtt.tls.caKey };
  const p = pkiPaths(join(config.hub.dataDir, 'pki'));
  return { cert: p.caCert, key: p.caKey };
}

const NO_CA: HubCa = {
  cert: '',
  fingerprint: '',
  cannotSign: 'no CA loaded',
  sign() {
    throw new Error('no CA loaded');
  },
};

function open(configFile: string, withCa: boolean): { service: EnrolmentService; db: HubDatabase; config: ResolvedHubConfig } {
  const { config } = loadHubConfig(configFile);
  let ca = NO_CA;
  if (withCa) {
    const files = caFiles(config);
    if (!existsSync(files.cert)) throw new Error(`no hub CA at ${files.cert} yet: start the hub once (it makes its PKI in ${join(config.hub.dataDir, 'pki')})`);
    ca = loadHubCa(files.cert, files.key);
  }
  const keyring = loadKeyring({ file: config.hub.secretKeyFile ?? join(config.hub.dataDir, 'secret.key') });
  const db = openHubDatabase(join(config.hub.dataDir, 'hub.db'), { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS });
  const store = new EnrolStore(db);
  const registry = buildRegistry(config.registry);
  const service = new EnrolmentService({
    store,
    audit: new SqliteAuditLog(db, keyring.subkey('audit-chain')),
    ca,
    registry,
    tokenTtlMs: parseDuration(config.enrolment.tokenTtl)!,
    certificateValidityMs: parseDuration(config.enrolment.certificateValidity)!,
  });
  return { service, db, config };
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function table(rows: GatewayIdentityView[], now: number): string {
  const head = ['GATEWAY', 'STATE', 'COMMUNE', 'HUB.YAML', 'CERTIFICATE EXPIRES', 'SERIAL'];
  const body = rows.map((r) => [
    r.gateway,
    r.state === 'revoked' ? `revoked ${iso(r.revokedAt)}` : r.state,
    r.communeCode ?? '-',
    r.inHubYaml ? 'yes' : 'no',
    r.notAfter === null ? '-' : `${iso(r.notAfter)}${r.notAfter <= now ? ' (expired)' : ''}`,
    r.serial ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function registerGatewayCommands(program: Command, fail: Fail): void {
  const gateway = program.command('gateway').description('gateway identity: enrolment tokens, the list of enrolled gateways, revocation');

  gateway
    .command('token')
    .description('make a one-time enrolment token for a gateway, shown with the hub CA fingerprint the gateway pins')
    .argument('<id>', 'gateway id (becomes the CN of its certificate)')
    .requiredOption('--commune <code>', 'commune code (5 digits) the gateway belongs to')
    .option('--ttl <duration>', 'how long the token stays valid: 90s, 15m, 24h, 7d (default: enrolment.tokenTtl, 24h)')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  ioc-hub gateway token gw-hue-02 --commune 19816 --ttl 24h --config /etc/ioc/hub.yaml')
    .action((id: string, opts: { commune: string; ttl?: string; config: string; json?: boolean }) => {
      let ttlMs: number | undefined;
      if (opts.ttl !== undefined) {
        const ms = parseDuration(opts.ttl);
        if (ms === null) fail(new Error(`--ttl: "${opts.ttl}" is not a duration (e.g. 90s, 15m, 24h, 7d)`));
        ttlMs = ms;
      }
      let ctx;
      try {
        ctx = open(opts.config, true);
        const t = ctx.service.createToken({ gateway: id, communeCode: opts.commune, ...(ttlMs !== undefined ? { ttlMs } : {}), actor: cliActor() });
        const host = ctx.config.mqtt.tls ? '<hub address>' : ctx.config.mqtt.serverNames[0];
        const command = enrolCommand(`https://${host}:${ctx.config.http.port || '<http port>'}`, t);
        if (opts.json) console.log(JSON.stringify({ ...t, command }));
        else {
          console.log(`Enrolment token for ${t.gateway} (commune ${t.communeCode}), single use, valid until ${iso(t.expiresAt)} (${formatDuration(ttlMs ?? parseDuration(ctx.config.enrolment.tokenTtl)!)}):\n`);
          console.log(`  ${t.token}\n`);
          console.log(`Hub CA fingerprint (SHA-256): ${t.caFingerprint}\n`);
          console.log(`On the gateway:\n  ${command}`);
          if (ctx.service.cannotSign) console.log(`\nwarning: ${ctx.service.cannotSign}`);
        }
      } catch (err) {
        fail(err);
      } finally {
        ctx?.db.close();
      }
    });

  gateway
    .command('list')
    .description('gateways of hub.yaml and every enrolled one: enrolled / revoked, commune, certificate expiry')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print JSON')
    .action((opts: { config: string; json?: boolean }) => {
      let ctx;
      try {
        ctx = open(opts.config, false);
        const rows = ctx.service.list();
        console.log(opts.json ? JSON.stringify({ gateways: rows }) : table(rows, Date.now()));
      } catch (err) {
        fail(err);
      } finally {
        ctx?.db.close();
      }
    });

  gateway
    .command('revoke')
    .description('revoke a gateway: a running hub cuts its connection within a second, and every certificate it has is refused from now on')
    .argument('<id>', 'gateway id')
    .option('--reason <text>', 'why (kept in the audit log)')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nA revoked gateway can come back only by enrolling again with a new token (its old certificates stay refused).\n\nExample:\n  ioc-hub gateway revoke gw-hue-02 --reason "box stolen" --config /etc/ioc/hub.yaml')
    .action((id: string, opts: { reason?: string; config: string; json?: boolean }) => {
      let ctx;
      try {
        ctx = open(opts.config, false);
        const view = ctx.service.revoke(id, cliActor(), opts.reason);
        if (opts.json) console.log(JSON.stringify({ gateway: view }));
        else console.log(`gateway ${id} revoked at ${iso(view.revokedAt)}: a running hub cuts its connection within a second and refuses it from now on, across restarts`);
      } catch (err) {
        fail(err);
      } finally {
        ctx?.db.close();
      }
    });
}
