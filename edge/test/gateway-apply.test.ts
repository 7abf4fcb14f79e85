/**
 * Applying a new device list to a running gateway (Gateway.applyConfig, SIGHUP in `ioc-edge
 * start`): drivers come and go against real Modbus TCP devices (the counter simulator) while the
 * outbox goes on untouched — no row cleared, no seq reused or skipped, no write held up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger, ensurePki, type Reading } from '@ioc/shared';
import { parseEdgeConfig } from '../src/config/load.js';
import { Gateway, statusFilePath } from '../src/gateway.js';
import { Outbox } from '../src/outbox/index.js';
import { CounterDeviceSimulator } from '../../test/simulators/modbus-counter.js';
import { sleep } from './modbus-support.js';
import { closedPort } from '../../test/lib/ports.js';
import { until } from '../../test/lib/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROFILES = join(ROOT, 'firmware-configs/profiles');
const GW = 'gw-apply-01';

type DeviceSpec = { id: string; unit: number; pollMs?: number; profile?: string };

/** A site: PKI, a counter simulator standing in for every device, and a hub port nobody answers on. */
async function fixture(t: { after(fn: () => void | Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-apply-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = ensurePki(join(dir, 'pki'), { serverNames: ['localhost'], clients: [GW] });
  const client = pki.client(GW);
  const sim = new CounterDeviceSimulator();
  sim.record = false;
  await sim.start();
  t.after(() => sim.stop());
  const hubPort = await closedPort();
  const yaml = (devices: DeviceSpec[], extra = '') => `gateway: { id: ${GW}, dataDir: ./data }
uplink: { url: "mqtts://127.0.0.1:${hubPort}", ca: ${pki.caCert}, cert: ${client.cert}, key: ${client.key}${extra} }
profilesDir: ${PROFILES}
log: { level: warn }
devices:
${devices.map((d) => `  - { id: ${d.id}, profile: ${d.profile ?? 'test-counter'}, driver: modbus, pollIntervalMs: ${d.pollMs ?? 20}, connection: { host: 127.0.0.1, port: ${sim.port}, unitId: ${d.unit} } }`).join('\n')}
`;
  const config = (devices: DeviceSpec[], extra = '') => parseEdgeConfig(yaml(devices, extra), dir).config;
  return {
    dir,
    yaml,
    config,
    /** A started Gateway (in this process) with these devices, stopped after the test. */
    async gateway(devices: DeviceSpec[]): Promise<Gateway> {
      const gw = new Gateway({ config: config(devices), logger: createLogger({ name: 'test', level: 'silent' }) });
      await gw.start();
      t.after(() => gw.stop());
      return gw;
    },
  };
}

/** Every row in the outbox, in seq order. */
function rows(outbox: Outbox): Array<{ seq: number; r: Reading }> {
  const out: Array<{ seq: number; r: Reading }> = [];
  let after = 0;
  for (let run = outbox.readRun(after, 5000); run; run = outbox.readRun(after, 5000)) {
    run.bodies.forEach((b, i) => out.push({ seq: run.first + i, r: JSON.parse(b) as Reading }));
    after = run.last;
  }
  return out;
}

const countOf = (outbox: Outbox, dev: string) => rows(outbox).filter((x) => x.r.dev === dev).length;

test('a new device list: removed drivers stop, added and changed ones start, and the outbox goes on untouched', async (t) => {
  const f = await fixture(t);
  const gw = await f.gateway([{ id: 'c1', unit: 1 }, { id: 'c2', unit: 2 }, { id: 'c3', unit: 3 }]);
  await until(() => ['c1', 'c2', 'c3'].every((d) => countOf(gw.outbox, d) >= 3), 'three devices polled', 5000);

  const next = f.config([{ id: 'c1', unit: 1 }, { id: 'c3', unit: 3, pollMs: 30 }, { id: 'c4', unit: 4 }]);
  const before = rows(gw.outbox);
  const result = await gw.applyConfig(next);
  const atApply = gw.outbox.lastSeq;
  assert.deepEqual(result, { added: ['c4'], removed: ['c2'], changed: ['c3'], unchanged: 1, restartNeeded: [] });

  await until(() => {
    const after = rows(gw.outbox).filter((x) => x.seq > atApply);
    return ['c1', 'c3', 'c4'].every((d) => after.filter((x) => x.r.dev === d).length >= 3);
  }, 'the new device polled, the others still polled', 5000);
  const all = rows(gw.outbox);
  // Nothing buffered before the apply was touched: same rows, same seqs, same bodies.
  assert.deepEqual(all.slice(0, before.length), before);
  // One seq per reading, no gap, none reused: 1..lastSeq.
  assert.deepEqual(all.map((x) => x.seq), Array.from({ length: all.length }, (_, i) => i + 1));
  assert.equal(all.filter((x) => x.seq > atApply && x.r.dev === 'c2').length, 0, 'the removed device is no longer polled');
  // Each device's counter values are served once and stored once, in order, across the apply.
  for (const dev of ['c1', 'c3']) {
    const values = all.filter((x) => x.r.dev === dev && x.r.q === 'good').map((x) => x.r.value as number);
    assert.deepEqual(values, Array.from({ length: values.length }, (_, i) => i + 1), `${dev}: every answer stored once, in order`);
  }
  assert.deepEqual((gw.status().drivers ?? []).map((d) => d.dev).sort(), ['c1', 'c3', 'c4']);
});

test('a device list that does not validate changes nothing; other sections wait for a restart', async (t) => {
  const f = await fixture(t);
  const gw = await f.gateway([{ id: 'c1', unit: 1 }]);

  const bad = f.config([{ id: 'c1', unit: 1 }, { id: 'c9', unit: 9, profile: 'no-such-model' }]);
  await assert.rejects(gw.applyConfig(bad, 'edge.yaml'), (err: unknown) =>
    err instanceof ConfigError && /devices\.1\.profile: no profile "no-such-model"/.test(err.message));
  const n = countOf(gw.outbox, 'c1');
  await until(() => countOf(gw.outbox, 'c1') >= n + 3, 'c1 still polled after the refused apply', 5000);
  assert.deepEqual((gw.status().drivers ?? []).map((d) => d.dev), ['c1']);

  const tuned = f.config([{ id: 'c1', unit: 1 }], ', batchSize: 100');
  const result = await gw.applyConfig(tuned);
  assert.deepEqual(result, { added: [], removed: [], changed: [], unchanged: 1, restartNeeded: ['uplink'] });
});

test('ioc-edge start applies the device list again on SIGHUP, without a restart', async (t) => {
  const f = await fixture(t);
  const file = join(f.dir, 'edge.yaml');
  writeFileSync(file, f.yaml([{ id: 'c1', unit: 1 }]));
  const statusFile = statusFilePath(f.config([{ id: 'c1', unit: 1 }]));
  const proc = spawn(process.execPath, [join(ROOT, 'edge/bin/ioc-edge.mjs'), 'start', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  t.after(() => void proc.kill('SIGKILL'));
  const drivers = () => {
    try {
      return (JSON.parse(readFileSync(statusFile, 'utf8')) as { drivers: Array<{ dev: string; lastReadTs: number | null }> }).drivers;
    } catch {
      return [];
    }
  };
  await until(() => drivers().some((d) => d.dev === 'c1' && d.lastReadTs !== null), 'the gateway runs and polls c1', 20_000);

  writeFileSync(file, f.yaml([{ id: 'c1', unit: 1 }, { id: 'c2', unit: 2 }]));
  proc.kill('SIGHUP');
  await until(() => drivers().some((d) => d.dev === 'c2'), 'c2 started by SIGHUP', 10_000);
  // A broken file on the next SIGHUP is refused and logged; the gateway keeps running as it was.
  writeFileSync(file, 'devices: [oops');
  proc.kill('SIGHUP');
  await until(() => /config reload refused/.test(log), 'the refusal is logged', 10_000);
  await sleep(300);
  proc.kill('SIGTERM');
  assert.equal(await exited, 0, log);

  assert.ok(existsSync(join(f.dir, 'data', 'outbox.db')));
  const ob = Outbox.open({ path: join(f.dir, 'data', 'outbox.db') });
  try {
    const all = rows(ob);
    assert.ok(all.some((x) => x.r.dev === 'c2'), 'the device added by SIGHUP was polled into the same outbox');
    const c1 = all.filter((x) => x.r.dev === 'c1').map((x) => x.r.value as number);
    assert.deepEqual(c1, Array.from({ length: c1.length }, (_, i) => i + 1), 'c1 kept polling through both SIGHUPs, every answer stored once');
    assert.deepEqual(all.map((x) => x.seq), Array.from({ length: all.length }, (_, i) => i + 1));
  } finally {
    ob.close();
  }
});
