/**
 * The hub's disk fills up while gateways send: every commit fails, nothing is acknowledged — and
 * the hub says so: /api/v1/health answers 503 "degraded" with the reason, /metrics counts the
 * refused writes and shows the free space, the log has one loud line when it starts (and the
 * per-batch errors rate-limited), one when it is over; the batch the disk refused is stored when
 * the gateway sends it again after space returns.
 *
 * A real full disk where the sandbox allows it: a 16 MB tmpfs mounted on the data directory,
 * filled with a file (needs root / CAP_SYS_ADMIN). Otherwise hub.db's page count is capped at its
 * size with its free pages used up, which makes SQLite fail commits with the same SQLITE_FULL on
 * the same code path (the free-space check then runs against the real disk, with a threshold
 * above its size). The test says which one it used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { startHub } from '../src/hub.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { GW, batch, capturingLogger, connectGateway, metricValue, tempDir, testConfig, wl } from './helpers.js';
import { fillSqliteToFull } from '../../test/lib/sqlite-full.js';
import { until } from '../../test/lib/until.js';

const MB = 1024 * 1024;

function mountTmpfs(dir: string, bytes: number): boolean {
  // IOC_TEST_NO_TMPFS=1 runs the fallback even where mounting works (to check it).
  if (process.platform !== 'linux' || process.env.IOC_TEST_NO_TMPFS) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0;
}

/** Writes a file until the file system refuses (ENOSPC). */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // The last bytes of a partial block.
    for (;;) {
      try {
        writeSync(fd, chunk, 0, 512);
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('disk full: health 503 with the reason, metrics, one loud log line, rate-limited errors; recovery when space returns', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const tmpfs = mountTmpfs(dataDir, 16 * MB);
  // One hook, in order: the client, the hub, the mount, the folder.
  const stops: Array<() => unknown> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    if (tmpfs && spawnSync('umount', [dataDir]).status !== 0) spawnSync('umount', ['-l', dataDir]);
    cleanup();
  });
  t.diagnostic(tmpfs ? 'disk full: a 16 MB tmpfs on the data directory, filled with a file' : 'disk full: tmpfs not mountable here; SQLITE_FULL from hub.db max_page_count instead');
  // With tmpfs the threshold is 1 MB of 16; on the real disk one far above its size, so it reads low.
  const minFreeDiskMB = tmpfs ? 1 : 1024 * 1024 * 1024;

  const { logger, lines } = capturingLogger('info');
  const hub = await startHub(testConfig(dataDir, { hub: { dataDir, minFreeDiskMB } }), { logger });
  stops.push(() => hub.close());
  const hubDb = () => (hub.store as SqliteStore).db;
  const health = async () => {
    const res = await fetch(`${hub.apiUrl}/health`);
    return { code: res.status, body: (await res.json()) as { status: string; reasons: string[]; db: { ok: boolean; writesFailing: boolean }; disk: { freeBytes: number; low: boolean } } };
  };
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    metricValue(await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text(), name, labels);

  const gw = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW });
  stops.push(() => gw.end(true));
  let acked = 0;
  gw.on('message', (_topic, payload) => {
    acked = Math.max(acked, (JSON.parse(payload.toString()) as { upTo: number }).upTo);
  });
  await gw.subscribeAsync(`ioc/v1/${GW}/ack`, { qos: 1 });
  const T0 = Date.now() - 3_600_000;
  const readings = (first: number, n: number): Reading[] => Array.from({ length: n }, (_, i) => wl(0.5 + ((first + i) % 100) / 1000, T0 + (first + i) * 10));
  const send = (first: number, n: number) => gw.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(batch(GW, first, readings(first, n))), { qos: 1 });

  await send(1, 10);
  await until(() => acked === 10, 'the first batch acknowledged');
  let h = await health();
  // Writes work: 200. (In the fallback the real disk reads "low" against the huge threshold from the start.)
  assert.deepEqual([h.code, h.body.status, h.body.reasons], tmpfs ? [200, 'ok', []] : [200, 'degraded', ['disk_low']]);

  // The disk fills up.
  if (tmpfs) fillDisk(join(dataDir, 'filler'));
  else fillSqliteToFull(hubDb());
  // Batches until one is refused (a WAL can take some commits in space it already has).
  const N = 500;
  let next = 11;
  let refused = 0;
  for (let i = 0; i < 2000 && !refused; i++) {
    await send(next, N);
    const first = next;
    await until(async () => acked >= first + N - 1 || (await health()).code === 503, 'an ack or a failing store', 30_000);
    if (acked >= first + N - 1) next += N;
    else refused = first;
  }
  assert.ok(refused, 'a commit was refused');
  h = await health();
  assert.equal(h.code, 503);
  assert.equal(h.body.status, 'degraded');
  assert.ok(h.body.reasons.includes('store_writes_failing'), JSON.stringify(h.body));
  assert.deepEqual([h.body.db.ok, h.body.db.writesFailing], [false, true]);
  assert.ok(h.body.reasons.includes('disk_low') && h.body.disk.low, `free ${h.body.disk.freeBytes} B is below hub.minFreeDiskMB`);
  assert.ok((await metric('ioc_hub_store_write_failures_total', { kind: 'full' }))! >= 1);
  assert.equal(await metric('ioc_hub_store_writes_failing'), 1);
  assert.equal(await metric('ioc_hub_disk_low'), 1);
  assert.ok((await metric('ioc_hub_disk_free_bytes'))! < minFreeDiskMB * MB);
  assert.equal(acked, refused - 1, 'nothing of the refused batch acknowledged');

  // The gateway keeps resending (it has no ack): one loud line, the per-batch errors limited.
  for (let i = 0; i < 20; i++) await send(refused, N);
  await until(async () => ((await metric('ioc_hub_store_write_failures_total', { kind: 'full' })) ?? 0) >= 21, 'twenty more refused commits');
  assert.equal(acked, refused - 1);
  assert.equal(lines.filter((l) => /^HUB STORAGE FAILING/.test(l.msg)).length, 1, 'one loud line when it starts');
  const perBatch = lines.filter((l) => l.msg === 'storing a telemetry batch failed; not acknowledged').length;
  assert.ok(perBatch >= 1 && perBatch <= 5, `per-batch errors rate-limited: ${perBatch} lines for 21+ failures`);
  assert.equal(lines.filter((l) => /^HUB DISK LOW/.test(l.msg)).length, 1);

  // Space again: the resent batch is stored and acknowledged, health recovers.
  if (tmpfs) rmSync(join(dataDir, 'filler'));
  else {
    hubDb().pragma('max_page_count = 1073741823');
    hubDb().exec('DROP TABLE test_filler');
  }
  await until(async () => {
    if (acked >= refused + N - 1) return true;
    await send(refused, N);
    return false;
  }, 'the resent batch acknowledged', 30_000);
  assert.equal(lines.filter((l) => l.msg === 'hub storage recovered: writes to hub.db succeed again').length, 1);
  if (tmpfs) {
    await until(async () => (await health()).body.status === 'ok', 'health ok again (free space re-read)', 30_000);
    h = await health();
    assert.deepEqual([h.code, h.body.reasons], [200, []]);
    assert.equal(lines.filter((l) => /^hub disk space back above/.test(l.msg)).length, 1);
  } else {
    // The real disk stays "low" against the huge threshold: degraded, but 200 — writes work.
    h = await health();
    assert.deepEqual([h.code, h.body.reasons], [200, ['disk_low']]);
  }
  assert.equal(await metric('ioc_hub_store_writes_failing'), 0);
  const stored = hub.store.storedSeqs(GW, 0, 1_000_000);
  assert.equal(stored.length, refused + N - 1, 'every seq up to the resent batch stored once');
});
