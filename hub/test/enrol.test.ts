/**
 * Gateway identity in the hub, over real TLS: the API over HTTPS by default with the CA in its
 * chain, enrolment tokens within the caller's scope, enrolment with its distinct refusals,
 * MQTT connects with the enrolled certificate, renewal over the link, revocation (API and another
 * process) cutting a connected gateway off and surviving a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { ConfigError, createCA, createCsr, certificateFingerprint, certificateInfo, issueCertificate, issuedBy, newPrivateKeyPem } from '@ioc/shared';
import { resolveHubConfig } from '../src/config/load.js';
import type { HubConfig } from '../src/config/schema.js';
import { openHubDatabase } from '../src/db/database.js';
import { RevocationList } from '../src/enrol/revocation.js';
import { EnrolStore } from '../src/enrol/store.js';
import { startHub, type Hub } from '../src/hub.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { requestJson } from '../../test/lib/procs.js';
import { GW, closed, collect, silentLogger, tempDir, testConfig } from './helpers.js';
import { until } from '../../test/lib/until.js';

const NEW_GW = 'gw-new-01';

/** testConfig with HTTPS (the default) and logins on; one more gateway in hub.yaml, in commune 19801. */
function httpsConfig(dataDir: string, extra: Partial<HubConfig> = {}): HubConfig {
  const base = testConfig(dataDir);
  return {
    ...base,
    http: { host: '127.0.0.1', port: 0 },
    auth: { open: false },
    registry: { ...base.registry, gateways: [...(base.registry.gateways ?? []), { id: 'gw-yaml-03', communeCode: '19801' }] },
    ...extra,
  };
}

async function startTestHub(t: { after(fn: () => unknown): void }, dataDir: string, extra: Partial<HubConfig> = {}) {
  const hub = await startHub(httpsConfig(dataDir, extra), { logger: silentLogger() });
  t.after(() => hub.close());
  const ca = readFileSync(hub.config.mqtt.tls?.ca ?? join(hub.pkiDir!, 'ca.crt'));
  const db = (hub.store as SqliteStore).db;
  const key = (role: 'admin' | 'technician' | 'viewer', areas: string[]) => hub.auth!.createApiKey({ name: `${role} ${areas.join(',')}`, role, areas }, 'test').key;
  const call = <T = any>(method: string, path: string, body?: unknown, apiKey?: string) =>
    requestJson<T>(`${hub.apiUrl}${path}`, { ca, method, ...(body !== undefined ? { body } : {}), ...(apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {}) });
  return { hub, ca, key, call, db };
}

function connectWith(hub: Hub, ca: Buffer, id: string, cert: string, key: string): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtts://localhost:${hub.mqttPort}`, { ca, cert, key, clientId: id, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
}

