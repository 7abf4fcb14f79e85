/**
 * `ioc-hub backup` while the hub runs and a gateway-like MQTT client keeps sending: the copy
 * passes SQLite's integrity check, has this hub's schema version, is 0600, and holds a consistent
 * prefix — every seq 1..upTo of the copy stored exactly once, nothing beyond — while the hub went
 * on storing. `ioc-hub restore`: refused while the hub runs, for a backup under another secret
 * key, a newer schema or a file that is no database; then a round trip, the replaced database
 * kept aside, and the gateway's outbox — acknowledged beyond what the backup holds — not stalled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import type { Reading } from '@ioc/shared';
import { sha256File } from '../src/backup/backup.js';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import { SCHEMA_VERSION } from '../src/db/database.js';
import { loadKeyring } from '../src/secrets/keyring.js';
import { startProc, type Proc } from '../../test/lib/procs.js';
import { GW, batch, connectGateway, tempDir, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'hub/bin/ioc-hub.mjs');

function writeConfig(dir: string): string {
  const file = join(dir, 'hub.yaml');
  writeFileSync(file, stringify({ ...testConfig('./hub-data'), log: { level: 'info' } }));
  return file;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same without blocking this process: the MQTT client in it keeps sending meanwhile. */
function cliAsync(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function startHubProc(config: string, t: { after(fn: () => unknown): void }): Promise<{ proc: Proc; mqttPort: number; pkiDir: string; api: string; dataDir: string }> {
  const proc = startProc('hub', BIN, ['start', '--config', config], { nodeArgs: [] });
  t.after(() => proc.stop('SIGKILL'));
  const ready = await proc.waitFor((l) => l.msg === 'hub ready', 60_000);
  return { proc, mqttPort: Number(ready.mqttPort), pkiDir: String(ready.pkiDir), api: String(ready.api), dataDir: String(ready.dataDir) };
}

/** A gateway-like client: sends contiguous batches in seq order and follows the hub's acks. */
async function gatewayClient(port: number, pkiDir: string) {
  const c: MqttClient = await connectGateway({ port, pkiDir, clientId: GW });
  let acked = -1;
  c.on('message', (_t, p) => (acked = Math.max(acked, (JSON.parse(p.toString()) as { upTo: number }).upTo)));
  await c.subscribeAsync(`ioc/v1/${GW}/ack`, { qos: 1 });
  await until(() => acked >= 0, 'the first ack (the high-water mark)');
  const T0 = Date.now() - 86_400_000;
  const readings = (first: number, n: number): Reading[] => Array.from({ length: n }, (_, i) => wl(((first + i) % 300) / 100, T0 + (first + i) * 1000));
  return {
    client: c,
    get acked() {
      return acked;
    },
    /** Sends [first, first+n-1] and waits for its ack. */
    async send(first: number, n: number) {
      await c.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(batch(GW, first, readings(first, n))), { qos: 1 });
      await until(() => acked >= first + n - 1, `ack of ${first}..${first + n - 1}`, 30_000);
    },
    status(ackedUpTo: number, lastSeq: number) {
      return c.publishAsync(`ioc/v1/${GW}/status`, JSON.stringify({
        v: 1, online: true, ts: Date.now(), link: 'online',
        outbox: { depth: lastSeq - ackedUpTo, oldestUnsentAgeS: 0, bytes: 0, dropped: 0, lastSeq, ackedUpTo, lastAckTs: Date.now() },
      }), { qos: 1, retain: true });
    },
  };
}

function readDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

