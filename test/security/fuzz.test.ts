/**
 * Hostile input against a real hub process: more than 10,000 malformed, oversized or hostile MQTT
 * payloads and packets (from an enrolled gateway with a valid certificate, and from sockets with no
 * certificate at all) and HTTP requests (bad JSON, huge bodies, wrong types, path traversal,
 * SQL-like strings, forged cookies, unsafe requests without the CSRF token).
 *
 * The hub must refuse each one — an HTTP 4xx, or a counted refusal (ioc_hub_rejected_total,
 * ioc_hub_broker_refused_total) — never crash, keep its memory bounded (VmRSS before and after),
 * store nothing, and still serve an honest gateway afterwards. Inputs come from fast-check with a
 * fixed seed (FUZZ_SEED to vary it), so a failure can be replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { startHubProc, type Proc } from '../lib/procs.js';
import { writeHubConfig } from '../lib/sites.js';
import { provisionPeople } from '../lib/hub-cli.js';
import { until } from '../lib/until.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const GW = 'gw-fuzz-01';
const DEV = 'wl-fuzz';
const MQTT_PAYLOADS = Number(process.env.FUZZ_MQTT ?? 6000);
const RAW_CONNECTIONS = Number(process.env.FUZZ_RAW ?? 1500);
const HTTP_REQUESTS = Number(process.env.FUZZ_HTTP ?? 3000);

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const validReading = (ts: number) => ({ dev: DEV, metric: 'water_level', value: 1.25, unit: 'm', ts, q: 'good' });
const validBatch = (first: number, n: number, ts: number) => ({ v: 1, gw: GW, seq: [first, first + n - 1], readings: Array.from({ length: n }, (_, i) => validReading(ts + i)) });

/** Ways to break a telemetry batch; each yields something the hub must refuse as a whole. */
const SQLISH = ["x'; DROP TABLE readings;--", '" OR 1=1 --', '../../etc/passwd', '%00', '\u0000', 'wl-fuzz\nq', '<script>'];
function mutatedTelemetry(): fc.Arbitrary<string | Buffer> {
  const now = Date.now();
  const base = fc.record({ first: fc.integer({ min: 1, max: 1_000_000 }), n: fc.integer({ min: 1, max: 20 }) });
  const json = (o: unknown) => JSON.stringify(o);
  return fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 2048 }).map((b) => Buffer.from(b)),
    fc.string({ maxLength: 500 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => json(v)).filter((s) => !s.startsWith('{"v":1')),
    base.map(({ first, n }) => json({ ...validBatch(first, n, now), v: 2 })),
    base.map(({ first, n }) => json({ ...validBatch(first, n, now), seq: [first, first + n] })),
    base.map(({ first, n }) => json({ ...validBatch(first, n, now), gw: 'gw-fuzz-02' })),
    base.map(({ first, n }) => json({ ...validBatch(first, n, now), extra: true })),
    base.map(({ first, n }) => json({ ...validBatch(first, n, now), seq: [-first, n] })),
    fc.constant(json({ v: 1, gw: GW, seq: [1, 0], readings: [] })),
    fc.tuple(base, fc.constantFrom<unknown>('1.2', {}, [], 'NaN', true && '∞')).map(([{ first }, value]) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), value }] })),
    fc.tuple(base, fc.constantFrom<unknown>(-1, 1.5, '2026', null)).map(([{ first }, ts]) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), ts }] })),
    fc.tuple(base, fc.constantFrom(...SQLISH)).map(([{ first }, dev]) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), dev }] })),
    fc.tuple(base, fc.constantFrom(...SQLISH)).map(([{ first }, metric]) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), metric }] })),
    base.map(({ first }) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), q: 'excellent' }] })),
    base.map(({ first }) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), unit: 'm'.repeat(100) }] })),
    // A number JSON.parse turns into Infinity: refused by the schema (finite numbers only).
    base.map(({ first }) => json({ ...validBatch(first, 1, now), readings: [{ ...validReading(now), value: 0 }] }).replace('"value":0', '"value":1e400')),
    // Too many readings for one batch (MAX_BATCH_READINGS), about 0.6 MB.
    base.map(({ first }) => json(validBatch(first, 5001, now))),
    // Deep nesting.
    fc.integer({ min: 1000, max: 20000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  );
}