/** Resolves with the CONNACK refusal, or rejects when the connection was accepted. */
async function refusedConnect(hub: Hub, ca: Buffer, id: string, cert: string, key: string): Promise<string> {
  try {
    const c = await connectWith(hub, ca, id, cert, key);
    c.end(true);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${id} was let in`);
}

test('the API speaks HTTPS by default with the broker certificate, the hub CA sent along (what enroll pins)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { hub, ca } = await startTestHub(t, dir);
  assert.match(hub.apiUrl, /^https:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
  assert.equal(hub.caFingerprint, certificateFingerprint(ca));
  const chain = await new Promise<string[]>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: hub.httpPort, rejectUnauthorized: false }, () => {
      const out: string[] = [];
      for (let c = s.getPeerCertificate(true) as DetailedPeerCertificate | undefined; c?.raw && !out.includes(c.fingerprint256); c = c.issuerCertificate) out.push(c.fingerprint256);
      s.destroy();
      resolve(out);
    });
    s.on('error', reject);
  });
  assert.equal(chain.length, 2, 'server certificate and CA');
  assert.equal(chain[1], hub.caFingerprint);
  // Verified against the CA it is an ordinary HTTPS API.
  const health = await requestJson<{ status: string }>(`${hub.apiUrl}/health`, { ca });
  assert.equal(health.body.status, 'ok');
});

test('config: plain HTTP only on loopback; enrolment durations checked', () => {
  const base = testConfig('/tmp/x');
  const reason = (c: HubConfig) => {
    try {
      resolveHubConfig(c, '/tmp');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.reason;
    }
    return '';
  };
  assert.match(reason({ ...base, auth: { open: false }, http: { host: '0.0.0.0', tls: false } }), /http\.tls: false \(plain HTTP\) is only allowed with a loopback http\.host/);
  assert.equal(reason({ ...base, http: { host: '127.0.0.1', tls: false } }), '');
  assert.match(reason({ ...base, enrolment: { tokenTtl: '30s' } }), /enrolment\.tokenTtl: at least 1m/);
  assert.match(reason({ ...base, enrolment: { certificateValidity: '1 year' } }), /enrolment\.certificateValidity: must match pattern/);
});

test('enrolment tokens over the API: within the caller\'s areas only, shown with the CA fingerprint, stored hashed, audited', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { hub, key, call, db } = await startTestHub(t, dir);
  const tech = key('technician', ['19816']);
  const r = await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19816', ttl: '2h' }, tech);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.token, /^iocgw_[A-Za-z0-9_-]{43}$/);
  assert.equal(r.body.caFingerprint, hub.caFingerprint);
  assert.ok(Math.abs(r.body.expiresAt - (Date.now() + 2 * 3_600_000)) < 60_000);
  assert.match(r.body.command, new RegExp(`^ioc-edge enroll --hub https://127\\.0\\.0\\.1:${hub.httpPort} --token iocgw_`));

  // Only the SHA-256 is in hub.db.
  const rows = db.prepare('SELECT * FROM enrolment_tokens').all() as Array<Record<string, unknown>>;
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.token_hash, createHash('sha256').update(r.body.token).digest('hex'));
  assert.ok(!JSON.stringify(rows).includes(r.body.token));
  const audit = hub.audit.list({ action: 'gateway.token_created', limit: 5 });
  assert.equal(audit.length, 1);
  assert.match(audit[0]!.actor, /^apikey:/);
  assert.equal(audit[0]!.target, `gateway:${NEW_GW}`);
  assert.ok(!JSON.stringify(audit).includes(r.body.token), 'the token is never in the audit log');

  // Another commune: 404 (not 403: the caller does not learn what is outside its scope).
  assert.equal((await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19801' }, tech)).status, 404);
  // A hub.yaml gateway outside the caller's areas: 404.
  assert.equal((await call('POST', '/gateways/gw-yaml-03/enrolment-tokens', { communeCode: '19816' }, tech)).status, 404);
  // An admin sees it, but cannot move it to another commune than hub.yaml's.
  const admin = key('admin', ['*']);
  const moved = await call('POST', '/gateways/gw-yaml-03/enrolment-tokens', { communeCode: '19816' }, admin);
  assert.equal(moved.status, 409);
  assert.match(moved.body.message, /belongs to commune 19801 in hub\.yaml/);
  // Roles without gateways.enrol: 403; no credentials: 401.
  assert.equal((await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19816' }, key('viewer', ['19816']))).status, 403);
  assert.equal((await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19816' })).status, 401);
});

test('enrol: a CSR for the token\'s gateway is signed; unknown, used, expired tokens and a foreign CN are refused distinctly and audited; the enrolled gateway connects', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { hub, ca, key, call, db } = await startTestHub(t, dir);
  const admin = key('admin', ['*']);
  const token = async (gw = NEW_GW) => (await call('POST', `/gateways/${gw}/enrolment-tokens`, { communeCode: '19816' }, admin)).body.token as string;
  const gwKey = newPrivateKeyPem();
  const csr = createCsr(NEW_GW, gwKey);

  const tok = await token();
  // A CSR naming another gateway is refused, and leaves the token usable (see service.ts).
  const foreign = await call('POST', '/enrol', { token: tok, csr: createCsr('gw-other-01', newPrivateKeyPem()) });
  assert.equal(foreign.status, 400);
  assert.equal(foreign.body.error, 'csr_cn_mismatch');
  assert.match(foreign.body.message, /CN "gw-other-01" is not the gateway id "gw-new-01"/);
  const garbage = await call('POST', '/enrol', { token: tok, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
  assert.equal(garbage.body.error, 'csr_invalid');

  const ok = await call('POST', '/enrol', { token: tok, csr });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.gateway, NEW_GW);
  // The technical rules take the new gateway on at once (offline, problems), with its commune.
  const offline = hub.rules.rules.find((r) => r.spec.id === 'gateway-offline')!.targets.find((x) => x.gw === NEW_GW);
  assert.deepEqual([offline?.area.communeCode, offline?.area.provinceCode], ['19816', '46']);
  assert.equal(ok.body.communeCode, '19816');
  assert.equal(ok.body.caFingerprint, hub.caFingerprint);
  assert.equal(ok.body.mqttPort, hub.mqttPort);
  const info = certificateInfo(ok.body.certificate);
  assert.equal(info.cn, NEW_GW);
  assert.ok(issuedBy(ok.body.certificate, ca));
  assert.ok(info.notAfter > Date.now() + 364 * 86_400_000, 'default validity 365d');

  // The same token again: used.
  const again = await call('POST', '/enrol', { token: tok, csr });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'token_used');
  // Unknown.
  const unknown = await call('POST', '/enrol', { token: 'iocgw_' + 'A'.repeat(43), csr });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.error, 'token_unknown');
  // Expired: a token whose expiry has passed.
  const old = await token();
  db.prepare('UPDATE enrolment_tokens SET expires_at = 1 WHERE token_hash = ?').run(createHash('sha256').update(old).digest('hex'));
  const expired = await call('POST', '/enrol', { token: old, csr });
  assert.equal(expired.status, 410);
  assert.equal(expired.body.error, 'token_expired');

  const refusals = hub.audit.list({ action: 'gateway.enrolment_refused', limit: 10 }).map((e) => e.summary?.split(':')[0]);
  assert.deepEqual(refusals.sort(), ['csr_cn_mismatch', 'csr_invalid', 'token_expired', 'token_unknown', 'token_used']);
  const enrolled = hub.audit.list({ action: 'gateway.enrolled', limit: 5 });
  assert.equal(enrolled.length, 1);
  assert.equal(enrolled[0]!.actor, `gateway:${NEW_GW}`);

  // Not in hub.yaml, yet a gateway now: it connects with its certificate and appears in /gateways
  // for whoever sees its commune.
  const client = await connectWith(hub, ca, NEW_GW, ok.body.certificate, gwKey);
  t.after(() => client.end(true));
  const seen = await call('GET', '/gateways', undefined, key('technician', ['19816']));
  assert.ok(seen.body.gateways.some((g: { id: string; communeCode: string }) => g.id === NEW_GW && g.communeCode === '19816'));
  const hidden = await call('GET', '/gateways', undefined, key('technician', ['19801']));
  assert.ok(!hidden.body.gateways.some((g: { id: string }) => g.id === NEW_GW));
  const identity = await call('GET', `/gateways/${NEW_GW}/identity`, undefined, admin);
  assert.equal(identity.body.gateway.state, 'enrolled');
  assert.equal(identity.body.gateway.serial, info.serial);
});

test('enrolment is HTTPS-only, and refused with a clear message by a hub that has the province CA but not its key', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const pki = join(dir, 'province');
  mkdirSync(pki, { recursive: true });
  const ca = createCA('Province CA');
  const server = issueCertificate(ca, { cn: 'localhost', usage: 'server', altNames: ['localhost', '127.0.0.1'] });
  const f = (n: string, s: string) => { writeFileSync(join(pki, n), s); return join(pki, n); };
  const tls = { ca: f('ca.crt', ca.cert), cert: f('hub.crt', server.cert), key: f('hub.key', server.key) };
  const { hub, key, call } = await startTestHub(t, join(dir, 'data'), { mqtt: { host: '127.0.0.1', port: 0, tls } });
  assert.equal(hub.caFingerprint, certificateFingerprint(ca.cert));
  const admin = key('admin', ['*']);
  const tok = (await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19816' }, admin)).body.token as string;
  const r = await call('POST', '/enrol', { token: tok, csr: createCsr(NEW_GW, newPrivateKeyPem()) });
  assert.equal(r.status, 503);
  assert.equal(r.body.error, 'cannot_sign');
  assert.match(r.body.message, /set mqtt\.tls\.caKey/);

  // With the key named, the same token works (it was not burnt by the refusal).
  await hub.close();
  const again = await startTestHub(t, join(dir, 'data'), { mqtt: { host: '127.0.0.1', port: 0, tls: { ...tls, caKey: f('ca.key', ca.key) } } });
  const ok = await again.call('POST', '/enrol', { token: tok, csr: createCsr(NEW_GW, newPrivateKeyPem()) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(issuedBy(ok.body.certificate, ca.cert));

  // Plain HTTP (loopback, http.tls: false): enrolment is not served.
  await again.hub.close();
  const plain = await startHub({ ...httpsConfig(join(dir, 'plain')), auth: { open: true }, http: { host: '127.0.0.1', port: 0, tls: false } }, { logger: silentLogger() });
  t.after(() => plain.close());
  assert.match(plain.apiUrl, /^http:\/\//);
  const refused = await requestJson<{ error: string }>(`${plain.apiUrl}/enrol`, { method: 'POST', body: { token: tok, csr: 'x' } });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, 'https_required');
});

test('revocation: through the API the connected gateway is cut at once and refused after; from another process within the check interval; across a restart', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let { hub, ca, key, call } = await startTestHub(t, dir);
  const admin = key('admin', ['*']);
  const enrolOne = async (gw: string) => {
    const tok = (await call('POST', `/gateways/${gw}/enrolment-tokens`, { communeCode: '19816' }, admin)).body.token as string;
    const k = newPrivateKeyPem();
    const r = await call('POST', '/enrol', { token: tok, csr: createCsr(gw, k) });
    assert.equal(r.status, 200);
    return { cert: r.body.certificate as string, key: k };
  };
  const a = await enrolOne('gw-rev-01');
  const b = await enrolOne('gw-rev-02');
  const ca1 = await connectWith(hub, ca, 'gw-rev-01', a.cert, a.key);
  const cb1 = await connectWith(hub, ca, 'gw-rev-02', b.cert, b.key);

  // API (technician of its commune): the connection closes, and a reconnect is refused.
  const gone = closed(ca1, 5000);
  const r = await call('POST', '/gateways/gw-rev-01/revoke', { reason: 'box stolen' }, key('technician', ['19816']));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.gateway.state, 'revoked');
  await gone;
  assert.match(await refusedConnect(hub, ca, 'gw-rev-01', a.cert, a.key), /Not authorized|refused/i);
  assert.equal((await call('POST', '/gateways/gw-rev-01/revoke', {}, admin)).status, 409, 'already revoked');
  const audit = hub.audit.list({ action: 'gateway.revoked', limit: 5 });
  assert.equal(audit[0]!.summary, 'revoked: box stolen');

  // Another process (here: a second connection, as `ioc-hub gateway revoke` opens): the hub sees the
  // commit through PRAGMA data_version and cuts the gateway within its check interval.
  const other = openHubDatabase(join(dir, 'hub.db'));
  const otherStore = new EnrolStore(other);
  const goneB = closed(cb1, 10_000);
  otherStore.transaction(() => otherStore.recordRevoked('gw-rev-02', '19816', Date.now(), 'cli:test', null));
  other.close();
  await goneB;
  assert.match(await refusedConnect(hub, ca, 'gw-rev-02', b.cert, b.key), /Not authorized|refused/i);

  // A hub.yaml gateway with its demo certificate can be revoked too.
  const demo = { cert: readFileSync(join(hub.pkiDir!, 'clients', `${GW}.crt`), 'utf8'), key: readFileSync(join(hub.pkiDir!, 'clients', `${GW}.key`), 'utf8') };
  (await connectWith(hub, ca, GW, demo.cert, demo.key)).end(true);
  assert.equal((await call('POST', `/gateways/${GW}/revoke`, {}, admin)).status, 200);

  // Restart: still refused, certificates unexpired or not.
  await hub.close();
  ({ hub, ca, key, call } = await startTestHub(t, dir));
  for (const [id, c] of [['gw-rev-01', a], ['gw-rev-02', b], [GW, demo]] as const) {
    assert.match(await refusedConnect(hub, ca, id, c.cert, c.key), /Not authorized|refused/i, `${id} after restart`);
  }
  // A new box for gw-rev-01: enrolling again lifts the gateway's revocation, the old certificate stays refused.
  const fresh = await enrolOne('gw-rev-01');
  const c2 = await connectWith(hub, ca, 'gw-rev-01', fresh.cert, fresh.key);
  c2.end(true);
  assert.match(await refusedConnect(hub, ca, 'gw-rev-01', a.cert, a.key), /Not authorized|refused/i, 'the stolen box\'s certificate');
});

test('renewal over the link: a CSR for the client\'s own CN is signed and recorded; another CN is refused', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { hub, ca, key, call } = await startTestHub(t, dir, { enrolment: { certificateValidity: '2h' } });
  const admin = key('admin', ['*']);
  const tok = (await call('POST', `/gateways/${NEW_GW}/enrolment-tokens`, { communeCode: '19816' }, admin)).body.token as string;
  const k = newPrivateKeyPem();
  const first = (await call('POST', '/enrol', { token: tok, csr: createCsr(NEW_GW, k) })).body;
  const client = await connectWith(hub, ca, NEW_GW, first.certificate, k);
  t.after(() => client.end(true));
  await client.subscribeAsync(`ioc/v1/${NEW_GW}/cert`, { qos: 1 });
  const answers = collect(client, `ioc/v1/${NEW_GW}/cert`);

  const k2 = newPrivateKeyPem();
  await client.publishAsync(`ioc/v1/${NEW_GW}/cert/csr`, JSON.stringify({ v: 1, id: 'r1', csr: createCsr(NEW_GW, k2) }), { qos: 1 });
  const ok = (await answers.next()) as { ok: boolean; id: string; certificate: string; notAfter: number };
  assert.equal(ok.ok, true);
  assert.equal(ok.id, 'r1');
  const info = certificateInfo(ok.certificate);
  assert.equal(info.cn, NEW_GW);
  assert.ok(Math.abs(info.notAfter - (Date.now() + 2 * 3_600_000)) < 60_000, 'enrolment.certificateValidity');
  await client.publishAsync(`ioc/v1/${NEW_GW}/cert/csr`, JSON.stringify({ v: 1, id: 'r2', csr: createCsr('gw-other-01', newPrivateKeyPem()) }), { qos: 1 });
  const no = (await answers.next()) as { ok: boolean; error: string };
  assert.equal(no.ok, false);
  assert.equal(no.error, 'csr_cn_mismatch');

  const identity = (await call('GET', `/gateways/${NEW_GW}/identity`, undefined, admin)).body.gateway;
  assert.equal(identity.serial, info.serial);
  assert.ok(identity.renewedAt);
  const renewed = hub.audit.list({ action: 'gateway.certificate_renewed', limit: 5 });
  assert.deepEqual(renewed.map((e) => e.outcome).sort(), ['ok', 'refused']);
  // The renewed certificate works.
  (await connectWith(hub, ca, NEW_GW, ok.certificate, k2)).end(true);
});

test('the revocation check at connect is cheap: a data_version look, the tables re-read only after another process committed', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = openHubDatabase(join(dir, 'hub.db'));
  t.after(() => db.close());
  const store = new EnrolStore(db);
  store.transaction(() => {
    for (let i = 0; i < 200; i++) store.recordRevoked(`gw-x-${i}`, null, Date.now(), 'test', null);
  });
  const list = new RevocationList({ store, logger: silentLogger(), onRevoked: () => undefined });
  const n = 20_000;
  const t0 = process.hrtime.bigint();
  let revoked = 0;
  for (let i = 0; i < n; i++) if (list.isRevoked(`gw-x-${i % 400}`, 'AB12')) revoked++;
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  assert.equal(revoked, n / 2);
  t.diagnostic(`isRevoked: ${us.toFixed(2)} µs per connect (PRAGMA data_version + two set lookups)`);
});