test('backup while a gateway sends: integrity ok, schema version, 0600, a consistent prefix, progress, an audit entry', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const config = writeConfig(dir);
  const hub = await startHubProc(config, t);
  const gw = await gatewayClient(hub.mqttPort, hub.pkiDir);
  t.after(() => gw.client.end(true));
  // Enough data for the copy to take many steps (~25 MB).
  let next = 1;
  for (let i = 0; i < 30; i++, next += 5000) await gw.send(next, 5000);
  const before = next - 1;

  // Keep sending while the backup runs in its own process.
  let sending = true;
  const sender = (async () => {
    while (sending) {
      await gw.send(next, 100);
      next += 100;
    }
  })();
  const file = join(dir, 'hub-backup.db');
  const r = await cliAsync(['backup', file, '--config', config]);
  sending = false;
  await sender;
  assert.equal(r.code, 0, r.err);

  assert.match(r.err, /backing up hub\.db: 0% \(0\/\d+ pages\)/);
  assert.match(r.err, /backing up hub\.db: 100% \((\d+)\/\1 pages\)/);
  assert.ok(r.err.split('\n').filter((l) => l.startsWith('backing up hub.db:')).length >= 3, `progress along the way:\n${r.err}`);
  assert.match(r.out, /backup written: .*hub-backup\.db\n.*sha256 [0-9a-f]{64}\n\s+integrity ok, schema version \d+; audit entry #\d+/);
  assert.match(r.out, /The secret key is NOT in the backup/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), [], 'no partial file left');

  const copy = readDb(file, (db) => ({
    integrity: db.pragma('integrity_check', { simple: true }),
    version: db.pragma('user_version', { simple: true }),
    journal: db.pragma('journal_mode', { simple: true }),
    ranges: db.prepare('SELECT first, last FROM gw_ranges WHERE gw = ? ORDER BY first').raw().all(GW) as Array<[number, number]>,
    readings: db.prepare('SELECT count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi FROM readings WHERE gw = ?').get(GW) as { n: number; d: number; lo: number; hi: number },
  }));
  assert.equal(copy.integrity, 'ok');
  assert.equal(copy.version, SCHEMA_VERSION);
  assert.equal(copy.journal, 'delete', 'one self-contained file');
  // A consistent prefix: one accounted range 1..U, and exactly the readings 1..U.
  assert.equal(copy.ranges.length, 1, JSON.stringify(copy.ranges));
  const [lo, upTo] = copy.ranges[0]!;
  assert.equal(lo, 1);
  assert.deepEqual(copy.readings, { n: upTo, d: upTo, lo: 1, hi: upTo });
  assert.ok(upTo >= before, `the copy has at least what was stored before the backup started (${upTo} >= ${before})`);
  assert.ok(gw.acked > upTo, `the hub kept storing during the backup (acked ${gw.acked} > copy ${upTo})`);

  // The live database has the audit entry, chained by the backup process onto the hub's own.
  const sha = await sha256File(file);
  const audit = readDb(join(hub.dataDir, 'hub.db'), (db) => db.prepare("SELECT actor, target, outcome, after FROM audit_log WHERE action = 'hub.backup'").all() as Array<{ actor: string; target: string; outcome: string; after: string }>);
  assert.equal(audit.length, 1);
  assert.match(audit[0]!.actor, /^cli:/);
  assert.equal(audit[0]!.target, `file:${file}`);
  assert.equal(audit[0]!.outcome, 'ok');
  assert.equal((JSON.parse(audit[0]!.after) as { sha256: string }).sha256, sha);
  const key = loadKeyring({ file: join(hub.dataDir, 'secret.key'), env: {}, create: false }).subkey('audit-chain');
  assert.equal(readDb(join(hub.dataDir, 'hub.db'), (db) => new SqliteAuditLog(db, key).verify().ok), true, 'the audit chain is intact');

  // A backup never overwrites.
  const again = cli(['backup', file, '--config', config]);
  assert.equal(again.code, 2);
  assert.match(again.err, /exists already: choose a new name/);
  assert.equal(await sha256File(file), sha);
  assert.equal((await hub.proc.stop('SIGTERM')).code, 0);
});

