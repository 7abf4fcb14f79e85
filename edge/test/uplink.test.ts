/**
 * The uplink against a real aedes broker over mutual TLS, with an in-process responder standing in
 * for the hub: it stores (gw, seq) once, computes upTo like the hub does and acks on demand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import {
  batchSeqConsistent, createLogger, decodePayload, ensurePki, validateGatewayEvent, validateStatus,
  validateTelemetryBatch, type PkiPaths, type Reading, type Status, type TelemetryBatch,
} from '@ioc/shared';
import type { UplinkConfig } from '../src/config/schema.js';
import { Outbox } from '../src/outbox/index.js';
import { Uplink } from '../src/uplink/index.js';
import { until } from '../../test/lib/until.js';

const GW = 'gw-test-01';
const dir = mkdtempSync(join(tmpdir(), 'ioc-uplink-'));
const pki: PkiPaths = ensurePki(join(dir, 'pki'), { serverNames: ['localhost', '127.0.0.1'], clients: [GW, 'test-observer'] });
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ name: 'uplink-test', level: process.env.LOG_LEVEL ?? 'silent' });

type T = { after(fn: () => unknown): void };

/** aedes behind a TLS server that demands a client certificate whose CN is the client id. */
class Broker {
  readonly cns: string[] = [];
  private constructor(readonly aedes: Aedes, private readonly server: tls.Server, readonly port: number) {}

