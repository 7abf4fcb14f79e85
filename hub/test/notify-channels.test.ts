/**
 * Each notification channel against a real receiver, through the conformance suite
 * (./notify-conformance.ts) and then what is particular to it: the webhook's signature a receiver
 * verifies, what an SMTP server receives (recipients, subject with diacritics, Vietnamese first),
 * what an MQTT client subscribed to the broker gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { SMTPServer } from 'smtp-server';
import type { Bus } from '../src/broker/bus.js';
import { InProcessBus } from '../src/broker/in-process-bus.js';
import { emailChannel, type EmailOptions } from '../src/notify/channels/email.js';
import { mqttChannel, type MqttOptions } from '../src/notify/channels/mqtt.js';
import { CHANNEL_TYPES } from '../src/notify/channels/registry.js';
import { NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature, webhookChannel, type WebhookOptions } from '../src/notify/channels/webhook.js';
import type { ChannelCommon, Notification, NotifierDeps } from '../src/notify/types.js';
import { closedPort } from '../../test/lib/ports.js';
import { channelConformance, ctx, hostileNotification, type ChannelHarness, type HarnessContext } from './notify-conformance.js';
import { channelConfig, notification } from './notify-fixtures.js';
import { capturingLogger, silentLogger, tempDir } from './helpers.js';
import { until } from '../../test/lib/until.js';

const deps = (over: Partial<NotifierDeps> = {}): NotifierDeps => ({ logger: silentLogger(), version: 'test', ...over });
const common = (id: string, type: string, over: Partial<ChannelCommon> = {}) => channelConfig({ id, type, timeoutMs: 3000, ...over }) as ChannelCommon;

// -- webhook -----------------------------------------------------------------------------------

const SECRET = 'whsec-7f3a9c1e5b2d4f60a8c9e1b3d5f7a9c1';

function secretFile(t: HarnessContext, value = SECRET): string {
  const { dir, cleanup } = tempDir('ioc-notify-secret-');
  t.after(cleanup);
  const path = join(dir, 'webhook.secret');
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Answer = (r: Received, res: ServerResponse) => void;

/** A webhook receiver that verifies each request as the README tells receivers to (401 when it does not verify). */
async function httpReceiver(t: HarnessContext, answer: Answer = (_r, res) => res.writeHead(204).end()) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks) };
      got.push(r);
      if (!verifyWebhookSignature(SECRET, r.headers, r.body).ok) return res.writeHead(401).end('bad signature');
      answer(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ioc-alerts`, got };
}

function webhook(t: HarnessContext, url: string, over: Partial<ChannelCommon & WebhookOptions> = {}, d = deps()) {
  return webhookChannel.create({ ...common('hook', 'webhook'), url, secretFile: secretFile(t), ...over }, d);
}

const webhookHarness: ChannelHarness = {
  type: 'webhook',
  async working(t) {
    const rx = await httpReceiver(t);
    const notifier = webhook(t, rx.url);
    return { notifier, received: () => rx.got.filter((r) => verifyWebhookSignature(SECRET, r.headers, r.body).ok).map((r) => JSON.parse(r.body.toString()).id as string) };
  },
  async transient(t) {
    const rx = await httpReceiver(t, (_r, res) => res.writeHead(503).end('maintenance'));
    return { notifier: webhook(t, rx.url) };
  },
  async permanent(t) {
    const rx = await httpReceiver(t, (_r, res) => res.writeHead(422).end('unknown station'));
    return { notifier: webhook(t, rx.url) };
  },
};

// -- email -------------------------------------------------------------------------------------

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback (no TLS: the channel's tls "none" is allowed to loopback only). */
async function smtpReceiver(
  t: HarnessContext,
  o: { login?: { user: string; pass: string }; refuseRcpt?: RegExp; dataError?: { code: number; message: string } } = {},
) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: !o.login,
    allowInsecureAuth: true,
    disabledCommands: o.login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    onAuth(auth, _session, cb) {
      if (o.login && auth.username === o.login.user && auth.password === o.login.pass) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      if (o.refuseRcpt?.test(address.address)) return cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (o.dataError) return cb(Object.assign(new Error(o.dataError.message), { responseCode: o.dataError.code }));
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

function email(port: number, over: Partial<ChannelCommon & EmailOptions> = {}, d = deps()) {
  return emailChannel.create(
    { ...common('duty-mail', 'email'), host: '127.0.0.1', port, tls: 'none', from: 'IOC Thừa Thiên Huế <ioc@hue.test>', to: ['truc-ban@hue.test', 'pctt@hue.test'], ...over },
    d,
  );
}

/** Headers (unfolded, RFC 2047 words decoded) and the decoded text parts of a MIME message. */
function parseMail(raw: string): { headers: Map<string, string>; text: string; html: string } {
  const split = (msg: string) => {
    const i = msg.indexOf('\r\n\r\n');
    const head = msg.slice(0, i).replace(/\r\n[ \t]+/g, ' ');
    const headers = new Map<string, string>();
    for (const line of head.split('\r\n')) {
      const c = line.indexOf(':');
      headers.set(line.slice(0, c).toLowerCase(), decodeWords(line.slice(c + 1).trim()));
    }
    return { headers, body: msg.slice(i + 4) };
  };
  const decodeWords = (v: string) =>
    v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _cs, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : qp(data.replace(/_/g, ' ')),
    );
  const qp = (s: string) => Buffer.from(s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, '%$1').split('%').map((p, i) => (i === 0 ? Buffer.from(p, 'latin1').toString('hex') : p.slice(0, 2) + Buffer.from(p.slice(2), 'latin1').toString('hex'))).join(''), 'hex').toString('utf8');
  const decodeBody = (h: Map<string, string>, body: string) => {
    const te = (h.get('content-transfer-encoding') ?? '').toLowerCase();
    return te === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : te === 'quoted-printable' ? qp(body) : body;
  };
  const top = split(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(top.headers.get('content-type') ?? '')?.[1];
  let text = '';
  let html = '';
  for (const part of boundary ? top.body.split(`--${boundary}`).slice(1, -1) : []) {
    const p = split(part.replace(/^\r\n/, ''));
    const type = p.headers.get('content-type') ?? '';
    if (type.startsWith('text/plain')) text = decodeBody(p.headers, p.body);
    if (type.startsWith('text/html')) html = decodeBody(p.headers, p.body);
  }
  return { headers: top.headers, text, html };
}

const emailHarness: ChannelHarness = {
  type: 'email',
  async working(t) {
    const rx = await smtpReceiver(t);
    return { notifier: email(rx.port), received: () => rx.mails.map((m) => parseMail(m.raw).headers.get('x-ioc-notification-id')!) };
  },
  async transient(t) {
    const rx = await smtpReceiver(t, { dataError: { code: 451, message: 'Requested action aborted: local error in processing' } });
    return { notifier: email(rx.port) };
  },
  async permanent(t) {
    const rx = await smtpReceiver(t, { refuseRcpt: /@hue\.test$/ });
    return { notifier: email(rx.port) };
  },
};

// -- mqtt --------------------------------------------------------------------------------------

/** A plain MQTT broker (aedes, no ACL) on loopback, the hub's in-process bus over it, and a real client subscribed to the alert topics. */
async function mqttReceiver(t: HarnessContext) {
  const aedes = await Aedes.createBroker();
  const server = createTcpServer((socket) => aedes.handle(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const bus = new InProcessBus(aedes, silentLogger());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, { clientId: 'province-ews', protocolVersion: 4, reconnectPeriod: 0 });
  const got: Array<{ topic: string; qos: number; body: Notification & { version: number } }> = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, qos: packet.qos, body: JSON.parse(payload.toString()) }));
  await client.subscribeAsync('ioc/v1/alerts/#', { qos: 1 });
  t.after(async () => {
    await client.endAsync(true);
    await bus.close();
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { bus, got };
}

const mqttNotifier = (bus: Bus | undefined, over: Partial<MqttOptions> = {}) =>
  mqttChannel.create({ ...common('province-mqtt', 'mqtt'), area: 'commune', ...over }, deps(bus ? { bus } : {}));

const mqttHarness: ChannelHarness = {
  type: 'mqtt',
  async working(t) {
    const rx = await mqttReceiver(t);
    return { notifier: mqttNotifier(rx.bus), received: () => rx.got.map((m) => m.body.id) };
  },
  async transient() {
    const failing = { publish: async () => Promise.reject(new Error('broker is closing')), subscribe: async () => undefined, close: async () => undefined } as Bus;
    return { notifier: mqttNotifier(failing) };
  },
  async permanent(t) {
    const rx = await mqttReceiver(t);
    return { notifier: mqttNotifier(rx.bus), notification: notification({ area: { communeCode: null, provinceCode: null } }) };
  },
};

// -- the suite, for every registered channel type ----------------------------------------------

const HARNESSES: ChannelHarness[] = [webhookHarness, emailHarness, mqttHarness];

test('every registered channel type has a conformance harness', () => {
  assert.deepEqual(CHANNEL_TYPES.map((c) => c.type).sort(), HARNESSES.map((h) => h.type).sort());
});

for (const h of HARNESSES) channelConformance(h);

// -- webhook particulars -----------------------------------------------------------------------

test('webhook: a receiver verifies the HMAC over timestamp and raw body; a tampered body or a stale timestamp does not verify', async (t) => {
  const rx = await httpReceiver(t);
  const n = notification();
  const o = await webhook(t, rx.url).deliver(n, { deliveryId: 42, attempt: 3, signal: new AbortController().signal });
  assert.deepEqual(o, { ok: true, detail: 'HTTP 204' });
  const r = rx.got[0]!;
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers[NOTIFICATION_ID_HEADER], n.id);
  assert.equal(r.headers['x-ioc-delivery-id'], '42');
  assert.equal(r.headers['x-ioc-attempt'], '3');
  assert.match(String(r.headers[SIGNATURE_HEADER]), /^sha256=[0-9a-f]{64}$/);
  const body = JSON.parse(r.body.toString());
  assert.equal(body.version, 1);
  assert.equal(body.message.vi, n.message.vi);
  assert.deepEqual(verifyWebhookSignature(SECRET, r.headers, r.body), { ok: true });
  const ts = Number(r.headers[TIMESTAMP_HEADER]);
  assert.deepEqual(verifyWebhookSignature(SECRET, r.headers, Buffer.from(r.body.toString().replace('Kim Long', 'Kim Lông'))), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifyWebhookSignature('another-secret', r.headers, r.body), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifyWebhookSignature(SECRET, r.headers, r.body, ts + 301), { ok: false, reason: 'stale' }, 'a replay 5 minutes later is refused');
  assert.deepEqual(verifyWebhookSignature(SECRET, { ...r.headers, [TIMESTAMP_HEADER]: String(ts + 1) }, r.body), { ok: false, reason: 'mismatch' }, 'the timestamp is signed');
  assert.deepEqual(verifyWebhookSignature(SECRET, {}, r.body), { ok: false, reason: 'missing' });
});

test('webhook: status classes — 408, 429 (Retry-After), 5xx, 3xx and timeouts retry; other 4xx are permanent', async (t) => {
  let status = 0;
  const rx = await httpReceiver(t, (_r, res) => {
    if (status === 0) return; // never answers
    res.writeHead(status, status === 429 ? { 'retry-after': '7' } : status === 301 ? { location: 'http://example.invalid/' } : {}).end(`status ${status}`);
  });
  const hook = webhook(t, rx.url, { timeoutMs: 200 });
  const outcome = async (s: number) => {
    status = s;
    return hook.deliver(notification(), ctx());
  };
  assert.deepEqual(await outcome(429), { ok: false, permanent: false, error: 'HTTP 429: status 429', retryAfterMs: 7000 });
  for (const s of [408, 500, 502, 503, 301]) assert.equal((await outcome(s) as { permanent: boolean }).permanent, false, `HTTP ${s}`);
  for (const s of [400, 403, 404, 410, 422]) assert.equal((await outcome(s) as { permanent: boolean }).permanent, true, `HTTP ${s}`);
  const slow = await outcome(0);
  assert.deepEqual(slow, { ok: false, permanent: false, error: 'no answer within 200 ms' });
  const down = await webhook(t, `http://127.0.0.1:${await closedPort()}/x`).deliver(notification(), ctx());
  assert.ok(!down.ok && !down.permanent && down.error.startsWith('ECONNREFUSED'), JSON.stringify(down));
});

