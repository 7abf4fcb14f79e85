/**
 * WAL checkpoints in a worker thread (db/checkpointer.ts): the WAL is copied back into hub.db by
 * the worker's own connection while the hub's connection writes, the hub's automatic checkpoint
 * is only a safety net, and a worker that cannot work is reported, not silent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { openHubDatabase } from '../src/db/database.js';
import { DEFAULT_SAFETY_NET_PAGES, startCheckpointer, type CheckpointResult } from '../src/db/checkpointer.js';
import { until } from '../../test/lib/until.js';
import { tempDir } from './helpers.js';

function writeSome(db: ReturnType<typeof openHubDatabase>, n: number, from = 0): void {
  const insert = db.prepare("INSERT INTO readings (gw, seq, dev, metric, ts, value, q) VALUES ('gw-ckpt-01', ?, ?, 'water_level', ?, 1.5, 'good')");
  db.transaction(() => {
    for (let i = from; i < from + n; i++) insert.run(i, `dev-${i % 50}`, i);
  })();
}

test('the worker checkpoints the WAL while the hub writes; the hub connection checkpoints only past the safety net', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = openHubDatabase(join(dir, 'hub.db'));
  const results: CheckpointResult[] = [];
  const errors: Error[] = [];
  const ckpt = startCheckpointer(db, { intervalMs: 10, onCheckpoint: (r) => results.push(r), onError: (e) => errors.push(e) });
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), DEFAULT_SAFETY_NET_PAGES);
  for (let k = 0; k < 5; k++) writeSome(db, 2000, k * 2000);
  await until(() => results.some((r) => r.frames > 0 && r.checkpointed === r.frames), 'a complete checkpoint of a WAL with frames');
  await ckpt.stop();
  assert.deepEqual(errors, []);
  // The hub's connection still works after the worker's is closed, and holds everything written.
  writeSome(db, 10, 10_000);
  assert.equal(db.prepare('SELECT count(*) FROM readings').pluck().get(), 10_010);
  db.close();
});

test('a worker that cannot open the database is reported', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = openHubDatabase(join(dir, 'hub.db'));
  t.after(() => db.close());
  // The worker opens by name and must find the file.
  renameSync(join(dir, 'hub.db'), join(dir, 'moved.db'));
  const errors: Error[] = [];
  const ckpt = startCheckpointer(db, { intervalMs: 10, onError: (e) => errors.push(e) });
  await until(() => errors.length > 0, 'the failure reported');
  assert.match(errors.map((e) => e.message).join('\n'), /stopped|unable to open|does not exist|SQLITE_CANTOPEN/i);
  await ckpt.stop();
});
