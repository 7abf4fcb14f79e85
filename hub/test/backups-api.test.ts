/**
 * Backups made by the running hub from the API (the admin console's "Back up now"): admins only;
 * the copy is a checked hub.db (integrity, schema version), 0600, holding what was stored; it is
 * listed with the check recorded in the audit log (a file copied in by hand is listed as not
 * checked); one backup at a time; the hub's own connection keeps writing meanwhile.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import type { SqliteAuditLog } from '../src/audit/sqlite.js';
import { sha256File } from '../src/backup/backup.js';
import { BackupBusyError, BackupService } from '../src/backup/service.js';
import { checkHubDatabase, checkHubDatabaseFile } from '../src/backup/verify.js';
import { resolveHubConfig } from '../src/config/load.js';
import { SCHEMA_VERSION, type HubDatabase } from '../src/db/database.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { apiParts } from './api-fixture.js';
import { GW, tempDir, testConfig, wl } from './helpers.js';

const T0 = 1_700_000_000_000;
let dir: string;
let db: HubDatabase;
let store: SqliteStore;
let audit: SqliteAuditLog;
let backups: BackupService;
let app: ApiInstance;
let cleanup: () => void;
const keys: Record<string, string> = {};
/** The clock that names backup files: each test's backups get names of their own. */
let clock = Date.UTC(2026, 11, 1, 1, 0, 0);