test('webhook: without its secret nothing is sent unsigned, and the secret never reaches the log', async (t) => {
  const rx = await httpReceiver(t);
  const { logger, lines } = capturingLogger('debug');
  const missing = webhookChannel.create({ ...common('hook', 'webhook'), url: rx.url, secretEnv: 'IOC_TEST_UNSET_WEBHOOK_SECRET' }, deps({ logger }));
  const o = await missing.deliver(notification(), ctx());
  assert.deepEqual(o, { ok: false, permanent: false, error: 'not sent: environment variable IOC_TEST_UNSET_WEBHOOK_SECRET is not set' });
  assert.equal(rx.got.length, 0);
  process.env.IOC_TEST_WEBHOOK_SECRET = SECRET;
  t.after(() => delete process.env.IOC_TEST_WEBHOOK_SECRET);
  const fromEnv = webhookChannel.create({ ...common('hook', 'webhook'), url: rx.url, secretEnv: 'IOC_TEST_WEBHOOK_SECRET' }, deps({ logger }));
  assert.equal((await fromEnv.deliver(notification(), ctx())).ok, true);
  const loose = secretFile(t);
  chmodSync(loose, 0o644);
  webhookChannel.create({ ...common('hook', 'webhook'), url: rx.url, secretFile: loose }, deps({ logger }));
  assert.ok(lines.some((l) => /readable by others/.test(l.msg)));
  assert.ok(!JSON.stringify(lines).includes(SECRET));
});