function mutatedEvent(): fc.Arbitrary<string> {
  const now = Date.now();
  const json = (o: unknown) => JSON.stringify(o);
  return fc.oneof(
    fc.constant(json({ v: 1, kind: 'dropped', ts: now, ranges: [[5, 2]], count: 1, reason: 'cap' })),
    fc.constant(json({ v: 1, kind: 'dropped', ts: now, ranges: [], count: 1, reason: 'cap' })),
    fc.constant(json({ v: 1, kind: 'dropped', ts: now, ranges: [[0, 3]], count: 4, reason: 'cap' })),
    fc.constant(json({ v: 1, kind: 'device', ts: now, dev: DEV, event: 'x'.repeat(65) })),
    fc.constant(json({ v: 1, kind: 'device', ts: now, dev: SQLISH[0], event: 'tamper' })),
    fc.constant(json({ v: 1, kind: 'nuke', ts: now })),
    fc.string({ maxLength: 200 }),
  );
}

function mutatedStatus(): fc.Arbitrary<string> {
  const json = (o: unknown) => JSON.stringify(o);
  return fc.oneof(
    fc.constant(json({ online: 'yes' })),
    fc.constant(json({ v: 1, online: true, outbox: { depth: -1 } })),
    fc.constant(json({ v: 1, online: true, drivers: [{ dev: SQLISH[0], driver: 'm', state: 'ok' }] })),
    fc.constant(json({ v: 1, online: true, uptimeS: 1 }).replace('"uptimeS":1', '"uptimeS":1e400')),
    fc.string({ maxLength: 100 }),
  );
}

