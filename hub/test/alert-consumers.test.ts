/**
 * Other province systems read alert changes on the hub's own broker (mqtt.consumers): mutual TLS
 * with a certificate of the hub's CA, read-only, and only the alerts of their areas — whatever
 * they subscribe to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { startHub } from '../src/hub.js';
import { GW, KIM_LONG, connectGateway, silentLogger, tempDir, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

test('alert consumers: their areas only, read-only, a gateway topic refused; an unknown CN cannot connect', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const hub = await startHub(
    testConfig(dir, {
      mqtt: { host: '127.0.0.1', port: 0, consumers: [{ id: 'pctt-hue', areas: ['46'] }, { id: 'ubnd-19801', areas: ['19801'] }] },
      notify: { channels: [{ id: 'province-bus', type: 'mqtt' }], routes: [{ channels: ['province-bus'] }] },
    }),
    { logger: silentLogger() },
  );
  t.after(() => hub.close());
  const connect = (id: string) => connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: id });
  const received = (c: MqttClient) => {
    const got: Array<{ topic: string; body: { alertId: number; eventKind: string } }> = [];
    c.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) }));
    return got;
  };
  const province = await connect('pctt-hue');
  t.after(() => province.end(true));
  const commune = await connect('ubnd-19801');
  t.after(() => commune.end(true));
  const provinceGot = received(province);
  const communeGot = received(commune);
  // A wildcard and a foreign commune's topic: the wildcard is granted (filtered per message), the other refused.
  const suback = (topics: string[]) =>
    new Promise<unknown>((resolve) =>
      commune.subscribe(topics, { qos: 1 }, (err, granted) => resolve(err ? (err as { packet?: { granted?: unknown } }).packet?.granted : granted?.map((g) => g.qos))),
    );
  assert.deepEqual(await suback(['ioc/v1/alerts/+', 'ioc/v1/alerts/19816', `ioc/v1/${GW}/telemetry`]), [1, 128, 128]);
  await province.subscribeAsync('ioc/v1/alerts/#', { qos: 1 });

  // Kim Long (commune 19816, province 46) rises to BĐ2.
  hub.alerts.evaluate([wl(2.2, Date.now() - 1000)]);
  await until(() => provinceGot.length > 0, 'the province system to get the alert');
  assert.equal(provinceGot[0]!.topic, 'ioc/v1/alerts/19816');
  assert.equal(provinceGot[0]!.body.eventKind, 'raised');
  // The commune 19801 system never sees another commune's alert (checked after the province got it).
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(communeGot, []);
  assert.equal(hub.alertViews.list({ dev: KIM_LONG, scope: { all: true } }).length, 1);

  // Read-only: a publish closes the consumer's connection.
  const closed = new Promise<void>((r) => commune.once('close', () => r()));
  commune.publish('ioc/v1/alerts/19801', '{"fake":true}', { qos: 1 });
  await closed;

  // A certificate of the hub's CA whose CN is neither a gateway nor a consumer: refused.
  await assert.rejects(connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: 'pctt-hue-2', certOf: 'pctt-hue' }));
});
