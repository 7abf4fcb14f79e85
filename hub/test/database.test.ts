/**
 * hub.db holds password hashes, sealed secrets and personal data: the file, its WAL and its
 * shared-memory file are 0600 and a new data folder 0700, whatever the umask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openHubDatabase, SCHEMA_VERSION } from '../src/db/database.js';
import { tempDir } from './helpers.js';

const mode = (p: string) => statSync(p).mode & 0o777;

test('hub.db, hub.db-wal and hub.db-shm are created 0600 and the data folder 0700, with a permissive umask', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const dataDir = join(dir, 'var', 'lib', 'ioc-hub');
  const path = join(dataDir, 'hub.db');
  const old = process.umask(0o000);
  try {
    const db = openHubDatabase(path);
    // A write, so the WAL and the shared-memory index certainly exist.
    db.prepare("INSERT INTO gateways (gw, online, last_seen) VALUES ('gw-perm-01', 0, 1)").run();
    assert.ok(existsSync(`${path}-wal`) && existsSync(`${path}-shm`));
    assert.equal(mode(dataDir), 0o700, 'data folder');
    assert.equal(mode(path), 0o600, 'hub.db');
    assert.equal(mode(`${path}-wal`), 0o600, 'hub.db-wal');
    assert.equal(mode(`${path}-shm`), 0o600, 'hub.db-shm');
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
  } finally {
    process.umask(old);
  }
});

test('files an older hub left world-readable are narrowed to 0600 when opened', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  const db = openHubDatabase(path);
  db.prepare("INSERT INTO gateways (gw, online, last_seen) VALUES ('gw-perm-01', 0, 1)").run();
  // Keep it open: the WAL and -shm stay while a connection holds the file.
  for (const f of [path, `${path}-wal`, `${path}-shm`]) chmodSync(f, 0o644);
  const again = openHubDatabase(path);
  for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(f), 0o600, f);
  again.close();
  db.close();
});

test('a database newer than this hub is refused, naming both versions', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'hub.db');
  const db = openHubDatabase(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openHubDatabase(path), new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than this hub \\(${SCHEMA_VERSION}\\)`));
});
