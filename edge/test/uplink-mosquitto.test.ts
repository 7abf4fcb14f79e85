/**
 * Interop with an independent broker: the uplink against Debian's mosquitto over mutual TLS
 * (require_certificate, identity as username), MQTT 3.1.1. A stand-in hub subscribes through a
 * `$share/…` group — the way hub replicas share telemetry behind an external broker — stores each
 * seq once and answers `{upTo}`. mosquitto is restarted with rows in flight: nothing is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import mqtt from 'mqtt';
import { batchSeqConsistent, createLogger, decodePayload, ensurePki, validateTelemetryBatch, type Reading } from '@ioc/shared';
import { Outbox } from '../src/outbox/index.js';
import { Uplink } from '../src/uplink/index.js';
import { until } from '../../test/lib/until.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const GW = 'gw-mosq-01';
const log = createLogger({ name: 'mosquitto-test', level: process.env.LOG_LEVEL ?? 'silent' });

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  return port;
}

function startMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const probe = () => {
      if (child.exitCode !== null) return reject(new Error(`mosquitto exited: ${err}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(child); });
      s.once('error', () => (Date.now() - t0 > 10_000 ? reject(new Error(`mosquitto not listening: ${err}`)) : setTimeout(probe, 50)));
    };
    probe();
  });
}

const haveMosquitto = existsSync(MOSQUITTO) && spawnSync(MOSQUITTO, ['-h']).status !== null;

test('uplink → mosquitto (mutual TLS, MQTT 3.1.1) → $share subscriber: every reading once, across a broker restart', {
  timeout: 60_000,
}, async (t) => {
  if (!haveMosquitto) {
    t.skip('mosquitto not installed: apt-get install mosquitto (.ci/run installs it)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ioc-mosq-'));
  const pki = ensurePki(join(dir, 'pki'), { serverNames: ['localhost', '127.0.0.1'], clients: [GW, 'hub-replica-1'] });
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    `cafile ${pki.caCert}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`,
    'require_certificate true', 'use_identity_as_username true', 'allow_anonymous false',
    'persistence false', 'user root', 'log_dest stderr', 'log_type error', '',
  ].join('\n'));
  let broker = await startMosquitto(conf, port);
  t.after(() => {
    broker.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  // Stand-in hub replica: shared subscription, dedup by seq, cumulative upTo.
  const stored = new Map<number, Reading>();
  let upTo = 0;
  let duplicates = 0;
  const hc = pki.client('hub-replica-1');
  const hub = mqtt.connect(`mqtts://localhost:${port}`, {
    clientId: 'hub-replica-1', ca: readFileSync(pki.caCert), cert: readFileSync(hc.cert), key: readFileSync(hc.key),
    protocolVersion: 4, reconnectPeriod: 100, clean: true,
  });
  hub.on('connect', () => hub.subscribe('$share/hubs/ioc/v1/+/telemetry', { qos: 1 }));
  hub.on('message', (_topic, payload) => {
    const r = decodePayload(payload, validateTelemetryBatch);
    if (!r.ok || !batchSeqConsistent(r.value)) return;
    r.value.readings.forEach((reading, i) => {
      const seq = r.value.seq[0] + i;
      if (stored.has(seq)) duplicates++;
      else stored.set(seq, reading);
    });
    while (stored.has(upTo + 1)) upTo++;
    hub.publish(`ioc/v1/${r.value.gw}/ack`, JSON.stringify({ upTo }), { qos: 1 });
  });
  t.after(() => hub.end(true));
  await new Promise<void>((resolve) => hub.once('connect', () => resolve()));

  const c = pki.client(GW);
  const outbox = Outbox.open({ path: join(dir, 'outbox.db') });
  const uplink = new Uplink({
    gatewayId: GW, outbox, logger: log, version: 'test', drivers: () => [],
    config: {
      url: `mqtts://localhost:${port}`, ca: pki.caCert, cert: c.cert, key: c.key, protocolVersion: 4,
      batchSize: 50, lingerMs: 10, maxInflightBatches: 4, ackTimeoutMs: 3000, keepaliveS: 5,
      backoff: { initialMs: 50, maxMs: 500 }, statusIntervalMs: 60_000, checkServerName: true,
    },
  });
  t.after(async () => { await uplink.stop(); outbox.close(); });
  let n = 0;
  const appendPoll = (k: number) => {
    outbox.append(Array.from({ length: k }, () => {
      n++;
      return { dev: 'wl-1', metric: 'water_level', value: n / 1000, unit: 'm', ts: 1_700_000_000_000 + n, q: 'good' as const };
    }));
    uplink.notify();
  };
  uplink.start();
  await once(uplink, 'connect');
  for (let i = 0; i < 20; i++) appendPoll(10);
  await until(() => outbox.stats().depth === 0 && upTo === 200, 'first 200 readings acknowledged through mosquitto');

  // Broker restart with rows waiting and in flight.
  for (let i = 0; i < 30; i++) appendPoll(10);
  broker.kill('SIGKILL');
  await once(broker, 'exit');
  for (let i = 0; i < 20; i++) appendPoll(10);
  broker = await startMosquitto(conf, port);
  await until(() => outbox.stats().depth === 0 && upTo === n, `all ${n} readings acknowledged after the restart`, 30_000);

  assert.equal(stored.size, n);
  for (let seq = 1; seq <= n; seq++) assert.equal(stored.get(seq)?.value, seq / 1000, `seq ${seq} carries its own reading`);
  assert.ok(uplink.counters().reconnects >= 1, 'the uplink reconnected');
  t.diagnostic(`${n} readings through mosquitto, ${duplicates} duplicate deliveries absorbed by seq, ${uplink.counters().reconnects} reconnect(s)`);
});