  static async start(port = 0): Promise<Broker> {
    const aedes = await Aedes.createBroker();
    aedes.authenticate = (client, _u, _p, done) => {
      const cn = (client.conn as TLSSocket).getPeerCertificate().subject?.CN;
      const ok = cn === client.id || (cn === 'test-observer' && client.id.startsWith('test-observer-'));
      if (!ok) return done(Object.assign(new Error('CN mismatch'), { returnCode: 5 }), false);
      if (cn === client.id) broker.cns.push(cn);
      done(null, true);
    };
    const server = tls.createServer({
      key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.caCert),
      requestCert: true, rejectUnauthorized: true,
    }, aedes.handle);
    server.on('tlsClientError', () => {});
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const broker = new Broker(aedes, server, (server.address() as net.AddressInfo).port);
    return broker;
  }

  client(id: string): Client | undefined {
    return (this.aedes as unknown as { clients: Record<string, Client> }).clients[id];
  }

  /** Like a hub host going away: every connection drops, nothing listens. */
  async stop(): Promise<void> {
    await new Promise<void>((res) => this.aedes.close(() => res()));
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** The hub's side of the contract: dedup by seq, upTo over stored or reported-dropped seqs. */
class Hub {
  readonly stored = new Set<number>();
  readonly accounted = new Set<number>();
  readonly batches: TelemetryBatch[] = [];
  readonly statuses: Status[] = [];
  invalid = 0;
  upTo = 0;
  hold = false;
  /** The ranges of each `dropped` event received, in order. */
  readonly dropEvents: Array<Array<[number, number]>> = [];
  /** Batches to ignore, as a broker dropping QoS1 messages to a slow subscriber would. */
  lose = 0;
  private broker: Broker | null = null;

  async attach(b: Broker): Promise<void> {
    this.broker = b;
    const sub = (topic: string, fn: (p: AedesPublishPacket) => void) =>
      new Promise<void>((res) => b.aedes.subscribe(topic, (p, cb) => { fn(p); cb(); }, res));
    await sub('ioc/v1/+/telemetry', (p) => this.onTelemetry(p.payload as Buffer));
    await sub('ioc/v1/+/events', (p) => this.onEvent(p.payload as Buffer));
  }

  sendAck(upTo = this.upTo): Promise<void> {
    return this.publish(JSON.stringify({ upTo }));
  }

  publish(payload: string): Promise<void> {
    const b = this.broker!;
    return new Promise((res) => b.aedes.publish(
      { cmd: 'publish', topic: `ioc/v1/${GW}/ack`, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
      () => res(),
    ));
  }

  private onTelemetry(payload: Buffer): void {
    const r = decodePayload(payload, validateTelemetryBatch);
    if (!r.ok || !batchSeqConsistent(r.value) || r.value.gw !== GW) {
      this.invalid++;
      return;
    }
    this.batches.push(r.value);
    if (this.lose > 0) {
      this.lose--;
      return;
    }
    for (let s = r.value.seq[0]; s <= r.value.seq[1]; s++) {
      this.stored.add(s);
      this.accounted.add(s);
    }
    this.advance();
  }

  private onEvent(payload: Buffer): void {
    const r = decodePayload(payload, validateGatewayEvent);
    if (!r.ok) return void this.invalid++;
    if (r.value.kind !== 'dropped') return;
    this.dropEvents.push(r.value.ranges.map(([a, z]) => [a, z]));
    for (const [a, z] of r.value.ranges) for (let s = a; s <= z; s++) this.accounted.add(s);
    this.advance();
  }

  private advance(): void {
    while (this.accounted.has(this.upTo + 1)) this.upTo++;
    if (!this.hold) void this.sendAck();
  }
}

let observers = 0;
/** Watches retained status the way the hub and other consumers see it. */
async function observe(t: T, port: number): Promise<{ client: MqttClient; msgs: Status[] }> {
  const c = pki.client('test-observer');
  const client = await mqtt.connectAsync(`mqtts://localhost:${port}`, {
    clientId: `test-observer-${++observers}`, ca: readFileSync(pki.caCert), cert: readFileSync(c.cert), key: readFileSync(c.key),
    reconnectPeriod: 0, protocolVersion: 4,
  });
  t.after(() => client.end(true));
  const msgs: Status[] = [];
  client.on('message', (_topic, payload) => {
    const r = decodePayload(payload, validateStatus);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    msgs.push(r.value);
  });
  await client.subscribeAsync(`ioc/v1/${GW}/status`, { qos: 1 });
  return { client, msgs };
}

/** TCP relay that can turn into a black hole: bytes vanish, closes are not passed on (no FIN/RST). */
class Relay {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ a: net.Socket; b: net.Socket; dead: boolean }>();
  refuse = false;
  port = 0;

  constructor(target: number) {
    this.server = net.createServer((down) => {
      if (this.refuse) return void down.destroy();
      const up = net.connect(target, '127.0.0.1');
      const pair = { a: down, b: up, dead: false };
      this.pairs.add(pair);
      down.on('data', (d) => { if (!pair.dead) up.write(d); });
      up.on('data', (d) => { if (!pair.dead) down.write(d); });
      down.on('close', () => { if (!pair.dead) up.destroy(); });
      up.on('close', () => { if (!pair.dead) down.destroy(); });
      down.on('error', () => {});
      up.on('error', () => {});
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.port = (this.server.address() as net.AddressInfo).port);
  }

  /** The link dies silently: established connections go quiet, new ones are refused. */
  blackhole(): void {
    this.refuse = true;
    for (const p of this.pairs) p.dead = true;
  }

  close(): void {
    for (const p of this.pairs) { p.a.destroy(); p.b.destroy(); }
    if (this.server.listening) this.server.close();
  }
}

function config(port: number, over: Partial<UplinkConfig> = {}): Omit<UplinkConfig, 'renewBefore'> {
  const c = pki.client(GW);
  return {
    url: `mqtts://localhost:${port}`, ca: pki.caCert, cert: c.cert, key: c.key, protocolVersion: 4,
    batchSize: 20, lingerMs: 20, maxInflightBatches: 4, ackTimeoutMs: 10_000, keepaliveS: 5,
    backoff: { initialMs: 50, maxMs: 300 }, statusIntervalMs: 60_000, checkServerName: true,
    ...over,
  };
}

let seqReading = 0;
function polls(n: number): Reading[] {
  return Array.from({ length: n }, () => {
    const i = ++seqReading;
    return { dev: 'st-1', metric: 'water_level', value: i / 100, unit: 'm', ts: 1_700_000_000_000 + i, q: 'good' as const };
  });
}

function setup(t: T, port: number, over: Partial<UplinkConfig> = {}, stopTimeoutMs?: number) {
  const outbox = Outbox.open({ path: join(mkdtempSync(join(dir, 'ob-')), 'outbox.db') });
  const uplink = new Uplink({
    gatewayId: GW, config: config(port, over), outbox, logger: log, version: '0.1.0-test',
    drivers: () => [{ dev: 'st-1', driver: 'modbus', state: 'ok', lastReadTs: 1 }],
    ...(stopTimeoutMs ? { stopTimeoutMs } : {}),
  });
  t.after(async () => {
    await uplink.stop();
    outbox.close();
  });
  const append = (n: number): Reading[] => {
    const rs = polls(n);
    outbox.append(rs);
    uplink.notify();
    return rs;
  };
  return { outbox, uplink, append };
}

function seqsOf(batches: TelemetryBatch[]): number[] {
  return batches.flatMap((b) => Array.from({ length: b.seq[1] - b.seq[0] + 1 }, (_, i) => b.seq[0] + i));
}

test('rows leave the outbox only on the hub ack, not on PUBACK; the window is paced by hub acks', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  hub.hold = true;
  const { outbox, uplink, append } = setup(t, broker.port);
  uplink.start();
  await once(uplink, 'connect');
  assert.equal(uplink.linkState(), 'connected');
  assert.deepEqual(broker.cns, [GW], 'mutual TLS: the broker saw the gateway certificate');

  const sent = append(50);
  await until(() => hub.stored.size === 50, 'all 50 readings at the hub');
  assert.equal(outbox.stats().depth, 50, 'PUBACKed but not acknowledged: still in the outbox');
  assert.equal(outbox.ackedUpTo, 0);
  assert.equal(hub.invalid, 0);
  assert.ok(hub.batches.every((b) => b.lane === 'live' && b.readings.length <= 20));
  assert.deepEqual(seqsOf(hub.batches), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.deepEqual(hub.batches.flatMap((b) => b.readings), sent, 'readings arrive as appended, in seq order');

  // A window of 4 full batches' worth of seqs (4 × 20) unacknowledged: the rest waits in the
  // outbox for hub acks. 50 are out already (20 + 20 + 10), so one more full batch fits: 70 < 80.
  append(200);
  await until(() => uplink.counters().readingsSent >= 80, 'window filled');
  await delay(300);
  assert.equal(uplink.counters().readingsSent, 70 + 20, 'no batch beyond the window without a hub ack');
  assert.equal(hub.stored.size, 90);

  hub.hold = false;
  await hub.sendAck();
  await until(() => outbox.stats().depth === 0, 'outbox drained by acks');
  assert.equal(outbox.ackedUpTo, 250);
  assert.equal(hub.stored.size, 250);
  assert.equal(uplink.counters().readingsSent, 250);
});

test('a malformed ack is counted and ignored; the link stays up', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  hub.hold = true;
  const { outbox, uplink, append } = setup(t, broker.port);
  uplink.start();
  await once(uplink, 'connect');
  append(10);
  await until(() => hub.stored.size === 10, 'readings at the hub');
  for (const bad of ['not json', '{"upTo":"10"}', '{"upTo":10,"extra":1}', '{"upTo":-1}', '[10]']) await hub.publish(bad);
  await hub.sendAck(10);
  await until(() => outbox.stats().depth === 0, 'the valid ack applied');
  assert.equal(uplink.counters().rejectedAcks, 5);
  assert.equal(uplink.linkState(), 'connected');
  assert.equal(outbox.ackedUpTo, 10);
});

test('broker down and back: reconnect with backoff, everything unacknowledged is resent, nothing lost', async (t) => {
  let broker = await Broker.start();
  const port = broker.port;
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  hub.hold = true; // the hub stores but its acks never get out before the outage
  const { outbox, uplink, append } = setup(t, port);
  uplink.start();
  await once(uplink, 'connect');
  append(30);
  await until(() => hub.stored.size === 30, 'first readings at the hub');

  const offline = once(uplink, 'offline');
  await broker.stop();
  await offline;
  append(40);
  await delay(200);
  assert.notEqual(uplink.linkState(), 'connected');
  assert.ok(uplink.counters().connectFailures >= 1, 'retried while the broker was away');
  assert.equal(outbox.stats().depth, 70);

  broker = await Broker.start(port);
  hub.hold = false;
  await hub.attach(broker);
  await until(() => outbox.stats().depth === 0, 'outbox drained after reconnect');
  assert.equal(hub.upTo, 70);
  assert.deepEqual([...hub.stored].sort((a, b) => a - b), Array.from({ length: 70 }, (_, i) => i + 1));
  const c = uplink.counters();
  assert.equal(c.reconnects, 1);
  assert.ok(c.resends >= 1, 'the 30 unacknowledged readings were sent again');
  assert.equal(hub.invalid, 0);
});

test('no ack progress within ackTimeoutMs: the unacknowledged batches are resent', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  hub.lose = 1; // the first batch vanishes between broker and hub
  const { outbox, uplink, append } = setup(t, broker.port, { ackTimeoutMs: 300 });
  uplink.start();
  await once(uplink, 'connect');
  append(30);
  await until(() => hub.batches.length >= 2, 'both batches through the broker');
  assert.equal(hub.upTo, 0, 'seq 1..20 missing: the hub cannot ack');
  await until(() => outbox.stats().depth === 0, 'resent and acknowledged');
  assert.equal(hub.upTo, 30);
  assert.ok(uplink.counters().ackTimeouts >= 1);
  assert.ok(uplink.counters().resends >= 1);
});

