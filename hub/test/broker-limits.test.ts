/**
 * What a client with a valid certificate still cannot do to the hub's broker, over real TLS:
 * announce a huge packet (refused from its fixed header, before it is buffered), hold a
 * connection without CONNECT, open more than maxConnections, speak TLS 1.1, publish faster than
 * its rate cap (delayed, nothing lost). Each is counted and the hub keeps serving the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import type { MqttClient } from 'mqtt';
import { startHub, type Hub } from '../src/hub.js';
import type { HubConfig } from '../src/config/schema.js';
import { FrameScanner } from '../src/broker/frame-guard.js';
import { MAX_WAIT_MS, RateLimiter, UNGROUPED_COST, messageCost } from '../src/broker/rate-limit.js';
import { GW, GW2, KIM_LONG, batch, collect, connectGateway, metricValue, silentLogger, tempDir, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

const T0 = Date.now() - 60_000;
const topic = (gw: string, kind: string) => `ioc/v1/${gw}/${kind}`;

type T = { after(fn: () => unknown): void };

async function hubWith(t: T, mqtt: HubConfig['mqtt']): Promise<Hub> {
  const { dir, cleanup } = tempDir();
  const hub = await startHub(testConfig(dir, { mqtt: { host: '127.0.0.1', port: 0, ...mqtt } }), { logger: silentLogger() });
  t.after(async () => {
    await hub.close();
    cleanup();
  });
  return hub;
}

const metric = async (hub: Hub, name: string, labels: Record<string, string>) => metricValue(await hub.metrics.registry.metrics(), name, labels) ?? 0;

/** A raw TLS connection presenting `cn`'s certificate of the hub's demo PKI. */
async function rawTls(hub: Hub, cn: string | null, extra: tls.ConnectionOptions = {}): Promise<TLSSocket> {
  const pki = hub.pkiDir!;
  const socket = tls.connect({
    host: '127.0.0.1', port: hub.mqttPort, servername: 'localhost',
    ca: readFileSync(join(pki, 'ca.crt')),
    ...(cn ? { cert: readFileSync(join(pki, 'clients', `${cn}.crt`)), key: readFileSync(join(pki, 'clients', `${cn}.key`)) } : {}),
    ...extra,
  });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  return socket;
}

/** MQTT remaining-length encoding (1–4 bytes). */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** An MQTT 3.1.1 CONNECT, clean session, keepalive 60 s. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 60, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

const closedSocket = (s: TLSSocket) => (s.closed ? Promise.resolve() : once(s, 'close').then(() => undefined));

/** A gateway that subscribes to its ack topic, publishes one reading at `seq` and waits for the ack covering it. */
async function storesOne(hub: Hub, gw: string, dev: string, seq: number): Promise<void> {
  const c = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: gw });
  try {
    const acks = collect(c, topic(gw, 'ack'));
    await c.subscribeAsync(topic(gw, 'ack'), { qos: 1 });
    await acks.next();
    await c.publishAsync(topic(gw, 'telemetry'), JSON.stringify(batch(gw, seq, [wl(0.5, T0 + seq, 'good', dev)])), { qos: 1 });
    for (;;) if (((await acks.next()) as { upTo: number }).upTo >= seq) break;
  } finally {
    c.end(true);
  }
}