// -- email particulars -------------------------------------------------------------------------

test('email: recipients, a subject with Vietnamese diacritics, Vietnamese first and English below, plain text and HTML', async (t) => {
  const rx = await smtpReceiver(t);
  const n = notification({ exercise: true, area: { communeCode: '19816', provinceCode: '46', name: 'Phường Kim Long' } });
  assert.deepEqual(await email(rx.port).deliver(n, ctx()), { ok: true });
  await until(() => rx.mails.length === 1, 'the mail at the SMTP server');
  const m = rx.mails[0]!;
  assert.equal(m.from, 'ioc@hue.test');
  assert.deepEqual(m.to, ['truc-ban@hue.test', 'pctt@hue.test']);
  const mail = parseMail(m.raw);
  assert.equal(mail.headers.get('subject'), '[DIỄN TẬP] [IOC] Báo động cấp 2 — Trạm Kim Long (sông Hương): 2,12 m');
  assert.equal(mail.headers.get('x-ioc-notification-id'), n.id);
  assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
  const vi = mail.text.indexOf('Báo động cấp 2 — Trạm Kim Long');
  const en = mail.text.indexOf('Alarm level 2 — Kim Long station');
  assert.ok(vi >= 0 && en > vi, `Vietnamese first, English below:\n${mail.text}`);
  assert.match(mail.text, /Mức độ: Trung bình \(cấp 2\)/);
  assert.match(mail.text, /Khu vực: Phường Kim Long, xã\/phường 19816, tỉnh 46/);
  assert.match(mail.text, /\[EXERCISE\] Alarm level 2/);
  assert.match(mail.html, /<div lang="vi">.*Báo động cấp 2.*<\/div><hr><div lang="en">/s);
  // Markup in a message is text, not HTML.
  await email(rx.port).deliver(notification({ ts: 2, message: { vi: '<b>x</b>', en: 'y' } }), ctx());
  await until(() => rx.mails.length === 2, 'the second mail');
  assert.match(parseMail(rx.mails[1]!.raw).html, /&#60;b&#62;x&#60;\/b&#62;/);
  // A line break in a message cannot add a header or a recipient.
  await email(rx.port).deliver(hostileNotification(), ctx());
  await until(() => rx.mails.length === 3, 'the third mail');
  assert.deepEqual(rx.mails[2]!.to, ['truc-ban@hue.test', 'pctt@hue.test']);
  assert.equal(parseMail(rx.mails[2]!.raw).headers.get('bcc'), undefined);
  assert.match(parseMail(rx.mails[2]!.raw).headers.get('subject')!, /^\[IOC\] <script>x<\/script> Bcc: evil@example.com ĐĐĐ/);
});

test('email: logs in with the password from a file; a wrong password is a permanent failure', async (t) => {
  const rx = await smtpReceiver(t, { login: { user: 'ioc', pass: 'mat-khau-dung' } });
  const pw = secretFile(t, 'mat-khau-dung');
  assert.deepEqual(await email(rx.port, { user: 'ioc', passwordFile: pw }).deliver(notification(), ctx()), { ok: true });
  const wrong = await email(rx.port, { user: 'ioc', passwordFile: secretFile(t, 'sai') }).deliver(notification(), ctx());
  assert.ok(!wrong.ok && wrong.permanent, JSON.stringify(wrong));
  assert.match(!wrong.ok ? wrong.error : '', /^EAUTH 535/);
  assert.equal(rx.mails.length, 1);
  const down = await email(await closedPort()).deliver(notification(), ctx());
  assert.ok(!down.ok && !down.permanent, JSON.stringify(down));
});

// -- mqtt particulars --------------------------------------------------------------------------

test('mqtt: a subscribed client gets the notification with QoS 1 on ioc/v1/alerts/{commune} (or the province)', async (t) => {
  const rx = await mqttReceiver(t);
  const n = notification();
  assert.deepEqual(await mqttNotifier(rx.bus).deliver(n, ctx()), { ok: true, detail: 'ioc/v1/alerts/19816' });
  await until(() => rx.got.length === 1, 'the message at the client');
  assert.equal(rx.got[0]!.topic, 'ioc/v1/alerts/19816');
  assert.equal(rx.got[0]!.qos, 1);
  assert.equal(rx.got[0]!.body.version, 1);
  assert.deepEqual(rx.got[0]!.body.message, n.message);
  await mqttNotifier(rx.bus, { area: 'province' }).deliver(n, ctx());
  await mqttNotifier(rx.bus).deliver(notification({ ts: 5, area: { communeCode: null, provinceCode: '46' } }), ctx());
  await until(() => rx.got.length === 3, 'two more');
  assert.deepEqual(rx.got.slice(1).map((m) => m.topic), ['ioc/v1/alerts/46', 'ioc/v1/alerts/46']);
});