test('after an outage the first batch is the newest, on the live lane; the backlog follows and every seq arrives', async (t) => {
  let broker = await Broker.start();
  const port = broker.port;
  t.after(() => broker.stop());
  const { outbox, uplink, append } = setup(t, port, { batchSize: 20, maxInflightBatches: 3 });
  uplink.start();
  await once(uplink, 'connect');
  const offline = once(uplink, 'offline');
  await broker.stop();
  await offline;
  for (let i = 0; i < 15; i++) append(20); // 300 readings in 15 polls while the hub is away
  const lastSeq = outbox.lastSeq;

  broker = await Broker.start(port);
  const hub = new Hub();
  hub.hold = true;
  await hub.attach(broker);
  await until(() => hub.batches.length >= 4, 'first batches after reconnect');
  const first = hub.batches[0]!;
  assert.equal(first.lane, 'live');
  assert.deepEqual(first.seq, [lastSeq - 19, lastSeq], 'the first telemetry carries the newest readings');
  assert.ok(hub.batches.slice(1, 4).every((b) => b.lane === 'backlog'));
  assert.deepEqual(hub.batches[1]?.seq, [1, 20], 'backlog from the oldest unacknowledged');

  // Live readings keep going out while the backlog waits on hub acks.
  const sent = hub.batches.length;
  append(20);
  append(20);
  append(20);
  append(20);
  await until(() => hub.batches.length >= sent + 4, 'live batches during the backlog');
  assert.ok(hub.batches.slice(sent).every((b) => b.lane === 'live'));

  hub.hold = false;
  await hub.sendAck();
  await until(() => outbox.stats().depth === 0, 'backlog drained');
  assert.equal(hub.upTo, outbox.lastSeq);
  assert.deepEqual([...hub.stored].sort((a, b) => a - b), Array.from({ length: outbox.lastSeq }, (_, i) => i + 1));
  const backlog = hub.batches.filter((b) => b.lane === 'backlog').map((b) => b.seq[0]);
  assert.deepEqual(backlog, [...backlog].sort((a, b) => a - b), 'backlog in seq order');
  assert.ok(Math.max(...hub.batches.filter((b) => b.lane === 'backlog').map((b) => b.seq[1])) <= lastSeq - 20);
});