test('frame scanner: follows packets across chunk boundaries; refuses a length over the limit as soon as it is known, and a fifth length byte', () => {
  const s = new FrameScanner(1000, 100);
  // CONNECT of 20 bytes split in three chunks, then (accepted) two PUBLISHes of 1000 and 0 bytes.
  const connect = Buffer.from([0x10, 20, ...Buffer.alloc(20)]);
  assert.equal(s.scan(connect.subarray(0, 1)), null);
  assert.equal(s.scan(connect.subarray(1, 5)), null);
  assert.equal(s.scan(connect.subarray(5)), null);
  assert.equal(s.packets, 1);
  s.accepted = true;
  const pub = Buffer.concat([Buffer.from([0x30, ...varint(1000)]), Buffer.alloc(1000), Buffer.from([0x30, 0])]);
  for (let i = 0; i < pub.length; i += 7) assert.equal(s.scan(pub.subarray(i, i + 7)), null);
  assert.equal(s.packets, 3);
  assert.deepEqual(s.scan(Buffer.from([0x30, ...varint(1001)])), { reason: 'oversize', remainingLength: 1001, limit: 1000 });

  const first = new FrameScanner(1000, 100);
  assert.deepEqual(first.scan(Buffer.from([0x10, ...varint(101)])), { reason: 'oversize', remainingLength: 101, limit: 100 }, 'the CONNECT has its own, smaller limit');
  const pipelined = new FrameScanner(1000, 100);
  assert.equal(pipelined.scan(connect), null);
  assert.equal(pipelined.scan(Buffer.from([0x30, ...varint(101)]))?.limit, 100, 'so has a PUBLISH pipelined behind it before the broker accepted the client');
  // 200 MiB: refused at its second length byte (a third one follows, so at least 128² bytes),
  // before the rest of the length has even arrived.
  const huge = new FrameScanner(1000, 100);
  huge.scan(connect);
  huge.accepted = true;
  assert.deepEqual(huge.scan(Buffer.from([0x30, ...varint(200 * 1024 * 1024)]).subarray(0, 3)), { reason: 'oversize', remainingLength: 128 * 128, limit: 1000 });
  assert.deepEqual(new FrameScanner(1 << 30, 1 << 30).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), { reason: 'malformed', remainingLength: 268_435_455, limit: 1 << 30 });
});

test('rate limiter: burst at once, then the rate; a status costs more; a debt past MAX_WAIT_MS is refused', () => {
  let now = 0;
  const rl = new RateLimiter(100, 10, () => now);
  for (let i = 0; i < 10; i++) assert.deepEqual(rl.take(GW, 1), { wait: 0 });
  assert.deepEqual(rl.take(GW, 1), { wait: 10 }, 'one token owed at 100/s: 10 ms');
  assert.deepEqual(rl.take(GW, 1), { wait: 20 });
  assert.deepEqual(rl.take(GW2, 1), { wait: 0 }, 'buckets are per gateway');
  now = 1000;
  assert.deepEqual(rl.take(GW, 1), { wait: 0 }, 'refilled (up to the burst)');
  assert.equal(messageCost('telemetry'), 1);
  assert.equal(messageCost('status'), UNGROUPED_COST);
  const r = rl.take(GW, 100 * (MAX_WAIT_MS / 1000) + 100);
  assert.ok('refuse' in r);
  assert.deepEqual(rl.take(GW, 1), { wait: 0 }, 'a refused take leaves the bucket as it was');
});

test('a packet announcing 200 MiB is refused from its fixed header: connection closed, counted, hub memory flat, other gateways served', { timeout: 60_000 }, async (t) => {
  const hub = await hubWith(t, { maxPayloadBytes: 64 * 1024 });
  const socket = await rawTls(hub, GW);
  socket.write(connectPacket(GW));
  const connack = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  assert.deepEqual([...connack], [0x20, 2, 0, 0], 'an authenticated MQTT client');

  const before = process.memoryUsage();
  socket.write(Buffer.from([0x30, ...varint(200 * 1024 * 1024)]));
  // Then dribble: without the guard aedes would hold all of this, waiting for the rest.
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  while (!socket.destroyed && written < 32 * 1024 * 1024) {
    if (!socket.write(chunk)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
    written += chunk.length;
  }
  assert.ok(socket.destroyed, `the hub still read after ${written} bytes of the 200 MiB packet`);
  await closedSocket(socket);
  const after = process.memoryUsage();
  const grew = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  assert.ok(grew < 16 * 1024 * 1024, `the hub held the dribbled bytes: memory grew by ${(grew / 1048576).toFixed(1)} MiB`);
  assert.equal(await metric(hub, 'ioc_hub_broker_refused_total', { action: 'packet', reason: 'oversize' }), 1);
  assert.equal(await metric(hub, 'ioc_hub_rejected_total', { reason: 'oversize' }), 1);

  // Before CONNECT the limit is the CONNECT's own: a client need not even authenticate to be refused.
  const early = await rawTls(hub, GW2);
  early.write(Buffer.from([0x10, ...varint(1024 * 1024)]));
  await closedSocket(early);
  assert.equal(await metric(hub, 'ioc_hub_broker_refused_total', { action: 'packet', reason: 'oversize' }), 2);
  // Nor can it pipeline large packets behind its CONNECT for aedes to queue while it authenticates:
  // 100 KiB is within the connected limit (64 KiB payload + 64 KiB), not before CONNACK.
  const pipelined = await rawTls(hub, GW2);
  pipelined.write(Buffer.concat([connectPacket(GW2), Buffer.from([0x30, ...varint(100 * 1024)])]));
  await closedSocket(pipelined);
  assert.equal(await metric(hub, 'ioc_hub_broker_refused_total', { action: 'packet', reason: 'oversize' }), 3);

  await storesOne(hub, GW2, 'wl-other', 1);
  await storesOne(hub, GW, KIM_LONG, 1);
});

test('a TLS client that never sends CONNECT is closed after connectTimeoutMs, counted', { timeout: 30_000 }, async (t) => {
  const hub = await hubWith(t, { connectTimeoutMs: 300 });
  const socket = await rawTls(hub, GW);
  await closedSocket(socket);
  await until(async () => (await metric(hub, 'ioc_hub_broker_refused_total', { action: 'connect', reason: 'connect_timeout' })) === 1, 'the timeout to be counted');
  await storesOne(hub, GW, KIM_LONG, 1);
});

test('TLS below 1.2 is refused in the handshake, counted', { timeout: 30_000 }, async (t) => {
  const hub = await hubWith(t, {});
  const pki = hub.pkiDir!;
  // OpenSSL 3 still builds a TLS 1.1 client at security level 0; the hub's minVersion refuses it.
  const old = tls.connect({
    host: '127.0.0.1', port: hub.mqttPort, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0',
    ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'clients', `${GW}.crt`)), key: readFileSync(join(pki, 'clients', `${GW}.key`)),
  });
  const [err] = (await once(old, 'error')) as [Error & { code?: string }];
  assert.match(`${err.code} ${err.message}`, /protocol version|unsupported protocol|TLSV1_ALERT_PROTOCOL_VERSION|WRONG_VERSION/i);
  old.destroy();
  await until(async () => (await metric(hub, 'ioc_hub_broker_refused_total', { action: 'connect', reason: 'tls' })) >= 1, 'the TLS refusal to be counted');
  const modern = await rawTls(hub, GW, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  assert.equal(modern.getProtocol(), 'TLSv1.2', 'TLS 1.2 itself is accepted');
  modern.destroy();
});

