/**
 * Gateway identity end to end, with the real processes and command lines over loopback TLS:
 * a fresh gateway folder with only an edge.yaml (no uplink, no certificate) enrols with a token
 * and the CA fingerprint, delivers readings; the refusals a technician can meet; a revocation from
 * `ioc-hub gateway revoke` (another process) cuts the running gateway off and survives a hub
 * restart; a short-lived certificate renews itself over the link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { certificateInfo } from '@ioc/shared';
import { WaterLevelStationSimulator } from '../simulators/modbus-water-level.js';
import { startEdgeProc, startHubProc, type Proc } from '../lib/procs.js';
import { writeEdgeConfig, writeHubConfig, type SiteDevice } from '../lib/sites.js';
import { hubClient } from '../lib/hub-client.js';
import { edgeCli, hubCli, makeToken } from '../lib/enrol.js';
import { until } from '../lib/until.js';

const GW = 'gw-enrol-01';
const DEV = 'wl-kimlong';

async function rig(t: { after(fn: () => unknown): void }, name: string, hubExtra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `ioc-${name}-`));
  const sim = new WaterLevelStationSimulator();
  await sim.start({ port: 0 });
  sim.setLevel(0.5);
  const procs: Proc[] = [];
  t.after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const device: SiteDevice = { id: DEV, profile: 'radar-water-level', port: sim.port, pollIntervalMs: 200, name: 'Trạm Kim Long' };
  const site = { dir, gatewayId: GW, devices: [device], httpTls: true, hubExtra };
  const hubConfig = writeHubConfig(site);
  const hub = startHubProc(hubConfig);
  procs.push(hub);
  const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
  const ca = readFileSync(join(String(ready.pkiDir), 'ca.crt'));
  const hubUrl = `https://localhost:${ready.httpPort}`;
  return { dir, sim, procs, site, hubConfig, hub, ready, ca, hubUrl, api: hubClient(hubUrl, { ca }) };
}

const enrollArgs = (hubUrl: string, token: string, fingerprint: string, config: string) =>
  ['enroll', '--hub', hubUrl, '--token', token, '--ca-fingerprint', fingerprint, '--config', config];

test('a fresh gateway enrols with only the token and the CA fingerprint and delivers readings; refusals; a CLI revocation cuts it off and survives a restart', { timeout: 180_000 }, async (t) => {
  const r = await rig(t, 'enrol');
  const { dir, hubConfig, hubUrl, api } = r;
  // The gateway's folder: edge.yaml with its id and devices, a faster reconnect for the test — nothing else.
  const gwDir = join(dir, 'gateway');
  const edgeConfig = writeEdgeConfig({ ...r.site, dir: gwDir }, { uplink: { backoff: { initialMs: 200, maxMs: 1000 } } });
  assert.equal(parse(readFileSync(edgeConfig, 'utf8')).uplink.url, undefined, 'no uplink yet');
  const tok = await makeToken(hubConfig, GW);
  assert.equal(tok.caFingerprint, r.ready.caFingerprint);

  // A wrong fingerprint: refused before the token is sent (it still works afterwards), nothing written.
  const wrongFp = tok.caFingerprint.replace(/^../, tok.caFingerprint.startsWith('00') ? '11' : '00');
  const mitm = await edgeCli(enrollArgs(hubUrl, tok.token, wrongFp, edgeConfig));
  assert.equal(mitm.code, 1, mitm.err);
  assert.match(mitm.err, /the hub's CA does not match --ca-fingerprint .*Nothing was sent/);
  assert.ok(!existsSync(join(gwDir, 'pki')), 'no files written');

  // The token of this gateway used from a gateway with another id: its CSR's CN is refused.
  const otherConfig = writeEdgeConfig({ ...r.site, dir: join(dir, 'other'), gatewayId: 'gw-enrol-99' });
  const other = await edgeCli(enrollArgs(hubUrl, tok.token, tok.caFingerprint, otherConfig));
  assert.equal(other.code, 1);
  assert.match(other.err, /enrolment refused by the hub \(csr_cn_mismatch\): the request's CN "gw-enrol-99" is not the gateway id "gw-enrol-01"/);

  // Enrolment.
  const ok = await edgeCli([...enrollArgs(hubUrl, tok.token, tok.caFingerprint, edgeConfig), '--json']);
  assert.equal(ok.code, 0, ok.err);
  const result = JSON.parse(ok.out) as { key: string; cert: string; ca: string; mqttUrl: string };
  assert.equal(statSync(result.key).mode & 0o777, 0o600, 'private key 0600');
  assert.equal(statSync(join(gwDir, 'pki')).mode & 0o777, 0o700);
  assert.equal(certificateInfo(readFileSync(result.cert)).cn, GW);
  const written = parse(readFileSync(edgeConfig, 'utf8'));
  assert.deepEqual(written.uplink, { backoff: { initialMs: 200, maxMs: 1000 }, url: `mqtts://localhost:${r.ready.mqttPort}`, ca: result.ca, cert: result.cert, key: result.key });
  assert.equal(written.devices[0].id, DEV, 'the rest of edge.yaml kept');
  const check = await edgeCli(['check', '--config', edgeConfig]);
  assert.equal(check.code, 0, check.err);

  // The same token again; an expired one.
  const reuse = await edgeCli(enrollArgs(hubUrl, tok.token, tok.caFingerprint, edgeConfig));
  assert.equal(reuse.code, 1);
  assert.match(reuse.err, /\(token_used\): this enrolment token was already used/);
  const old = await makeToken(hubConfig, GW);
  const db = new Database(join(dir, 'hub-data', 'hub.db'));
  db.pragma('busy_timeout = 5000');
  db.prepare('UPDATE enrolment_tokens SET expires_at = 1 WHERE token_hash = ?').run(createHash('sha256').update(old.token).digest('hex'));
  db.close();
  const expired = await edgeCli(enrollArgs(hubUrl, old.token, old.caFingerprint, join(dir, 'unused.yaml')).concat('--id', GW));
  assert.equal(expired.code, 1);
  assert.match(expired.err, /\(token_expired\): this enrolment token expired on 1970-01-01/);

  // The gateway runs with its enrolled identity and delivers.
  const edge = startEdgeProc(edgeConfig);
  r.procs.push(edge);
  await edge.waitFor((l) => l.msg === 'uplink connected');
  await until(async () => (await api.readings(DEV, 'water_level')).length >= 3, 'three readings at the hub');
  const list = await hubCli(['gateway', 'list', '--config', hubConfig, '--json']);
  const mine = (JSON.parse(list.out) as { gateways: Array<{ gateway: string; state: string; serial: string }> }).gateways.find((g) => g.gateway === GW)!;
  assert.equal(mine.state, 'enrolled');
  assert.equal(mine.serial, certificateInfo(readFileSync(result.cert)).serial);

  // Revoked from the command line (another process than the hub): cut off, and refused when it retries.
  const revoke = await hubCli(['gateway', 'revoke', GW, '--reason', 'test', '--config', hubConfig]);
  assert.equal(revoke.code, 0, revoke.err);
  assert.match(revoke.out, /gateway gw-enrol-01 revoked/);
  await r.hub.waitFor((l) => l.msg === 'gateway revoked: its connection is closed and it is refused from now on' && l.gw === GW, 15_000);
  await edge.waitFor((l) => l.msg === 'uplink link lost', 15_000);
  await r.hub.waitFor((l) => l.msg === 'MQTT connection refused' && l.reason === 'revoked' && l.clientId === GW, 15_000);

  // A restart keeps it refused (same ports, so the gateway keeps trying the same address).
  await r.hub.stop('SIGTERM');
  const again = startHubProc(writeHubConfig({ ...r.site, mqttPort: Number(r.ready.mqttPort), httpPort: Number(r.ready.httpPort) }));
  r.procs.push(again);
  await again.waitFor((l) => l.msg === 'hub ready', 60_000);
  await again.waitFor((l) => l.msg === 'MQTT connection refused' && l.reason === 'revoked' && l.clientId === GW, 20_000);
  assert.ok(!again.logs.some((l) => l.msg === 'gateway connected' && l.clientId === GW), 'never let in after the restart');
});

test('a short-lived certificate renews itself over the link: new key and certificate swapped, reconnect, readings go on', { timeout: 120_000 }, async (t) => {
  // 2 minutes of validity, renewal 110 s before the end: due ~10 s after each issue.
  const r = await rig(t, 'renew', { enrolment: { certificateValidity: '2m' } });
  const edgeConfig = writeEdgeConfig({ ...r.site, dir: join(r.dir, 'gateway') }, { uplink: { renewBefore: '110s', backoff: { initialMs: 200, maxMs: 1000 } } });
  const tok = await makeToken(r.hubConfig, GW);
  const enrolled = await edgeCli([...enrollArgs(r.hubUrl, tok.token, tok.caFingerprint, edgeConfig), '--json']);
  assert.equal(enrolled.code, 0, enrolled.err);
  const { cert, key } = JSON.parse(enrolled.out) as { cert: string; key: string };
  const first = certificateInfo(readFileSync(cert));
  const firstKey = readFileSync(key, 'utf8');

  const edge = startEdgeProc(edgeConfig);
  r.procs.push(edge);
  await edge.waitFor((l) => l.msg === 'uplink connected');
  const renewed = await edge.waitFor((l) => l.msg === 'certificate renewed', 60_000);
  const second = certificateInfo(readFileSync(cert));
  assert.notEqual(second.serial, first.serial);
  assert.equal(renewed.serial, second.serial);
  assert.ok(second.notAfter > first.notAfter);
  assert.notEqual(readFileSync(key, 'utf8'), firstKey, 'a new key pair');
  assert.equal(statSync(key).mode & 0o777, 0o600);
  // It reconnects with the new certificate and readings keep arriving.
  await until(() => edge.logs.filter((l) => l.msg === 'uplink connected').length >= 2, 'a reconnect after the renewal', 30_000);
  const before = (await r.api.readings(DEV, 'water_level')).length;
  await until(async () => (await r.api.readings(DEV, 'water_level')).length > before + 2, 'readings after the renewal', 30_000);
  await r.hub.waitFor((l) => l.msg === 'gateway certificate renewed' && l.gw === GW);
  const check = await edgeCli(['check', '--config', edgeConfig]);
  assert.equal(check.code, 0, check.err);
});
