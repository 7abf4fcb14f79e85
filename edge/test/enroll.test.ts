/**
 * The gateway's identity at the command line: `ioc-edge check` names each certificate problem
 * (exit 2), `ioc-edge enroll` refuses bad usage with exit 2 before touching the network, and the
 * renewal timing rule. (Enrolment against a real hub: test/e2e/enrol.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, createCsr, newPrivateKeyPem, parseCsr, signCsr, type PemPair } from '@ioc/shared';
import { renewLeadMs } from '../src/enroll/renew.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'edge/bin/ioc-edge.mjs');
const PROFILES = join(ROOT, 'firmware-configs/profiles');
const GW = 'gw-check-01';

function edge(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function clientCert(ca: PemPair, cn: string, opts: { validityMs?: number; now?: number } = {}): PemPair {
  const key = newPrivateKeyPem();
  const s = signCsr(ca, parseCsr(createCsr(cn, key)), { cn, validityMs: opts.validityMs ?? 86_400_000, ...(opts.now ? { now: opts.now } : {}) });
  return { cert: s.cert, key };
}

/** A gateway folder with edge.yaml pointing at pki/{ca.crt,gw.crt,gw.key}; `files` says what to write there. */
function site(files: { ca?: string; cert?: string; key?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-enroll-'));
  mkdirSync(join(dir, 'pki'));
  for (const [name, text] of [['ca.crt', files.ca], ['gw.crt', files.cert], ['gw.key', files.key]] as const) {
    if (text !== undefined) writeFileSync(join(dir, 'pki', name), text);
  }
  const file = join(dir, 'edge.yaml');
  writeFileSync(
    file,
    `gateway: { id: ${GW}, dataDir: ./data }
uplink: { url: "mqtts://localhost:8883", ca: pki/ca.crt, cert: pki/gw.crt, key: pki/gw.key }
profilesDir: ${PROFILES}
devices: []
`,
  );
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('check: a good identity passes; each certificate problem is named, exit 2', (t) => {
  const ca = createCA('Test CA');
  const good = clientCert(ca, GW);
  const cases: Array<[string, { ca?: string; cert?: string; key?: string }, RegExp[]]> = [
    ['good', { ca: ca.cert, ...good }, []],
    ['no files at all', {}, [/uplink\.ca: file not found: .*pki\/ca\.crt/, /uplink\.cert: file not found: .*pki\/gw\.crt/, /uplink\.key: file not found: .*pki\/gw\.key/]],
    ['key missing', { ca: ca.cert, cert: good.cert }, [/uplink\.key: file not found/]],
    ['not a certificate', { ca: ca.cert, cert: 'hello', key: good.key }, [/uplink\.cert: not a PEM certificate/]],
    ['another key', { ca: ca.cert, cert: good.cert, key: newPrivateKeyPem() }, [/uplink\.key: does not match the certificate in uplink\.cert/]],
    ['another gateway\'s certificate', { ca: ca.cert, ...clientCert(ca, 'gw-other-01') }, [/uplink\.cert: CN "gw-other-01" is not gateway\.id "gw-check-01"/]],
    ['expired', { ca: ca.cert, ...clientCert(ca, GW, { validityMs: 60_000, now: Date.now() - 86_400_000 }) }, [/uplink\.cert: expired on \d{4}-\d\d-\d\dT/]],
    ['another CA', { ca: createCA('Other CA').cert, ...good }, [/uplink\.cert: not signed by the CA in uplink\.ca/]],
  ];
  for (const [name, files, expected] of cases) {
    const s = site(files);
    t.after(s.cleanup);
    const r = edge('check', '--config', s.file);
    if (expected.length === 0) {
      assert.equal(r.code, 0, `${name}: ${r.err}`);
      assert.match(r.out, /OK — gateway gw-check-01/);
      continue;
    }
    assert.equal(r.code, 2, `${name}: exit code (stderr ${r.err})`);
    for (const re of expected) assert.match(r.err, re, name);
    assert.equal(r.err.trim().split('\n').length, expected.length, `${name}: only the problems that are there:\n${r.err}`);
    assert.doesNotMatch(r.out, /OK/);
  }
  // A folder where the certificate should be.
  const s = site({ ca: ca.cert, key: good.key });
  t.after(s.cleanup);
  mkdirSync(join(s.dir, 'pki', 'gw.crt'));
  const dirAsCert = edge('check', '--config', s.file);
  assert.equal(dirAsCert.code, 2);
  assert.match(dirAsCert.err, /uplink\.cert: not a file/);
});

test('enroll: usage errors exit 2 before anything is sent', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-enroll-usage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fp = 'AB:'.repeat(31) + 'AB';
  const file = join(dir, 'edge.yaml');
  const cases: Array<[string[], RegExp]> = [
    [['--hub', 'http://127.0.0.1:1', '--token', 't', '--ca-fingerprint', fp, '--id', GW, '--config', file], /--hub must be an https:\/\/ address/],
    [['--hub', 'not a url', '--token', 't', '--ca-fingerprint', fp, '--id', GW, '--config', file], /--hub: "not a url" is not a URL/],
    [['--hub', 'https://127.0.0.1:1', '--token', 't', '--ca-fingerprint', 'abc', '--id', GW, '--config', file], /--ca-fingerprint: "abc" is not a SHA-256 fingerprint/],
    [['--hub', 'https://127.0.0.1:1', '--ca-fingerprint', fp, '--config', file], /required option '--token <token>' not specified/],
    [['--hub', 'https://127.0.0.1:1', '--token', 't', '--ca-fingerprint', fp, '--config', file], /edge\.yaml does not exist: give --id/],
    [['--hub', 'https://127.0.0.1:1', '--token', 't', '--ca-fingerprint', fp, '--id', 'GW_1', '--config', file], /--id: "GW_1" must match/],
  ];
  for (const [args, re] of cases) {
    const r = edge('enroll', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
  // A hub that is not there is a refusal (exit 1), not a usage error.
  const r = edge('enroll', '--hub', 'https://127.0.0.1:1', '--token', 't', '--ca-fingerprint', fp, '--id', GW, '--config', file);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /cannot reach the hub at 127\.0\.0\.1:1: ECONNREFUSED/);
});

test('renewal starts when less than renewBefore of the validity is left: a share or a time', () => {
  const day = 86_400_000;
  assert.equal(renewLeadMs('33%', 0, 300 * day), 99 * day);
  assert.equal(renewLeadMs('30d', 0, 365 * day), 30 * day);
  assert.equal(renewLeadMs('90s', 0, day), 90_000);
});