test('resends counts only seqs that went out before: 0 for a backlog drained after an outage, > 0 after an ack timeout', async (t) => {
  let broker = await Broker.start();
  const port = broker.port;
  t.after(() => broker.stop());
  const { outbox, uplink, append } = setup(t, port, { batchSize: 20, maxInflightBatches: 3, ackTimeoutMs: 300 });
  uplink.start();
  await once(uplink, 'connect');
  const offline = once(uplink, 'offline');
  await broker.stop();
  await offline;
  for (let i = 0; i < 15; i++) append(20); // 300 readings, never sent: a backlog behind a live tail

  broker = await Broker.start(port);
  const hub = new Hub();
  await hub.attach(broker);
  await until(() => outbox.stats().depth === 0, 'backlog drained');
  assert.ok(hub.batches.some((b) => b.lane === 'backlog'), 'the drain used the backlog lane');
  assert.equal(hub.batches[0]?.lane, 'live', 'the newest (highest) seqs went out first');
  assert.equal(uplink.counters().resends, 0, 'nothing was lost, so nothing was sent twice');
  assert.equal(hub.batches.length, uplink.counters().batchesSent);

  // A batch lost between broker and hub: the ack stalls, the uplink resends from ackedUpTo.
  hub.lose = 1;
  append(20);
  append(20);
  await until(() => outbox.stats().depth === 0, 'resent and acknowledged');
  assert.ok(uplink.counters().ackTimeouts >= 1);
  assert.ok(uplink.counters().resends >= 1, 'the lost batch was sent again');
  assert.deepEqual([...hub.stored].sort((a, b) => a - b), Array.from({ length: outbox.lastSeq }, (_, i) => i + 1));
});