test('mqtt.maxConnections: one connection too many is closed at accept, counted; a slot that frees up is usable again', { timeout: 30_000 }, async (t) => {
  const hub = await hubWith(t, { maxConnections: 2 });
  const clients: MqttClient[] = [];
  t.after(() => clients.forEach((c) => c.end(true)));
  clients.push(await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW }));
  clients.push(await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW2 }));
  await assert.rejects(rawTls(hub, GW), 'the third connection never completes its handshake');
  await until(async () => (await metric(hub, 'ioc_hub_broker_refused_total', { action: 'connect', reason: 'max_connections' })) === 1, 'the refusal to be counted');
  clients.shift()!.end(true);
  await until(() => hub.metrics.registry.getSingleMetric('ioc_hub_broker_clients') && (async () => (await metric(hub, 'ioc_hub_broker_clients', {})) === 1)(), 'the slot to free up');
  await until(async () => {
    try {
      await storesOne(hub, GW, KIM_LONG, 1);
      return true;
    } catch {
      return false; // the server may not have seen the close yet
    }
  }, 'a new connection to get through', 10_000);
});

test('rate cap: a gateway publishing faster than messagesPerS is slowed down, not cut off: everything is stored, counted as delayed', { timeout: 60_000 }, async (t) => {
  const hub = await hubWith(t, { rateLimit: { messagesPerS: 50, burst: 10 } });
  const c = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW });
  t.after(() => c.end(true));
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  await acks.next();
  const started = performance.now();
  const n = 60;
  await Promise.all(Array.from({ length: n }, (_, i) => c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, i + 1, [wl(0.5, T0 + i)])), { qos: 1 })));
  const elapsed = performance.now() - started;
  await until(() => hub.store.upTo(GW) === n, 'every batch to be stored');
  assert.ok(c.connected, 'the connection stays up');
  // 10 at once (the burst), the other 50 at 50/s: at least a second, however fast the machine.
  assert.ok(elapsed >= 900, `60 publishes took ${elapsed.toFixed(0)} ms: not slowed to the cap`);
  assert.ok((await metric(hub, 'ioc_hub_broker_rate_limited_total', { gw: GW })) >= n - 10 - 5);
  assert.equal(await metric(hub, 'ioc_hub_broker_refused_total', { action: 'publish', reason: 'rate_limit' }), 0);
});