test('restore: refused while the hub runs, under another key, for a newer schema or garbage; a round trip that keeps the old database and does not stall the gateway', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const config = writeConfig(dir);
  let hub = await startHubProc(config, t);
  let gw = await gatewayClient(hub.mqttPort, hub.pkiDir);
  for (let first = 1; first <= 100; first += 50) await gw.send(first, 50);
  const file = join(dir, 'at-100.db');
  const b = cli(['backup', file, '--config', config]);
  assert.equal(b.code, 0, b.err);
  for (let first = 101; first <= 200; first += 50) await gw.send(first, 50);
  gw.client.end(true);

  // While the hub runs.
  let r = cli(['restore', file, '--config', config]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`the hub is running on ${hub.dataDir} \\(pid ${hub.proc.child.pid}\\): stop it first`));
  assert.equal((await hub.proc.stop('SIGTERM')).code, 0);

  // Under another secret key: the audit chain does not verify.
  r = cli(['restore', file, '--config', config], { IOC_HUB_SECRET_KEY: randomBytes(32).toString('base64') });
  assert.equal(r.code, 1);
  assert.match(r.err, /restore refused: the backup's audit log does not verify with this hub's secret key .*Restore the secret key the backup was made under first/);
  // Made by a newer hub.
  const newer = join(dir, 'newer.db');
  copyFileSync(file, newer);
  const n = new Database(newer);
  n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  n.close();
  r = cli(['restore', newer, '--config', config]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than this hub's \\(${SCHEMA_VERSION}\\)`));
  // Not a database.
  const garbage = join(dir, 'garbage.db');
  writeFileSync(garbage, randomBytes(8192));
  r = cli(['restore', garbage, '--config', config]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /not a database|cannot be restored|restore refused/);
  const dataDir = hub.dataDir;
  assert.deepEqual(readdirSync(dataDir).filter((f) => f.startsWith('hub.db.')), [], 'refused restores changed nothing');
  assert.equal(readDb(join(dataDir, 'hub.db'), (db) => db.prepare('SELECT count(*) FROM readings').pluck().get()), 200);

  r = cli(['restore', file, '--config', config]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /the replaced database is kept as .*hub\.db\.before-restore-\d{8}T\d{6}Z/);
  const aside = readdirSync(dataDir).filter((f) => /^hub\.db\.before-restore-\d{8}T\d{6}Z$/.test(f));
  assert.equal(aside.length, 1);
  assert.equal(readDb(join(dataDir, aside[0]!), (db) => db.prepare('SELECT count(*) FROM readings').pluck().get()), 200, 'the replaced database, readable with its last commits');
  assert.equal(statSync(join(dataDir, 'hub.db')).mode & 0o777, 0o600);

  // The hub on the restored database: 1..100. The gateway had been acknowledged up to 200 and
  // deleted those rows: the hub accounts 101..200 as lost and the outbox goes on.
  hub = await startHubProc(config, t);
  gw = await gatewayClient(hub.mqttPort, hub.pkiDir);
  t.after(() => gw.client.end(true));
  assert.equal(gw.acked, 100);
  await gw.status(200, 200);
  await until(() => gw.acked === 200, 'the ack past the rolled-back seqs');
  await gw.send(201, 10);
  const view = ((await (await fetch(`${hub.api}/gateways/${GW}`)).json()) as { gateway: { upTo: number; stored: number; dropped: number } }).gateway;
  assert.deepEqual([view.upTo, view.stored, view.dropped], [210, 110, 100]);
  assert.ok(hub.proc.logs.some((l) => l.level === 50 && /hub_rollback/.test(String(l.msg)) && l.lost === 100));
  assert.equal((await hub.proc.stop('SIGTERM')).code, 0);

  const audit = readDb(join(dataDir, 'hub.db'), (db) => db.prepare('SELECT action, target, after FROM audit_log ORDER BY seq').all() as Array<{ action: string; target: string; after: string }>);
  const restored = audit.filter((a) => a.action === 'hub.restored');
  assert.equal(restored.length, 1);
  assert.equal(restored[0]!.target, `file:${file}`);
  assert.equal((JSON.parse(restored[0]!.after) as { previous: string }).previous, join(dataDir, aside[0]!));
  assert.equal(audit.filter((a) => a.action === 'hub.backup').length, 0, "the backup's own entry was written after its snapshot");
});
