/**
 * A gateway whose outbox writes fail (here: SQLite's SQLITE_FULL from the real outbox connection,
 * the page count capped at what the file has and its free pages used up — the error a full disk
 * gives): it keeps polling, counts every lost poll, carries the figures in its status for the hub
 * (valid against the wire schema), logs one error line for many failures, and says when writes
 * succeed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { createLogger, ensurePki, validateStatus } from '@ioc/shared';
import { loadEdgeConfig } from '../src/config/load.js';
import { Gateway, statusFilePath } from '../src/gateway.js';
import { CounterDeviceSimulator } from '../../test/simulators/modbus-counter.js';

import { fillSqliteToFull } from '../../test/lib/sqlite-full.js';
import { closedPort } from '../../test/lib/ports.js';
import { until } from '../../test/lib/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GW = 'gw-wfail-01';


test('outbox writes failing: counted per poll, in the status, one error line for many, recovery logged', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-wfail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = ensurePki(join(dir, 'pki'), { serverNames: ['localhost'], clients: [GW] });
  const client = pki.client(GW);
  const sim = new CounterDeviceSimulator();
  sim.record = false;
  await sim.start();
  t.after(() => sim.stop());
  // Nobody answers on the uplink: nothing is acknowledged, so no row leaves and frees a page.
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, `gateway: { id: ${GW}, dataDir: ./data }
uplink: { url: "mqtts://127.0.0.1:${await closedPort()}", ca: ${pki.caCert}, cert: ${client.cert}, key: ${client.key} }
profilesDir: ${join(ROOT, 'firmware-configs/profiles')}
devices:
${[1, 2, 3].map((u) => `  - { id: ctr-${u}, profile: test-counter, driver: modbus, pollIntervalMs: 10, connection: { host: 127.0.0.1, port: ${sim.port}, unitId: ${u} } }`).join('\n')}
`);
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const logger = createLogger({ name: 'test', level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  const gw = new Gateway({ config: loadEdgeConfig(file).config, logger });
  await gw.start();
  t.after(() => gw.stop());
  await until(() => gw.outbox.lastSeq >= 30, 'readings stored');
  assert.equal(gw.status().outbox?.writeFailures, undefined, 'no failure fields while all is well');

  const db = (gw.outbox as unknown as { db: Database.Database }).db;
  fillSqliteToFull(db);
  await until(() => (gw.status().outbox?.writeFailures ?? 0) >= 40, 'forty polls failing');
  const status = gw.status();
  const o = status.outbox!;
  assert.equal(o.lastWriteError?.code, 'SQLITE_FULL');
  assert.match(o.lastWriteError!.message, /full/);
  assert.ok(o.writeFailedReadings! >= o.writeFailures!, 'one reading per counter poll at least');
  const seqAtFull = gw.outbox.lastSeq;
  assert.equal(status.counters.appendErrors, o.writeFailures);
  assert.ok(validateStatus({ ...gw.uplink.buildStatus() }), `the status with failures is valid on the wire: ${validateStatus.lastError()}`);
  // The status file `ioc-edge status` reads carries them too.
  await until(() => (JSON.parse(readFileSync(statusFilePath(loadEdgeConfig(file).config), 'utf8')) as { outbox?: { writeFailures?: number } }).outbox?.writeFailures, 'the status file to carry the failures');

  const errors = lines.filter((l) => l.level === 50 && /outbox write/.test(l.msg));
  assert.equal(errors.length, 1, `one error line for ${o.writeFailures} failures, not one each: ${JSON.stringify(errors.map((e) => e.msg))}`);
  assert.equal(errors[0]!.code, 'SQLITE_FULL');

  // Space again: writes resume, said once.
  db.exec('DROP TABLE test_filler');
  db.pragma('max_page_count = 1073741823');
  await until(() => gw.outbox.lastSeq > seqAtFull + 10, 'writes to resume');
  await until(() => lines.some((l) => l.msg === 'outbox writes succeed again'), 'the recovery line');
  assert.ok(gw.status().outbox!.writeFailures! >= o.writeFailures!, 'the count stays: those readings are still lost');
});