async function req(method: 'GET' | 'POST', url: string, role: string) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${keys[role]}` } });
  return { status: res.statusCode, body: res.json() as any };
}

before(async () => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  const parts = apiParts(t.dir);
  const { auth } = parts;
  ({ db, store, audit } = parts);
  store.writeBatch(GW, 1, Array.from({ length: 200 }, (_, i) => wl(1 + i / 1000, T0 + i * 1000)));
  backups = new BackupService({ dir: join(t.dir, 'backups'), dbPath: join(t.dir, 'hub.db'), audit, secretKey: join(t.dir, 'secret.key'), now: () => clock });
  app = buildApi({ ...parts.deps, backups });
  await app.ready();
  for (const role of ['admin', 'operator', 'technician'] as const) keys[role] = auth.createApiKey({ name: `k-${role}`, role, areas: ['*'] }, 'cli:test').key;
});

after(async () => {
  await app?.close();
  store?.close();
  db?.close();
  cleanup();
});

test('only admins list or make backups', async () => {
  for (const role of ['operator', 'technician']) {
    assert.equal((await req('GET', '/api/v1/backups', role)).status, 403, role);
    assert.equal((await req('POST', '/api/v1/backups', role)).status, 403, role);
  }
  const r = await req('GET', '/api/v1/backups', 'admin');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { dir: join(dir, 'backups'), secretKey: join(dir, 'secret.key'), running: false, backups: [] });
});

test('POST /backups writes a checked copy holding what was stored, audited, and listed with its check', async () => {
  const r = await req('POST', '/api/v1/backups', 'admin');
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const b = r.body.backup;
  assert.match(b.name, /^hub-\d{8}T\d{6}Z\.db$/);
  assert.equal(b.file, join(dir, 'backups', b.name));
  assert.equal(statSync(b.file).mode & 0o777, 0o600, 'hub.db holds password hashes: the copy is 0600');
  assert.equal(b.check.sha256, await sha256File(b.file));
  assert.equal(b.check.schemaVersion, SCHEMA_VERSION);
  assert.match(b.check.by, /^apikey:/);
  assert.ok(!existsSync(`${b.file}.partial`));

  const copy = new Database(b.file, { readonly: true });
  try {
    assert.equal(checkHubDatabase(copy).ok, true);
    assert.equal(copy.prepare("SELECT journal_mode FROM pragma_journal_mode").pluck().get(), 'delete', 'one self-contained file');
    assert.equal(copy.prepare('SELECT count(*) FROM readings').pluck().get(), 200);
  } finally {
    copy.close();
  }

  const [entry] = audit.list({ action: 'hub.backup', limit: 1 });
  assert.equal(entry!.outcome, 'ok');
  assert.equal(entry!.target, `file:${b.file}`);
  assert.equal(entry!.seq, b.check.auditSeq);

  // The hub's own connection was not left inside the copy's read transaction: it writes and commits.
  store.writeBatch(GW, 201, [wl(2, T0 + 300_000)]);
  const fresh = new Database(join(dir, 'hub.db'), { readonly: true });
  assert.equal(fresh.prepare('SELECT count(*) FROM readings').pluck().get(), 201);
  fresh.close();

  // A file put in the folder by hand: listed, with no check on record.
  copyFileSync(b.file, join(dir, 'backups', 'manual.db'));
  const list = (await req('GET', '/api/v1/backups', 'admin')).body.backups as Array<{ name: string; bytes: number; check: unknown }>;
  assert.deepEqual(list.map((x) => x.name).sort(), [b.name, 'manual.db'].sort());
  assert.deepEqual(list.find((x) => x.name === b.name)!.check, b.check);
  assert.equal(list.find((x) => x.name === 'manual.db')!.check, null);
  assert.equal(list.find((x) => x.name === b.name)!.bytes, b.bytes);
  assert.equal(audit.verify().ok, true);
});

test('one backup at a time: a second one while the first runs is refused', async () => {
  clock += 60_000;
  const first = backups.create('test:first');
  await assert.rejects(backups.create('test:second'), BackupBusyError);
  assert.equal(backups.busy, true);
  const done = await first;
  assert.equal(done.check?.by, 'test:first');
  assert.equal(backups.busy, false);
  clock += 60_000;
  assert.equal((await req('POST', '/api/v1/backups', 'admin')).status, 201, 'free again once the first is done');
});

test('a kept copy checked again: sound; damaged on disk since, found and named; audited and listed', async () => {
  clock += 60_000;
  const made = (await req('POST', '/api/v1/backups', 'admin')).body.backup;
  const verify = (name: string, role = 'admin') => req('POST', `/api/v1/backups/${encodeURIComponent(name)}/verify`, role);
  assert.equal((await verify(made.name, 'operator')).status, 403);

  const sound = await verify(made.name);
  assert.equal(sound.status, 200, JSON.stringify(sound.body));
  assert.deepEqual(
    { ...sound.body.verification, durationMs: 0 },
    { name: made.name, ok: true, sha256: made.check.sha256, matchesRecord: true, schemaVersion: SCHEMA_VERSION, problems: [], durationMs: 0 },
  );

  // A page in the middle of the file overwritten (a failing disk, a hand edit): the file is no
  // longer what was recorded, and SQLite's integrity check or the hash says so.
  const fd = openSync(made.file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(made.bytes / 4096 / 2) * 4096);
  } finally {
    closeSync(fd);
  }
  const damaged = (await verify(made.name)).body.verification;
  assert.equal(damaged.ok, false);
  assert.equal(damaged.matchesRecord, false);
  assert.ok(damaged.problems.some((p: string) => /sha256 is not the one recorded in audit entry #\d+/.test(p)), damaged.problems.join('; '));

  const entries = audit.list({ action: 'hub.backup.verify', limit: 2 });
  assert.deepEqual(entries.map((e) => e.outcome), ['failed', 'ok']);
  assert.equal(entries[0]!.target, `file:${made.file}`);
  const listed = ((await req('GET', '/api/v1/backups', 'admin')).body.backups as Array<{ name: string; lastVerified: { ok: boolean } | null }>).find((b) => b.name === made.name)!;
  assert.equal(listed.lastVerified?.ok, false, 'the list shows the last check');

  // Only the folder's own files, by name.
  assert.equal((await verify('no-such.db')).status, 404);
  assert.equal((await req('POST', '/api/v1/backups/..%2Fhub.db/verify', 'admin')).status, 400);
});

test('the integrity check runs beside the event loop: a file that is not a database is refused with SQLite\'s reason', async () => {
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, Buffer.alloc(8192, 7));
  const check = await checkHubDatabaseFile(junk);
  assert.equal(check.ok, false);
  assert.match(check.problems.join('; '), /not a database|file is not a database|integrity check failed/);
});

test('hub.yaml backup.dir: resolved against the config folder; absent, the hub uses {dataDir}/backups', () => {
  assert.equal(resolveHubConfig({ ...testConfig('./data'), backup: { dir: './backups-elsewhere' } }, '/etc/ioc').backup.dir, '/etc/ioc/backups-elsewhere');
  assert.deepEqual(resolveHubConfig(testConfig('./data'), '/etc/ioc').backup, {});
});