test('hostile MQTT and HTTP input: refused and counted, nothing stored, no crash, bounded memory', { timeout: 600_000 }, async (t) => {
  console.log(`# fuzz seed ${SEED} (FUZZ_SEED=… to vary)`);
  const dir = mkdtempSync(join(tmpdir(), 'ioc-fuzz-'));
  const procs: Proc[] = [];
  t.after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });
  const site = { dir, gatewayId: GW, devices: [{ id: DEV, profile: 'radar-water-level', port: 1, name: 'Trạm thử' }], openApi: false };
  // A short CONNECT (and TLS handshake) timeout: garbage that looks like the start of a TLS record
  // holds its socket until then; refused and counted either way.
  const cfgFile = writeHubConfig({ ...site, hubExtra: { mqtt: { host: '127.0.0.1', port: 0, connectTimeoutMs: 2000 } } });
  const PW = 'fuzz-password-2026';
  const key = await provisionPeople(cfgFile, [{ username: 'op', password: PW, role: 'operator', areas: '*', name: 'op' }]);
  const hub = startHubProc(cfgFile, { retain: 200 });
  procs.push(hub);
  const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
  const base = `http://127.0.0.1:${ready.httpPort}`;
  const auth = { authorization: `Bearer ${key}` };
  const metrics = async () => (await (await fetch(`${base}/metrics`, { headers: auth })).text());
  const pid = hub.child.pid!;
  const pki = String(ready.pkiDir);
  const ca = readFileSync(join(pki, 'ca.crt'));
  const cert = readFileSync(join(pki, 'clients', `${GW}.crt`));
  const certKey = readFileSync(join(pki, 'clients', `${GW}.key`));

  const gw = await mqtt.connectAsync(`mqtts://localhost:${ready.mqttPort}`, { clientId: GW, ca, cert, key: certKey, protocolVersion: 4, reconnectPeriod: 0 });
  const rssBefore = rssKiB(pid);
  const rejectedBefore = metricSum(await metrics(), 'ioc_hub_rejected_total');

  // 1. From an enrolled gateway: hostile payloads on its own topics.
  const payloads = fc.sample(
    fc.oneof(
      { weight: 6, arbitrary: mutatedTelemetry().map((p) => ['telemetry', p] as const) },
      { weight: 2, arbitrary: mutatedEvent().map((p) => ['events', p] as const) },
      { weight: 2, arbitrary: mutatedStatus().map((p) => ['status', p] as const) },
    ),
    { numRuns: MQTT_PAYLOADS, seed: SEED },
  );
  // The hub must keep this gateway's link through all of it: a close fails the test at once.
  const linkLost = new Promise<never>((_, reject) => gw.once('close', () => reject(new Error('the hub closed the enrolled gateway\'s connection during the payload fuzz'))));
  linkLost.catch(() => undefined);
  for (let i = 0; i < payloads.length; i += 50) {
    await Promise.race([linkLost, Promise.all(payloads.slice(i, i + 50).map(([kind, p]) => gw.publishAsync(`ioc/v1/${GW}/${kind}`, p, { qos: 1 })))]);
    if ((i + 50) % 1000 === 0) console.log(`# ${i + 50} payloads published`);
  }
  let missing = 0;
  const rejected = await until(async () => {
    const n = metricSum(await metrics(), 'ioc_hub_rejected_total') - rejectedBefore;
    if (n >= MQTT_PAYLOADS) return n;
    missing = MQTT_PAYLOADS - n;
    return undefined;
  }, `every one of ${MQTT_PAYLOADS} hostile payloads to be counted as rejected`, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${missing} not counted; hub said: ${hub.logs.filter((l) => l.level !== 30 || /stored|accepted|quarantin|out_of_range/.test(String(l.msg))).slice(-5).map((l) => JSON.stringify(l)).join('\n')}`);
  });
  assert.equal(rejected, MQTT_PAYLOADS, 'each payload refused exactly once');
  assert.equal(gw.connected, true, 'refusing a payload never cost the gateway its link');

  // 2. Sockets without a certificate, or not speaking TLS at all, writing garbage.
  const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 4096 }), { numRuns: RAW_CONNECTIONS, seed: SEED + 1 });
  const refusedBefore = metricSum(await metrics(), 'ioc_hub_broker_refused_total');
  const lingered: string[] = [];
  for (let i = 0; i < garbage.length; i += 25) {
    await Promise.all(
      garbage.slice(i, i + 25).map(
        (bytes, j) =>
          new Promise<void>((resolve) => {
            const plain = (i + j) % 2 === 0;
            const sock = plain
              ? netConnect({ host: '127.0.0.1', port: Number(ready.mqttPort) }, () => sock.write(bytes))
              : tlsConnect({ host: '127.0.0.1', port: Number(ready.mqttPort), ca, servername: 'localhost' }, () => sock.write(bytes));
            // The hub closes every one of these by itself within its CONNECT timeout (2 s here).
            sock.setTimeout(8_000, () => {
              lingered.push(`${plain ? 'tcp' : 'tls'}:${Buffer.from(bytes.slice(0, 8)).toString('hex')}`);
              sock.destroy();
            });
            sock.on('error', () => undefined);
            // Read what the hub answers (a TLS alert): a paused socket would never see its close.
            sock.resume();
            sock.on('close', () => resolve());
          }),
      ),
    );
  }
  const refused = metricSum(await metrics(), 'ioc_hub_broker_refused_total') - refusedBefore;
  assert.deepEqual(lingered.slice(0, 10), [], `${lingered.length} sockets were still open after 8 s`);
  assert.ok(refused >= RAW_CONNECTIONS * 0.95, `connections without a valid certificate are refused and counted (${refused} of ${RAW_CONNECTIONS})`);

  // 3. HTTP: a session (for CSRF), forged credentials, hostile paths, queries and bodies.
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'op', password: PW }) });
  assert.equal(login.status, 200);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const paths = ['/api/v1/devices', `/api/v1/devices/${DEV}`, '/api/v1/readings', '/api/v1/alerts', '/api/v1/alerts/1/ack', '/api/v1/alerts/1/resolve', '/api/v1/gateways', `/api/v1/gateways/${GW}/seqs`, '/api/v1/users', '/api/v1/api-keys', '/api/v1/audit', '/api/v1/auth/login', '/api/v1/auth/mfa/confirm', '/metrics'];
  const hostile = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
    path: fc.oneof(
      fc.constantFrom(...paths),
      fc.tuple(fc.constantFrom(...paths), fc.constantFrom('/../../../etc/passwd', '/%2e%2e/%2e%2e/hub.db', '/..%2f..%2fsecret.key', "/' OR 1=1--", '/%00', '/' + 'a'.repeat(3000))).map(([a, b]) => a + b),
    ),
    query: fc.oneof(fc.constant(''), fc.constantFrom(...SQLISH, 'dev=wl-fuzz&metric=water_level&limit=-1', 'dev[]=1', 'limit=1e400', 'from=abc', '__proto__[x]=1').map((q) => '?' + encodeURI(q))),
    cred: fc.constantFrom('none', 'forged-cookie', 'forged-key', 'session-no-csrf', 'session-bad-csrf', 'key'),
    body: fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 300 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.constantFrom('{"username":', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"note":' + JSON.stringify('x'.repeat(2000)) + '}', 'x'.repeat(100_000)),
    ),
  });
  const reqs = fc.sample(hostile, { numRuns: HTTP_REQUESTS, seed: SEED + 2 });
  const statuses = new Map<number, number>();
  for (let i = 0; i < reqs.length; i += 20) {
    await Promise.all(
      reqs.slice(i, i + 20).map(async (r) => {
        const headers: Record<string, string> = {};
        if (r.body !== undefined) headers['content-type'] = 'application/json';
        if (r.cred === 'forged-cookie') headers.cookie = 'ioc_session=' + 'A'.repeat(43);
        if (r.cred === 'forged-key') headers.authorization = 'Bearer ioc_0000000000000000.' + 'B'.repeat(43);
        if (r.cred.startsWith('session')) headers.cookie = cookie;
        if (r.cred === 'session-bad-csrf') headers['x-csrf-token'] = 'nope';
        if (r.cred === 'key') Object.assign(headers, auth);
        const res = await fetch(base + r.path + r.query, { method: r.method, headers, ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}) });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `${r.method} ${r.path}${r.query} (${r.cred}) → ${res.status}: ${text.slice(0, 200)}`);
        assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
        const unsafe = r.method !== 'GET';
        if (r.cred === 'none' || r.cred.startsWith('forged')) {
          // Nobody: only the public routes answer, and login never succeeds with fuzz. A path that
          // is not the API's (`..` segments resolve away) may get the consoles' page: no data in it.
          const consolePage = r.method === 'GET' && /text\/html/.test(res.headers.get('content-type') ?? '') && text.includes('<div id="app">');
          assert.ok(res.status >= 400 || consolePage, `${r.method} ${r.path} without valid credentials → ${res.status}`);
        }
        if (unsafe && r.cred.startsWith('session') && res.status < 400) assert.fail(`${r.method} ${r.path} with a session but no valid CSRF token → ${res.status}`);
      }),
    );
  }
  console.log(`# HTTP statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);

  // Nothing invalid stored; the hub still serves an honest gateway.
  const readings = await (await fetch(`${base}/api/v1/readings?dev=${DEV}&metric=water_level`, { headers: auth })).json() as { readings: unknown[] };
  assert.equal(readings.readings.length, 0, 'no hostile reading was stored');
  const quarantine = await (await fetch(`${base}/api/v1/gateways/${GW}/quarantine`, { headers: auth })).json() as { quarantine: unknown[] };
  assert.equal(quarantine.quarantine.length, 0);
  const acks: number[] = [];
  await gw.subscribeAsync(`ioc/v1/${GW}/ack`, { qos: 1 });
  gw.on('message', (_t, p) => acks.push((JSON.parse(p.toString()) as { upTo: number }).upTo));
  await gw.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(validBatch(1, 3, Date.now() - 1000)), { qos: 1 });
  await until(() => acks.includes(3), 'the honest batch to be acknowledged');
  assert.equal((await (await fetch(`${base}/api/v1/readings?dev=${DEV}&metric=water_level`, { headers: auth })).json() as { readings: unknown[] }).readings.length, 3);
  await gw.endAsync();

  const rssAfter = rssKiB(pid);
  console.log(`# hub VmRSS ${Math.round(rssBefore / 1024)} MiB before, ${Math.round(rssAfter / 1024)} MiB after ${MQTT_PAYLOADS + RAW_CONNECTIONS + HTTP_REQUESTS} hostile inputs`);
  assert.ok(rssAfter - rssBefore < 128 * 1024, `memory stays bounded: +${Math.round((rssAfter - rssBefore) / 1024)} MiB`);
  assert.equal(hub.child.exitCode, null, 'the hub is still running');
  const health = await fetch(`${base}/api/v1/health`);
  assert.equal(health.status, 200);
});