test('drop notices are sent and resent until the hub ack passes them', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  const path = join(mkdtempSync(join(dir, 'ob-')), 'outbox.db');
  // 101 rows over a cap of 100: the outbox drops to 99 rows (seqs 1, 2) before anything is sent.
  const outbox = Outbox.open({ path, maxRows: 100 });
  outbox.append(polls(101));
  assert.deepEqual(outbox.pendingDrops().map((d) => d.ranges), [[[1, 2]]]);
  const uplink = new Uplink({ gatewayId: GW, config: config(broker.port), outbox, logger: log, version: 't', drivers: () => [] });
  t.after(async () => { await uplink.stop(); outbox.close(); });
  uplink.start();
  await until(() => outbox.stats().depth === 0, 'everything acknowledged');
  assert.equal(hub.upTo, 101, 'the hub counts the dropped seqs as accounted for');
  assert.equal(hub.stored.has(1) || hub.stored.has(2), false);
  assert.equal(hub.stored.size, 99);
  assert.deepEqual(outbox.pendingDrops(), []);
  assert.ok(uplink.counters().dropEventsSent >= 1);
});

test('while connected, a new drop is reported without resending the ranges already reported', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  hub.hold = true; // no acks: the outbox stays full and pending drops stay pending
  const path = join(mkdtempSync(join(dir, 'ob-')), 'outbox.db');
  const outbox = Outbox.open({ path, maxRows: 100 });
  // Every other row routine, so each drop leaves ranges of one seq between alerting rows.
  const alternate = (n: number) => Array.from({ length: n }, (_, i) => i % 2 === 0);
  outbox.append(polls(104), alternate(104));
  assert.deepEqual(outbox.pendingDrops().map((d) => d.ranges), [[[2, 2], [4, 4], [6, 6], [8, 8], [10, 10]]]);
  const uplink = new Uplink({ gatewayId: GW, config: config(broker.port), outbox, logger: log, version: 't', drivers: () => [] });
  t.after(async () => { await uplink.stop(); outbox.close(); });
  uplink.start();
  await until(() => hub.dropEvents.length === 1, 'the pending drops reported at connect');
  assert.deepEqual(hub.dropEvents[0], [[2, 2], [4, 4], [6, 6], [8, 8], [10, 10]]);

  outbox.append(polls(4), alternate(4)); // over the cap again: the next routine rows go
  uplink.notify();
  await until(() => hub.dropEvents.length === 2, 'the new drop reported');
  assert.deepEqual(hub.dropEvents[1], [[12, 12], [14, 14], [16, 16], [18, 18]], 'only the new ranges');
  assert.equal(outbox.pendingDrops().length, 1, 'all still pending at the gateway until an ack passes them');
});

