import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Reading } from '@ioc/shared';
import { Outbox, OutboxGroupWriter } from '../src/outbox/index.js';

function setup(t: { after(fn: () => void): void }, opts: { maxRows?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-gw-writer-'));
  const path = join(dir, 'outbox.db');
  const outbox = Outbox.open({ path, ...opts });
  t.after(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Count transactions: every append is one.
  let appends = 0;
  const append = outbox.append.bind(outbox);
  outbox.append = (...a: Parameters<Outbox['append']>) => {
    appends++;
    return append(...a);
  };
  const commits: Array<{ first: number; last: number; polls: number }> = [];
  const writer = new OutboxGroupWriter(outbox, { onCommit: (r, polls) => commits.push({ ...r, polls }) });
  return { path, outbox, writer, commits, appends: () => appends };
}

const poll = (dev: string, n: number, metric = 'rainfall'): Reading[] =>
  Array.from({ length: n }, (_, i) => ({ dev, metric, value: i, unit: 'mm', ts: 1_700_000_000_000 + i, q: 'good' }));

test('polls handed over in the same turn share one transaction, in order, each with its own seq range', async (t) => {
  const { outbox, writer, commits, appends } = setup(t);
  const ranges = await Promise.all([writer.write(poll('a', 3)), writer.write(poll('b', 2)), writer.write(poll('c', 4))]);
  assert.deepEqual(ranges, [{ first: 1, last: 3 }, { first: 4, last: 5 }, { first: 6, last: 9 }]);
  assert.equal(appends(), 1, 'one transaction for three polls');
  assert.deepEqual(commits, [{ first: 1, last: 9, polls: 3 }]);
  const run = outbox.readRun(0, 100)!;
  assert.deepEqual(run.bodies.map((b) => (JSON.parse(b) as Reading).dev), ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'c', 'c']);
  assert.deepEqual(writer.counters(), { groups: 1, polls: 3 });
});

test('a write resolves only after its rows are committed; later turns make later groups', async (t) => {
  const { path, writer, appends } = setup(t);
  const reader = new Database(path, { readonly: true });
  t.after(() => reader.close());
  const count = reader.prepare('SELECT count(*) FROM outbox').pluck();
  const p = writer.write(poll('a', 5));
  assert.equal(count.get(), 0, 'nothing is written before the turn ends');
  await p;
  assert.equal(count.get(), 5, 'committed when the promise resolves');
  await writer.write(poll('b', 1));
  assert.equal(appends(), 2);
  assert.equal(await writer.write([]), null);
  assert.equal(appends(), 2, 'an empty poll writes nothing');
});

test('alerting flags follow their readings through a group: a cap drop keeps them', async (t) => {
  const { outbox, writer } = setup(t, { maxRows: 10 });
  await Promise.all([
    writer.write(poll('routine', 6)),
    writer.write(poll('alarm', 6, 'water_level'), new Array<boolean>(6).fill(true)),
  ]);
  // 12 rows over a cap of 10 (down to 9): the 3 oldest routine rows go, every alerting one stays.
  assert.deepEqual(outbox.pendingDrops()[0]?.ranges, [[1, 3]]);
  const kept = outbox.readRun(3, 100)!;
  assert.deepEqual(kept.bodies.map((b) => (JSON.parse(b) as Reading).dev), [...new Array(3).fill('routine'), ...new Array(6).fill('alarm')]);
});

test('a failed group rejects every write in it and the next group is written normally', async (t) => {
  const { path, outbox, writer } = setup(t);
  const other = new Database(path);
  t.after(() => other.close());
  other.exec("CREATE TRIGGER no_rows BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  const results = await Promise.allSettled([writer.write(poll('a', 2)), writer.write(poll('b', 2))]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.match(String((results[0] as PromiseRejectedResult).reason), /disk full/);
  assert.equal(outbox.lastSeq, 0);
  other.exec('DROP TRIGGER no_rows');
  assert.deepEqual(await writer.write(poll('c', 2)), { first: 1, last: 2 }, 'no seq was used up by the failed group');
});

test('a group past maxGroupReadings is written at once, and flush() writes what is pending', async (t) => {
  const { outbox } = setup(t);
  const writer = new OutboxGroupWriter(outbox, { maxGroupReadings: 5 });
  const a = writer.write(poll('a', 3));
  assert.equal(outbox.lastSeq, 0);
  const b = writer.write(poll('b', 3));
  assert.equal(outbox.lastSeq, 6, 'written synchronously once the group reached its bound');
  const c = writer.write(poll('c', 1));
  writer.flush();
  assert.equal(outbox.lastSeq, 7, 'flush writes the pending poll (as the gateway does at stop)');
  assert.deepEqual(await Promise.all([a, b, c]), [{ first: 1, last: 3 }, { first: 4, last: 6 }, { first: 7, last: 7 }]);
});
