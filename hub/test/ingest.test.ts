/**
 * Ingest over the real embedded broker: mutual TLS with the demo PKI, mqtt.js clients speaking
 * MQTT 3.1.1 as gateways, the end-to-end ack, refusals counted in /metrics, the ACL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createCA, createLogger, issueCertificate } from '@ioc/shared';
import { startHub, type Hub } from '../src/hub.js';
import {
  GW, GW2, KIM_LONG, batch, closed, collect, connectGateway, metricValue, silentLogger, tempDir, testConfig, wl,
} from './helpers.js';
import { until } from '../../test/lib/until.js';

const T0 = Date.now() - 60_000;
let hub: Hub;
let dir: string;
let cleanup: () => void;
const clients: MqttClient[] = [];

const topic = (gw: string, kind: string) => `ioc/v1/${gw}/${kind}`;
const api = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`);
  return { status: res.status, body: (await res.json()) as any };
};
const metricsText = async () => (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await metricsText(), name, labels) ?? 0;

async function gateway(clientId: string, opts: { certOf?: string | null; will?: boolean } = {}) {
  const c = await connectGateway({
    port: hub.mqttPort,
    pkiDir: hub.pkiDir!,
    clientId,
    ...(opts.certOf !== undefined ? { certOf: opts.certOf } : {}),
    ...(opts.will ? { will: { topic: topic(clientId, 'status'), payload: '{"v":1,"online":false,"link":"lost"}', qos: 1, retain: true } } : {}),
  });
  clients.push(c);
  return c;
}

before(async () => {
  ({ dir, cleanup } = tempDir());
  // A small payload limit so that "oversize" is cheap to provoke.
  hub = await startHub(testConfig(dir, { mqtt: { host: '127.0.0.1', port: 0, maxPayloadBytes: 64 * 1024 } }), { logger: process.env.HUB_TEST_LOG ? createLogger({ name: "t", level: "debug" }) : silentLogger() });
});

after(async () => {
  for (const c of clients) c.end(true);
  await hub?.close();
  cleanup();
});

test('a valid batch is stored and acknowledged with {upTo}; readings appear in the API with gw and seq', async () => {
  const c = await gateway(GW);
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 0 }, 'subscribing to its ack topic tells the gateway the high-water mark');

  const live: number[] = [];
  hub.live.on('readings', (b) => live.push(...b.readings.map((r) => r.seq)));
  await c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 1, [wl(0.8, T0), wl(0.9, T0 + 1000), wl(1.0, T0 + 2000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 3 });
  assert.deepEqual(live, [1, 2, 3]);

  const { status, body } = await api(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level`);
  assert.equal(status, 200);
  assert.deepEqual(body.readings.map((r: any) => [r.gw, r.seq, r.value, r.ts, r.q]), [
    [GW, 1, 0.8, T0, 'good'], [GW, 2, 0.9, T0 + 1000, 'good'], [GW, 3, 1.0, T0 + 2000, 'good'],
  ]);
  // BĐ1 reached at 1.0 m: the episode is open and visible.
  const alerts = (await api(`/api/v1/alerts?dev=${KIM_LONG}&active=true`)).body.alerts;
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].level, 1);

  // A resend of the same seqs is a duplicate, acknowledged again.
  await c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 2, [wl(0.9, T0 + 1000), wl(1.0, T0 + 2000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 3 });
  assert.equal(await metric('ioc_hub_readings_duplicate_total', { gw: GW }), 2);
  assert.equal(await metric('ioc_hub_readings_stored_total', { gw: GW }), 3);
});

test('malformed, invalid and inconsistent batches are counted by reason; the next valid batch still works', async () => {
  const c = await gateway(GW);
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 3 });
  const send = (payload: string) => c.publishAsync(topic(GW, 'telemetry'), payload, { qos: 1 });

  await send('{"v":1,"gw":');
  await send(JSON.stringify({ v: 1, gw: GW, seq: [4, 4], readings: [{ dev: KIM_LONG, metric: 'water_level', value: 'high', unit: 'm', ts: T0, q: 'good' }] }));
  await send(JSON.stringify({ ...batch(GW, 4, [wl(1, T0 + 3000), wl(1, T0 + 4000)]), seq: [4, 9] }));
  await send(JSON.stringify(batch(GW2, 4, [wl(1, T0 + 3000)])));
  await send(JSON.stringify(batch(GW, 4, [wl(1.1, T0 + 3000)])));
  assert.deepEqual(await acks.next(), { upTo: 4 }, 'only the valid batch was acknowledged');
  assert.equal(acks.all.length, 0);

  assert.equal(await metric('ioc_hub_rejected_total', { reason: 'malformed_json' }), 1);
  assert.equal(await metric('ioc_hub_rejected_total', { reason: 'schema' }), 1);
  assert.equal(await metric('ioc_hub_rejected_total', { reason: 'seq_mismatch' }), 1);
  assert.equal(await metric('ioc_hub_rejected_total', { reason: 'gw_mismatch' }), 1);
  assert.equal((await api('/api/v1/health')).body.status, 'ok');
  assert.ok((await metric('ioc_hub_ingest_batch_seconds_count', { kind: 'telemetry' })) >= 3);
});

test('an oversize payload closes that connection and is counted; the gateway reconnects and carries on', async () => {
  const c = await gateway(GW2);
  const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
  c.publish(topic(GW2, 'telemetry'), big, { qos: 0 });
  await closed(c);
  assert.equal(await metric('ioc_hub_rejected_total', { reason: 'oversize' }), 1);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'publish', reason: 'oversize' }), 1);

  const again = await gateway(GW2);
  const acks = collect(again, topic(GW2, 'ack'));
  await again.subscribeAsync(topic(GW2, 'ack'), { qos: 1 });
  await acks.next();
  await again.publishAsync(topic(GW2, 'telemetry'), JSON.stringify(batch(GW2, 1, [wl(0.3, T0, 'good', 'wl-other')])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 1 });
});

test('readings of an unknown device are quarantined, still acknowledged, and visible per gateway', async () => {
  const c = await gateway(GW);
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 4 });
  const stray = wl(1.7, T0 + 5000, 'good', 'wl-not-registered');
  await c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 5, [stray, wl(1.2, T0 + 5000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 6 });

  const g = (await api('/api/v1/gateways')).body.gateways.find((x: any) => x.id === GW);
  assert.deepEqual([g.upTo, g.stored, g.quarantined], [6, 5, 1]);
  const q = (await api(`/api/v1/gateways/${GW}/quarantine`)).body.quarantine;
  assert.deepEqual(q.map((r: any) => [r.seq, r.cause, r.reading.dev]), [[5, 'unknown_device', 'wl-not-registered']]);
  assert.equal(await metric('ioc_hub_readings_quarantined_total', { gw: GW, cause: 'unknown_device' }), 1);
  assert.deepEqual((await api(`/api/v1/gateways/${GW}/seqs`)).body.seqs, [1, 2, 3, 4, 6]);
});

test('status: online flag, outbox gauges, LWT offline; a dropped notice moves upTo past the gap', async () => {
  const c = await gateway(GW, { will: true });
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 6 });
  const status = {
    v: 1, online: true, ts: Date.now(), version: '0.1.0', uptimeS: 12, link: 'eth0',
    outbox: { depth: 42, oldestUnsentAgeS: 7.5, bytes: 4096, dropped: 3, lastSeq: 12, ackedUpTo: 6, lastAckTs: Date.now() },
  };
  await c.publishAsync(topic(GW, 'status'), JSON.stringify(status), { qos: 1, retain: true });
  assert.deepEqual(await acks.next(), { upTo: 6 }, 'an online status is answered with the high-water mark');
  let g = (await api(`/api/v1/gateways/${GW}`)).body.gateway;
  assert.equal(g.online, true);
  assert.equal(g.outbox.depth, 42);
  assert.equal(g.link, 'eth0');
  assert.equal(await metric('ioc_hub_gateway_outbox_depth', { gw: GW }), 42);
  assert.equal(await metric('ioc_hub_gateway_outbox_oldest_unsent_age_seconds', { gw: GW }), 7.5);
  assert.equal(await metric('ioc_hub_gateway_online', { gw: GW }), 1);

  // Seqs 7..9 were deleted unsent at the gateway; 10 arrives.
  await c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 10, [wl(1.3, T0 + 6000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 6 });
  await c.publishAsync(topic(GW, 'events'), JSON.stringify({ v: 1, kind: 'dropped', ts: Date.now(), ranges: [[7, 9]], count: 3, reason: 'outbox_full' }), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 10 });
  assert.equal(await metric('ioc_hub_readings_dropped_total', { gw: GW }), 3);

  // The connection dies without DISCONNECT: the broker publishes the LWT.
  c.stream.destroy();
  g = await until(async () => {
    const x = (await api(`/api/v1/gateways/${GW}`)).body.gateway;
    return x.online === false ? x : undefined;
  }, 'the LWT to mark the gateway offline');
  assert.equal(g.outbox.depth, 42, 'the last full status is kept beside the offline flag');
  assert.deepEqual([g.status.online, g.link], [false, 'lost'], 'the LWT is merged onto it');
  assert.equal(g.dropped, 3);
});

test('ACL: CN ≠ clientId, unregistered gateway and no certificate are refused at connect', async () => {
  await assert.rejects(gateway(GW2, { certOf: GW }), /Not authorized/);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'connect', reason: 'cn_mismatch' }), 1);

  // A certificate from the right CA for a gateway the registry does not know.
  const pki = hub.pki!;
  const ca = { cert: readFileSync(pki.caCert, 'utf8'), key: readFileSync(pki.caKey, 'utf8') };
  const stranger = issueCertificate(ca, { cn: 'gw-stranger', usage: 'client' });
  writeFileSync(join(hub.pkiDir!, 'clients', 'gw-stranger.crt'), stranger.cert);
  writeFileSync(join(hub.pkiDir!, 'clients', 'gw-stranger.key'), stranger.key);
  await assert.rejects(gateway('gw-stranger'), /Not authorized/);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'connect', reason: 'unknown_gateway' }), 1);

  await assert.rejects(
    mqtt.connectAsync(`mqtts://localhost:${hub.mqttPort}`, { ca: readFileSync(pki.caCert), clientId: GW, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 }),
    /certificate required/,
  );
  await until(async () => (await metric('ioc_hub_broker_refused_total', { action: 'connect', reason: 'tls' })) >= 1, 'the TLS refusal to be counted');
});

test('TLS: a certificate from another CA, and an expired one from ours, are refused in the handshake, counted', async () => {
  const pki = hub.pki!;
  const tlsRefusals = () => metric('ioc_hub_broker_refused_total', { action: 'connect', reason: 'tls' });
  // With TLS 1.3 the client may finish its side of the handshake before the hub checks the
  // client certificate: mqtt.js then sees the connection close (no 'error'), so watch for both.
  const outcome = (cert: { cert: string; key: string }) =>
    new Promise<'connected' | 'refused'>((resolve) => {
      const c = mqtt.connect(`mqtts://localhost:${hub.mqttPort}`, { ca: readFileSync(pki.caCert), cert: cert.cert, key: cert.key, clientId: GW, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
      const done = (v: 'connected' | 'refused') => {
        c.end(true);
        resolve(v);
      };
      c.once('connect', () => done('connected'));
      c.once('error', () => done('refused'));
      c.once('close', () => done('refused'));
    });
  const attempt = async (cert: { cert: string; key: string }) => {
    const before = await tlsRefusals();
    assert.equal(await outcome(cert), 'refused');
    await until(async () => (await tlsRefusals()) === before + 1, 'the TLS refusal to be counted');
  };
  // Same CN, same shape, another CA: only the chain is wrong.
  await attempt(issueCertificate(createCA('Some Other CA'), { cn: GW, usage: 'client' }));
  const ca = { cert: readFileSync(pki.caCert, 'utf8'), key: readFileSync(pki.caKey, 'utf8') };
  const day = 86_400_000;
  await attempt(issueCertificate(ca, { cn: GW, usage: 'client', validity: { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) } }));
  // The control: the same CA, in date, connects.
  assert.equal(await outcome(issueCertificate(ca, { cn: GW, usage: 'client' })), 'connected');
});

test("ACL: subscribing to another gateway's downlink (ack, config, cmd) is refused (SUBACK 0x80), counted; nothing of it is delivered; the connection stays", async () => {
  const c = await gateway(GW2);
  const foreign: string[] = [];
  c.on('message', (t) => { if (!t.startsWith(`ioc/v1/${GW2}/`)) foreign.push(t); });
  // SUBACK return codes: 0x80 (failure) for each refused filter; mqtt.js rejects the promise with the packet.
  await assert.rejects(c.subscribeAsync([topic(GW, 'ack'), topic(GW, 'config'), topic(GW, 'cmd'), topic(GW2, 'telemetry'), topic(GW2, 'cmd')], { qos: 1 }), (err: any) => {
    assert.deepEqual(err.packet.granted, [128, 128, 128, 128, 1]);
    return true;
  });
  assert.ok(c.connected, 'a refused subscription does not close the connection');
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'subscribe', reason: 'foreign_topic' }), 3);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'subscribe', reason: 'gateway_topic' }), 1);
  // Its own config (retained) arrives; GW's never did.
  const own = collect(c, topic(GW2, 'config'));
  await c.subscribeAsync(topic(GW2, 'config'), { qos: 1 });
  assert.deepEqual(await own.next(), { v: 1, limits: { maxPayloadBytes: 64 * 1024 } });
  assert.deepEqual(foreign, []);
});

test('ACL: subscribing to # (or any wildcard) is refused, counted; the connection stays', async () => {
  const c = await gateway(GW2);
  const got: string[] = [];
  c.on('message', (t) => got.push(t));
  await assert.rejects(c.subscribeAsync(['#', 'ioc/v1/+/ack', `ioc/v1/${GW2}/#`], { qos: 1 }), (err: any) => {
    assert.deepEqual(err.packet.granted, [128, 128, 128]);
    return true;
  });
  assert.ok(c.connected);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'subscribe', reason: 'wildcard' }), 3);
  const own = collect(c, topic(GW2, 'config'));
  await c.subscribeAsync(topic(GW2, 'config'), { qos: 1 });
  await own.next();
  assert.deepEqual(got, [topic(GW2, 'config')], 'no retained message of anyone else came through #');
});

test("ACL: publishing to another gateway's topic or to a hub topic closes the connection", async () => {
  const before = (await api(`/api/v1/gateways/${GW}`)).body.gateway.stored;
  const c = await gateway(GW2);
  c.publish(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 11, [wl(9, T0 + 7000)])), { qos: 1 });
  await closed(c);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'publish', reason: 'foreign_topic' }), 1);
  assert.equal((await api(`/api/v1/gateways/${GW}`)).body.gateway.stored, before, 'nothing stored for the other gateway');

  const d = await gateway(GW2);
  d.publish(topic(GW2, 'ack'), JSON.stringify({ upTo: 1_000_000 }), { qos: 1 });
  await closed(d);
  assert.equal(await metric('ioc_hub_broker_refused_total', { action: 'publish', reason: 'hub_topic' }), 1);
});

test('after a hub restart the gateway learns upTo and dedup holds', async () => {
  const { mqttPort } = hub;
  for (const c of clients.splice(0)) c.end(true);
  await hub.close();
  hub = await startHub(testConfig(dir, { mqtt: { host: '127.0.0.1', port: mqttPort } }), { logger: process.env.HUB_TEST_LOG ? createLogger({ name: "t", level: "debug" }) : silentLogger() });
  const g = (await api(`/api/v1/gateways/${GW}`)).body.gateway;
  assert.equal(g.online, false, 'nobody is connected to a fresh broker');
  assert.equal(g.upTo, 10);

  const c = await gateway(GW);
  const acks = collect(c, topic(GW, 'ack'));
  await c.subscribeAsync(topic(GW, 'ack'), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 10 });
  await c.publishAsync(topic(GW, 'telemetry'), JSON.stringify(batch(GW, 9, [wl(1, T0 + 6000), wl(1.3, T0 + 6000), wl(1.4, T0 + 8000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 11 });
  const rows = (await api(`/api/v1/readings?dev=${KIM_LONG}&metric=water_level`)).body.readings;
  assert.deepEqual(rows.map((r: any) => r.seq), [1, 2, 3, 4, 6, 10, 11]);
  // The alert episode of before the restart is still the open one.
  const alerts = (await api(`/api/v1/alerts?dev=${KIM_LONG}`)).body.alerts;
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].active, true);
});