test('retained status: online with health, LWT offline when the connection dies, clean offline on stop', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  const { msgs } = await observe(t, broker.port);
  const { uplink, append } = setup(t, broker.port, { statusIntervalMs: 500 });
  uplink.start();
  await once(uplink, 'connect');
  append(5);
  await until(() => msgs.filter((m) => m.online).length >= 2, 'online status on connect and on the interval');
  const online = msgs.find((m) => m.online)!;
  assert.equal(online.v, 1);
  assert.equal(online.version, '0.1.0-test');
  assert.equal(online.link, 'connected');
  assert.ok(online.outbox && typeof online.outbox.depth === 'number');
  assert.deepEqual(online.drivers, [{ dev: 'st-1', driver: 'modbus', state: 'ok', lastReadTs: 1 }]);

  // The gateway's connection dies without DISCONNECT (power cut, process killed): the broker sends the LWT.
  msgs.length = 0;
  broker.client(GW)!.conn.destroy();
  await until(() => msgs.some((m) => !m.online), 'LWT');
  assert.deepEqual(msgs.find((m) => !m.online), { v: 1, online: false, link: 'lost' });
  await until(() => msgs.some((m) => m.online), 'online again after reconnect');

  // Clean stop: explicit offline status with health, no LWT.
  msgs.length = 0;
  await uplink.stop();
  assert.equal(uplink.linkState(), 'stopped');
  await until(() => broker.client(GW) === undefined, 'the broker has let the gateway go');
  const late = await observe(t, broker.port); // a newcomer gets the retained message
  await until(() => late.msgs.length > 0, 'retained status');
  const retained = late.msgs[0]!;
  assert.equal(retained.online, false);
  assert.equal(retained.link, 'stopped');
  assert.equal(retained.outbox?.lastSeq, 5);
  assert.ok(msgs.every((m) => m.link !== 'lost'), 'no LWT after a clean stop');
});

test('a dead link without FIN/RST is detected by keepalive; stop() returns even when the broker is gone silent', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  const relay = new Relay(broker.port);
  const port = await relay.listen();
  t.after(() => relay.close());
  const { outbox, uplink, append } = setup(t, port, { keepaliveS: 1, backoff: { initialMs: 50, maxMs: 100 } }, 500);
  uplink.start();
  await once(uplink, 'connect');
  append(10);
  await until(() => outbox.stats().depth === 0, 'first readings acknowledged');

  const offline = once(uplink, 'offline');
  relay.blackhole();
  append(10);
  await offline; // only keepalive can notice: no bytes, no FIN, no RST arrive
  assert.notEqual(uplink.linkState(), 'connected');
  assert.equal(outbox.stats().depth, 10);

  // The path comes back (same address): the gateway reconnects and delivers.
  relay.refuse = false;
  await until(() => outbox.stats().depth === 0, 'delivered after the link returned');
  assert.equal(hub.upTo, 20);

  // The link goes silent again and the gateway is asked to stop: bounded, never hangs.
  relay.blackhole();
  await uplink.stop();
  assert.equal(uplink.linkState(), 'stopped');
});

test('a hub ahead of this outbox (outbox file replaced): unsent rows are renumbered after the hub\'s seq and stored, not taken for duplicates', async (t) => {
  const broker = await Broker.start();
  t.after(() => broker.stop());
  const hub = new Hub();
  await hub.attach(broker);
  // The hub already accounted seqs 1..1000 from this gateway's earlier outbox.
  for (let s = 1; s <= 1000; s++) hub.accounted.add(s);
  hub.upTo = 1000;
  hub.hold = true;
  const { outbox, uplink, append } = setup(t, broker.port);
  append(5);
  const sentBodies = outbox.readRun(0, 10)!.bodies;
  uplink.start();
  await once(uplink, 'connect');
  hub.hold = false;
  await hub.sendAck(1000);
  await until(() => hub.upTo === 1005 && outbox.stats().depth === 0, 'the renumbered rows stored and acked');
  assert.equal(outbox.lastSeq, 1005);
  const renumbered = hub.batches.filter((b) => b.seq[0] > 1000);
  assert.deepEqual(seqsOf(renumbered), [1001, 1002, 1003, 1004, 1005]);
  assert.deepEqual(renumbered.flatMap((b) => b.readings).map((r) => JSON.stringify(r)), sentBodies, 'same readings, same order');
  append(1);
  await until(() => hub.upTo === 1006, 'the next reading continues at 1006');
});
