/**
 * The ioc-edge command line as a process: a bad config fails fast naming the key, `check`
 * validates config + profiles, `status` and `outbox --export` read the outbox of a stopped gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, issueCertificate } from '@ioc/shared';
import { Outbox } from '../src/outbox/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'edge/bin/ioc-edge.mjs');
const PROFILES = join(ROOT, 'firmware-configs/profiles');

function edge(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function site(body: string, opts: { certs?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cli-'));
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, body.replaceAll('PROFILES', PROFILES));
  if (opts.certs) {
    // check also looks at the certificate files (edge/test/enroll.test.ts names each failure).
    const ca = createCA();
    const gw = issueCertificate(ca, { cn: 'gw-cli-01', usage: 'client' });
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'gw.crt'), gw.cert);
    writeFileSync(join(dir, 'gw.key'), gw.key);
  }
  return { dir, file };
}

const GOOD = `gateway: { id: gw-cli-01, dataDir: ./data }
uplink: { url: "mqtts://localhost:8883", ca: ca.crt, cert: gw.crt, key: gw.key }
profilesDir: PROFILES
devices:
  - { id: wl-1, profile: radar-water-level, driver: modbus, connection: { host: 127.0.0.1, port: 5020 } }
`;

test('a config with a bad key fails fast (exit 2) naming the key, for start and check', () => {
  const { dir, file } = site(GOOD.replace('uplink: { url', 'uplink: { batchsize: 10, url'));
  try {
    for (const cmd of ['start', 'check']) {
      const r = edge(cmd, '--config', file);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /config error: .*edge\.yaml: uplink\.batchsize: unknown key/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a device naming a missing profile or a bad value fails naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    [GOOD.replace('profile: radar-water-level', 'profile: no-such-model'), /devices\.0\.profile: no profile "no-such-model"/],
    [GOOD.replace('port: 5020', 'port: 70000'), /devices\.0\.connection\.port: must be <= 65535/],
    [GOOD.replace('id: gw-cli-01', 'id: GW_01'), /gateway\.id: must match pattern/],
    [GOOD + '  - { id: wl-1, profile: radar-water-level, driver: modbus, connection: { host: h } }\n', /devices\.1\.id: duplicate device id "wl-1"/],
  ];
  for (const [body, re] of cases) {
    const { dir, file } = site(body);
    try {
      const r = edge('check', '--config', file);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const missing = edge('check', '--config', '/nonexistent/edge.yaml');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read: ENOENT/);
});

test('mqtt:// (no TLS) is refused by check and start (exit 2, naming uplink.url) unless uplink.insecure: true says so', () => {
  const plain = GOOD.replace('mqtts://localhost:8883"', 'mqtt://localhost:1883"');
  const { dir, file } = site(plain);
  try {
    for (const cmd of ['check', 'start']) {
      const r = edge(cmd, '--config', file);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /config error: .*edge\.yaml: uplink\.url: mqtt:\/\/ has no TLS.*uplink\.insecure: true/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lab = site(plain.replace('uplink: { url', 'uplink: { insecure: true, url'), { certs: true });
  try {
    const r = edge('check', '--config', lab.file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /OK — gateway gw-cli-01.*hub mqtt:\/\/localhost:1883/);
  } finally {
    rmSync(lab.dir, { recursive: true, force: true });
  }
});

test('uplink limits that contradict each other are refused at start, naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    [GOOD.replace('uplink: { url', 'uplink: { maxPayloadBytes: 16384, url'), /uplink\.batchSize: 500 readings cannot fit in uplink\.maxPayloadBytes \(16384 bytes.*at most \d+/],
    [GOOD.replace('uplink: { url', 'uplink: { batchSize: 5000, maxPayloadBytes: 65536, url'), /uplink\.batchSize: 5000 readings cannot fit/],
    [GOOD.replace('uplink: { url', 'uplink: { maxPayloadBytes: 1024, url'), /uplink\.maxPayloadBytes: must be >= 4096/],
    [GOOD.replace('uplink: { url', 'uplink: { backoff: { initialMs: 5000, maxMs: 1000 }, url'), /uplink\.backoff\.initialMs: 5000 is above uplink\.backoff\.maxMs \(1000\)/],
  ];
  for (const [body, re] of cases) {
    const { dir, file } = site(body);
    try {
      const r = edge('check', '--config', file);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const fits = site(GOOD.replace('uplink: { url', 'uplink: { batchSize: 100, maxPayloadBytes: 16384, url'), { certs: true });
  try {
    const r = edge('check', '--config', fits.file);
    assert.equal(r.code, 0, r.err);
  } finally {
    rmSync(fits.dir, { recursive: true, force: true });
  }
});

test('check accepts a good config; status and outbox --export read the outbox of a stopped gateway', () => {
  const { dir, file } = site(GOOD, { certs: true });
  try {
    const ok = edge('check', '--config', file);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /OK — gateway gw-cli-01, 1 device/);

    const none = edge('outbox', '--config', file);
    assert.equal(none.code, 2);
    assert.match(none.err, /no outbox at .*outbox\.db/);

    // A gateway that ran offline: 3 readings buffered, 1 acknowledged.
    const ob = Outbox.open({ path: join(dir, 'data', 'outbox.db') });
    ob.append([1.1, 1.2, 1.3].map((v, i) => ({ dev: 'wl-1', metric: 'water_level', value: v, unit: 'm', ts: 1000 + i, q: 'good' as const })));
    ob.ack(1);
    ob.close();

    const st = edge('status', '--config', file, '--json');
    assert.equal(st.code, 0, st.err);
    const report = JSON.parse(st.out);
    assert.equal(report.outbox.depth, 2);
    assert.equal(report.outbox.lastSeq, 3);
    assert.equal(report.outbox.ackedUpTo, 1);
    const text = edge('status', '--config', file);
    assert.match(text.out, /outbox: +2 unsent/);
    assert.match(text.out, /not running/);
    assert.doesNotMatch(text.out, /storage:/);
    // A running gateway whose disk failed some writes says so, with what to check.
    writeFileSync(join(dir, 'data', 'status.json'), JSON.stringify({ ts: Date.now(), link: 'online', counters: { appendErrors: 2 } }));
    const failing = edge('status', '--config', file);
    assert.match(failing.out, /process: +running/);
    assert.match(failing.out, /storage: +2 poll\(s\) could not be written .*free disk space/);

    const exportFile = join(dir, 'export.jsonl');
    const ex = edge('outbox', '--config', file, '--export', exportFile);
    assert.equal(ex.code, 0, ex.err);
    assert.match(ex.out, /2 unsent reading/);
    assert.match(ex.out, /exported 2 reading/);
    const lines = readFileSync(exportFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].gw, 'gw-cli-01');
    const values = lines.slice(1).flatMap((l) => l.readings ?? []).map((r: { value: number }) => r.value);
    assert.deepEqual(values, [1.2, 1.3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help explains every command', () => {
  const r = edge('--help');
  assert.equal(r.code, 0);
  for (const cmd of ['start', 'check', 'status', 'outbox']) assert.match(r.out, new RegExp(`\\b${cmd}\\b`));
  assert.match(edge('outbox', '--help').out, /ioc-hub import/);
});
