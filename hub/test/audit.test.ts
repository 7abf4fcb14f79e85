/**
 * The audit log is append-only and tamper-evident: SQL edits are stopped by triggers, and an
 * entry altered or removed behind them (triggers dropped, by hand) is named by verify — through
 * the API's store and through `ioc-hub audit verify` as a process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import { openHubDatabase } from '../src/db/database.js';
import { tempDir, testConfig } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEY = Buffer.alloc(32, 9);

function seeded(n: number) {
  const t = tempDir();
  const db = openHubDatabase(join(t.dir, 'hub.db'));
  const log = new SqliteAuditLog(db, KEY);
  for (let i = 1; i <= n; i++) log.append({ actor: `user:u${i}`, action: 'alert.acknowledged', target: `alert:${i}`, summary: `note ${i}`, after: { i } });
  return { t, db, log };
}

test('a clean chain verifies; SQL UPDATE and DELETE are refused by the triggers', () => {
  const { t, db, log } = seeded(5);
  assert.deepEqual(log.verify(), { ok: true, entries: 5, head: log.list({ limit: 1 })[0]!.hash });
  assert.throws(() => db.prepare("UPDATE audit_log SET summary = 'x' WHERE seq = 2").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 5').run(), /append-only/);
  assert.equal(log.list({ action: 'alert', limit: 10 }).length, 5, 'an area name matches its actions');
  db.close();
  t.cleanup();
});

test('verify names the first altered entry, and the first removed one', () => {
  const { t, db, log } = seeded(6);
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  db.prepare("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 4").run();
  let r = log.verify();
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.firstBad, { seq: 4, problem: 'altered' });
  // Recomputing a plain SHA-256 would not help the forger: the chain is an HMAC under the hub's key.
  db.prepare("UPDATE audit_log SET summary = 'note 4' WHERE seq = 4").run();
  assert.equal(log.verify().ok, true, 'put back as it was, it verifies again');
  db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
  r = log.verify();
  assert.deepEqual(!r.ok && r.firstBad, { seq: 3, problem: 'missing' });
  // Renumbering the rest to hide the gap breaks the links instead.
  db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 3').run();
  r = log.verify();
  assert.deepEqual(!r.ok && r.firstBad, { seq: 3, problem: 'missing' });
  db.close();
  t.cleanup();
});

test('ioc-hub user add and audit verify as processes: the first admin, then a hand edit is found', () => {
  const t = tempDir();
  const cfgFile = join(t.dir, 'hub.yaml');
  const cfg = testConfig(join(t.dir, 'data'));
  delete (cfg as { auth?: unknown }).auth;
  writeFileSync(cfgFile, stringify(cfg));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--conditions=ioc-source', '--import', 'tsx', MAIN, ...args, '--config', cfgFile], { cwd: ROOT, encoding: 'utf8' });

  let r = cli('user', 'add', 'lan.admin', '--role', 'admin', '--name', 'Lê Thị Lan');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /password \(shown once/);
  assert.match(r.stdout, /second factor \(TOTP\) must be enrolled/);
  r = cli('user', 'add', 'hoa', '--role', 'commune', '--areas', '1981');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--areas: "1981" is not an area/);
  r = cli('user', 'add', 'lan.admin', '--role', 'viewer', '--areas', '46');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already exists/);
  r = cli('user', 'list');
  assert.match(r.stdout, /lan\.admin\s+admin\s+\*\s+mfa NOT ENROLLED/);
  r = cli('user', 'disable', 'lan.admin');
  assert.equal(r.status, 0, r.stderr);
  r = cli('audit', 'verify');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /audit log OK: 2 entries/);

  const db = new Database(join(t.dir, 'data', 'hub.db'));
  db.exec('DROP TRIGGER audit_log_no_update');
  db.prepare("UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 1").run();
  db.close();
  r = cli('audit', 'verify');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /AUDIT LOG BROKEN at entry 1 \(altered\)/);
  t.cleanup();
});

test('every hub start is audited; a changed configuration is named and kept', async () => {
  const { startHub } = await import('../src/hub.js');
  const { silentLogger } = await import('./helpers.js');
  const t = tempDir();
  const cfg = testConfig(t.dir);
  let hub = await startHub(cfg, { logger: silentLogger() });
  await hub.close();
  hub = await startHub(cfg, { logger: silentLogger() });
  await hub.close();
  hub = await startHub({ ...cfg, alerts: { flapWindowMinutes: 10 } }, { logger: silentLogger() });
  const starts = hub.audit.list({ action: 'hub.started', limit: 10 });
  assert.equal(starts.length, 3);
  assert.match(starts[0]!.summary!, /configuration changed since the last start/);
  assert.equal((starts[0]!.after as any).config.alerts.flapWindowMinutes, 10);
  assert.doesNotMatch(starts[1]!.summary!, /changed/);
  assert.equal((starts[1]!.after as any).config, undefined, 'an unchanged configuration is named by its digest only');
  assert.equal(hub.audit.verify().ok, true);
  await hub.close();
  t.cleanup();
});
