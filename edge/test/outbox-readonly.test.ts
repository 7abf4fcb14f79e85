/**
 * `ioc-edge status` and `ioc-edge outbox [--export]` only ever read the outbox: not one row
 * dropped and not one byte of outbox.db (or of a crashed gateway's WAL) changed — even for an
 * outbox above the default caps (a gateway configured with higher ones), where opening it as an
 * Outbox, which applies caps at open, deleted rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Outbox } from '../src/outbox/index.js';
import { OUTBOX_DDL } from '../src/outbox/schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'edge/bin/ioc-edge.mjs');
/** Outbox.open's default row cap: what `status` and `outbox` used to open the file with. */
const DEFAULT_MAX_ROWS = 10_000_000;

function edge(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function site(t: { after(fn: () => void): void }, outbox = '') {
  const dir = mkdtempSync(join(tmpdir(), 'edge-ro-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, `gateway: { id: gw-ro-01, dataDir: ./data }
uplink: { url: "mqtts://localhost:8883", ca: ca.crt, cert: gw.crt, key: gw.key }
profilesDir: ${join(ROOT, 'firmware-configs/profiles')}
${outbox}devices: []
`);
  mkdirSync(join(dir, 'data'));
  return { dir, file, db: join(dir, 'data', 'outbox.db') };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const fingerprint = (p: string) => ({ sha: sha(p), size: statSync(p).size, mtimeMs: statSync(p).mtimeMs });
const rowCount = (p: string) => {
  const db = new Database(p, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM outbox').pluck().get() as number;
  } finally {
    db.close();
  }
};

test('an outbox above the default caps: status and outbox drop nothing and leave the file as it was', { timeout: 240_000 }, (t) => {
  const rows = DEFAULT_MAX_ROWS + 100;
  // The gateway that wrote it runs with a higher cap.
  const { file, db } = site(t, 'outbox: { maxRows: 20000000 }\n');
  // Built with one SQL statement (an Outbox would take minutes for ten million appends): routine
  // rows with short bodies, meta as an Outbox keeps it, then the journal switched to WAL as a gateway leaves it.
  const w = new Database(db);
  w.pragma('journal_mode = OFF');
  w.pragma('synchronous = OFF');
  w.exec(OUTBOX_DDL);
  w.exec(`INSERT INTO outbox (seq, ts, prio, body)
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) SELECT x, 1700000000000 + x, 0, '{}' FROM c`);
  w.exec(`INSERT INTO meta (k, v) VALUES ('last_seq', ${rows}), ('acked_up_to', 0)`);
  w.pragma('journal_mode = WAL');
  w.close();
  const before = fingerprint(db);

  const st = edge('status', '--config', file, '--json');
  assert.equal(st.code, 0, st.err);
  const report = JSON.parse(st.out) as { outbox: { depth: number; lastSeq: number; overCap?: unknown } };
  assert.equal(report.outbox.depth, rows);
  assert.equal(report.outbox.lastSeq, rows);
  assert.equal(report.outbox.overCap, undefined, 'within the configured cap');
  const ob = edge('outbox', '--config', file);
  assert.equal(ob.code, 0, ob.err);
  assert.match(ob.out, new RegExp(`: ${rows} unsent reading\\(s\\)`));

  assert.equal(rowCount(db), rows, 'no row dropped');
  assert.deepEqual(fingerprint(db), before, 'outbox.db unchanged');
});

test("a crashed gateway's outbox (unmerged WAL): status and outbox --export read it all and change neither file", (t) => {
  const { dir, file, db } = site(t, 'outbox: { maxRows: 100 }\n');
  // A gateway that is killed leaves its latest commits in outbox.db-wal. Make one: appends on an
  // open outbox, its two files copied while it still holds them (as kill -9 would leave them).
  const live = join(dir, 'live');
  mkdirSync(live);
  const writer = Outbox.open({ path: join(live, 'outbox.db'), maxRows: 10_000 });
  const reading = (i: number) => ({ dev: 'wl-1', metric: 'water_level', value: i / 100, unit: 'm', ts: 1_700_000_000_000 + i, q: 'good' as const });
  for (let i = 1; i <= 150; i++) writer.append([reading(i)], [i % 2 === 0]);
  writer.ack(10);
  copyFileSync(join(live, 'outbox.db'), db);
  copyFileSync(join(live, 'outbox.db-wal'), `${db}-wal`);
  writer.close();
  const before = { db: fingerprint(db), wal: fingerprint(`${db}-wal`) };
  assert.ok(before.wal.size > 0, 'the commits are in the WAL');

  const st = edge('status', '--config', file, '--json');
  assert.equal(st.code, 0, st.err);
  const report = JSON.parse(st.out) as { outbox: { depth: number; lastSeq: number; ackedUpTo: number; overCap?: { rows: number; maxRows: number } } };
  assert.deepEqual([report.outbox.depth, report.outbox.lastSeq, report.outbox.ackedUpTo], [140, 150, 10]);
  // The configured cap is 100 rows: reported as exceeded (by 40), not enforced by a reading command.
  assert.deepEqual([report.outbox.overCap?.rows, report.outbox.overCap?.maxRows], [40, 100]);
  const text = edge('status', '--config', file);
  assert.match(text.out, /over cap: +40 row/);

  const exportFile = join(dir, 'export.jsonl');
  const ex = edge('outbox', '--config', file, '--export', exportFile);
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /exported 140 reading/);
  const seqs = readFileSync(exportFile, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { seq: [number, number] });
  assert.deepEqual([seqs[0]!.seq[0], seqs.at(-1)!.seq[1]], [11, 150]);

  assert.deepEqual({ db: fingerprint(db), wal: fingerprint(`${db}-wal`) }, before, 'neither outbox.db nor its WAL changed');
  assert.equal(rowCount(db), 140);
});
