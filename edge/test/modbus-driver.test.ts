/**
 * The Modbus driver against real Modbus TCP servers (test/simulators, modbus-serial ServerTCP)
 * over loopback: values, quality, one reading per point per poll, failure and recovery, stop().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Reading } from '@ioc/shared';
import { loadProfiles } from '../src/config/profiles.js';
import { createModbusDriver, ModbusDriver } from '../src/drivers/modbus/index.js';
import { driverFactories } from '../src/drivers/index.js';
import { WaterLevelStationSimulator } from '../../test/simulators/modbus-water-level.js';
import { SmokeHeatDetectorSimulator } from '../../test/simulators/modbus-smoke-heat.js';
import { CounterDeviceSimulator } from '../../test/simulators/modbus-counter.js';
import { illegalAddress, ModbusSimulator } from '../../test/simulators/modbus-sim-server.js';
import { deviceConfig, profile, recorder, sleep } from './modbus-support.js';
import { until } from '../../test/lib/until.js';

const profiles = loadProfiles(fileURLToPath(new URL('../../firmware-configs/profiles', import.meta.url)));
const RADAR = profiles.get('radar-water-level')!;
const RADAR_METRICS = ['water_level', 'battery_voltage', 'status_word', 'fault'];

const int16 = (w: number): number => (w << 16) >> 16;
const byMetric = (readings: Reading[], metric: string): Reading => readings.find((r) => r.metric === metric)!;

test('the registry names the modbus driver', () => {
  assert.equal(driverFactories.modbus, createModbusDriver);
});

test('each poll emits one reading per point, one ts, equal to what the station served (cm → m)', async (t) => {
  const sim = new WaterLevelStationSimulator();
  await sim.start();
  sim.setBattery(12.75);
  // 0.5 m → 3.5 m over 3 s: every poll sees a new level.
  void sim.replay([{ tS: 0, levelM: 0.5 }, { tS: 60, levelM: 3.5 }], { speed: 20 });
  const rec = recorder();
  const driver = createModbusDriver(deviceConfig('wl-kimlong', sim.port), RADAR, rec);
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => rec.emits.length >= 6, '6 polls');
  const health = driver.health();
  const emittedThen = rec.emits.length;
  assert.equal(health.state, 'ok');
  assert.equal(health.lastError, undefined);
  await driver.stop();

  const served = sim.served.filter((s) => s.address === 0);
  assert.ok(served.length >= rec.emits.length && served.length <= rec.emits.length + 1, `served ${served.length}, emitted ${rec.emits.length}`);
  let lastTs = 0;
  rec.emits.forEach((readings, i) => {
    assert.deepEqual(readings.map((r) => r.metric), RADAR_METRICS);
    const ts = readings[0]!.ts;
    assert.ok(readings.every((r) => r.ts === ts && r.q === 'good'), 'one ts per poll, all good');
    assert.ok(ts > lastTs, 'ts increases poll by poll');
    lastTs = ts;
    const level = byMetric(readings, 'water_level');
    assert.equal(level.unit, 'm');
    assert.equal(level.value, int16(served[i]!.raw) / 100, `poll ${i}: served raw ${served[i]!.raw}`);
    assert.equal(byMetric(readings, 'battery_voltage').value, 12.75);
    assert.equal(byMetric(readings, 'status_word').value, 0);
    assert.equal(byMetric(readings, 'fault').value, false);
  });
  assert.ok(new Set(rec.emits.map((r) => byMetric(r, 'water_level').value)).size > 1, 'the level moved');
  assert.equal(health.lastReadTs, rec.emits[emittedThen - 1]![0]!.ts);
  assert.equal(driver.health().state, 'stopped');
});

test('no echo: level null with sensor_fault, fault bit true', async (t) => {
  const sim = new WaterLevelStationSimulator();
  await sim.start();
  sim.setSensorFault(true);
  const rec = recorder();
  const driver = createModbusDriver(deviceConfig('wl-kimlong', sim.port), RADAR, rec);
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => rec.emits.length >= 1, 'a poll');
  const readings = rec.emits[0]!;
  assert.deepEqual(
    { value: byMetric(readings, 'water_level').value, q: byMetric(readings, 'water_level').q, reason: byMetric(readings, 'water_level').reason },
    { value: null, q: 'bad', reason: 'sensor_fault' },
  );
  assert.equal(byMetric(readings, 'fault').value, true);
  assert.equal(byMetric(readings, 'status_word').value, 1);
});

test('station gone: one comm_error per point, once, health error; back: recovers', async (t) => {
  const sim = new WaterLevelStationSimulator();
  await sim.start();
  sim.setLevel(1.5);
  const rec = recorder();
  const driver = new ModbusDriver(deviceConfig('wl-kimlong', sim.port), RADAR, rec, { backoff: { initialMs: 40, maxMs: 160 } });
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => rec.emits.length >= 2, 'a good poll');

  await sim.stop();
  await until(() => driver.health().state === 'error', 'health error');
  await sleep(700); // several reconnect attempts, all refused
  const commErrors = rec.emits.filter((e) => e.some((r) => r.reason === 'comm_error'));
  assert.equal(commErrors.length, 1, 'comm_error readings are emitted once, when the device goes down');
  const [down] = commErrors;
  assert.deepEqual(down!.map((r) => r.metric), RADAR_METRICS);
  assert.ok(down!.every((r) => r.value === null && r.q === 'bad' && r.reason === 'comm_error' && r.ts === down![0]!.ts));
  assert.deepEqual(down!.map((r) => r.unit), ['m', 'V', '', 'bool']);
  const health = driver.health();
  assert.equal(health.state, 'error');
  assert.match(health.lastError ?? '', /ECONNREFUSED|lost|closed/);
  assert.equal(rec.logs.filter((l) => l.msg.startsWith('device not answering')).length, 1, 'one warning per state change');

  const before = rec.emits.length;
  await sim.start({ port: sim.port });
  await until(() => driver.health().state === 'ok' && rec.emits.length > before, 'recovery');
  const back = rec.emits[rec.emits.length - 1]!;
  assert.equal(byMetric(back, 'water_level').value, 1.5);
  assert.ok(back.every((r) => r.q === 'good'));
  assert.equal(driver.health().lastError, undefined);
  assert.equal(rec.logs.filter((l) => l.msg === 'device answers again').length, 1);
  assert.equal(rec.emits.filter((e) => e.some((r) => r.reason === 'comm_error')).length, 1);
});

test('device unreachable from the start: reported once, stop() still resolves', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const rec = recorder();
  const driver = new ModbusDriver(deviceConfig('wl-nowhere', port), RADAR, rec, { backoff: { initialMs: 30, maxMs: 60 } });
  await driver.start();
  await until(() => driver.health().state === 'error', 'health error');
  await sleep(200);
  assert.equal(rec.emits.length, 1);
  assert.ok(rec.emits[0]!.every((r) => r.reason === 'comm_error'));
  assert.match(driver.health().lastError ?? '', /cannot connect to 127\.0\.0\.1:\d+ unit 1: ECONNREFUSED/);
  await driver.stop();
  assert.equal(driver.health().state, 'stopped');
});

test('stop() during a request the device never answers resolves at once and emits nothing', async (t) => {
  const sockets = new Set<Socket>();
  let requests = 0;
  const mute = createServer((s) => {
    sockets.add(s);
    s.on('data', () => requests++);
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    mute.close();
  });
  const rec = recorder();
  const dev = deviceConfig('wl-mute', (mute.address() as AddressInfo).port);
  dev.connection.timeoutMs = 5000;
  const driver = createModbusDriver(dev, RADAR, rec);
  await driver.start();
  await until(() => requests > 0, 'a request on the wire');
  const t0 = Date.now();
  await driver.stop();
  assert.ok(Date.now() - t0 < 1000, `stop() took ${Date.now() - t0} ms`);
  await sleep(100);
  assert.equal(rec.emits.length, 0, 'stopping is not a device failure');
  assert.equal(driver.health().state, 'stopped');
});

test('stop() lets the poll in flight finish: every value a device served is emitted', async (t) => {
  // Ten counter devices polled every 10 ms, stopped at arbitrary moments, twenty times over: a stop
  // often lands while a request is on the wire or its answer is on the way back. The answer was
  // given out, so the reading must be emitted (stored), not thrown away with the connection.
  const counter = profiles.get('test-counter')!;
  for (let round = 0; round < 20; round++) {
    const sim = new CounterDeviceSimulator();
    await sim.start();
    t.after(() => sim.stop());
    const devs = Array.from({ length: 10 }, (_, i) => {
      const rec = recorder();
      const cfg = deviceConfig(`cnt-${i + 1}`, sim.port, { pollIntervalMs: 10 });
      cfg.connection.unitId = i + 1;
      return { unit: i + 1, rec, driver: createModbusDriver(cfg, counter, rec) };
    });
    for (const d of devs) await d.driver.start();
    await sleep(60 + ((round * 37) % 90));
    await Promise.all(devs.map((d) => d.driver.stop()));
    await sleep(30);
    for (const d of devs) {
      const emitted = d.rec.emits.map((e) => e[0]!.value);
      assert.deepEqual(emitted, sim.servedCounts(d.unit), `round ${round}, unit ${d.unit}: emitted = served`);
    }
    await sim.stop();
  }
});

test('a Modbus exception is an error naming the request, the metric and the exception', async (t) => {
  const sim = new WaterLevelStationSimulator();
  await sim.start();
  const rec = recorder();
  const wrong = profile([{ metric: 'humidity', area: 'holding', address: 40, type: 'uint16' }]);
  const driver = createModbusDriver(deviceConfig('wl-wrong-map', sim.port), wrong, rec);
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => driver.health().state === 'error', 'health error');
  assert.match(driver.health().lastError ?? '', /holding 40\.\.40 \(humidity\): device answered with Modbus exception 2: Illegal data address/);
  assert.equal(rec.emits.length, 1);
  assert.equal(rec.emits[0]![0]!.reason, 'comm_error');
});

/** A device whose map has a hole (1..4): it refuses any read that spans it. */
class HoleyDevice extends ModbusSimulator {
  protected register(area: 'holding' | 'input', address: number): number {
    if (area === 'holding' && address === 0) return 250; // 250 cm
    if (area === 'holding' && address === 5) return 0x0003;
    throw illegalAddress(area, address);
  }
}

test('a device that refuses reads across a hole in its map is read point by point', async (t) => {
  const sim = new HoleyDevice();
  await sim.start();
  const rec = recorder();
  const p = profile([
    { metric: 'water_level', area: 'holding', address: 0, type: 'int16', unit: 'cm' },
    { metric: 'status_word', area: 'holding', address: 5, type: 'uint16' },
  ]);
  const driver = createModbusDriver(deviceConfig('wl-holey', sim.port), p, rec);
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => rec.emits.length >= 2, '2 polls');
  for (const readings of rec.emits) {
    assert.deepEqual(readings.map((r) => [r.metric, r.value, r.q]), [['water_level', 2.5, 'good'], ['status_word', 3, 'good']]);
  }
  assert.equal(driver.health().state, 'ok');
  assert.equal(rec.logs.filter((l) => l.msg.startsWith('device refused a multi-register read')).length, 1);
});

test('smoke/heat detector: holding registers, coil and discrete input; a fire shows up', async (t) => {
  const sim = new SmokeHeatDetectorSimulator();
  await sim.start();
  sim.setTemperature(28);
  const rec = recorder();
  const driver = createModbusDriver(deviceConfig('fd-chodongba', sim.port), profiles.get('smoke-heat-detector')!, rec);
  t.after(async () => {
    await driver.stop();
    await sim.stop();
  });
  await driver.start();
  await until(() => rec.emits.length >= 1, 'a poll');
  const calm = rec.emits[0]!;
  assert.deepEqual(calm.map((r) => [r.metric, r.value, r.unit]), [
    ['temperature', 28, '°C'], ['co', 0, 'ppm'], ['status_word', 0, ''], ['smoke', false, 'bool'], ['fault', false, 'bool'],
  ]);

  sim.startFire({ riseCPerS: 40, smokeAfterS: 0.2 });
  sim.setTrouble(true);
  await until(() => rec.emits.some((e) => byMetric(e, 'smoke').value === true), 'smoke');
  const fire = rec.emits.find((e) => byMetric(e, 'smoke').value === true)!;
  assert.ok((byMetric(fire, 'temperature').value as number) > 28);
  assert.equal(byMetric(fire, 'fault').value, true);
  assert.ok(((byMetric(fire, 'status_word').value as number) & 0x8001) === 0x8001, 'status word: smoke and trouble bits');
});

test('counter devices: every reading names the request that produced it, per unit id', async (t) => {
  const sim = new CounterDeviceSimulator();
  await sim.start();
  const counter = profiles.get('test-counter')!;
  const recs = [1, 2, 3].map(() => recorder());
  const drivers = [1, 2, 3].map((unitId, i) =>
    createModbusDriver(deviceConfig(`counter-${unitId}`, sim.port, { connection: { host: '127.0.0.1', port: sim.port, unitId, timeoutMs: 500 } }), counter, recs[i]!),
  );
  t.after(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await sim.stop();
  });
  await Promise.all(drivers.map((d) => d.start()));
  await until(() => recs.every((r) => r.emits.length >= 5), '5 polls each');
  await Promise.all(drivers.map((d) => d.stop()));
  [1, 2, 3].forEach((unitId, i) => {
    const stored = recs[i]!.emits.map((e) => {
      assert.equal(e.length, 1);
      assert.equal(e[0]!.dev, `counter-${unitId}`);
      return e[0]!.value;
    });
    const served = sim.servedCounts(unitId);
    assert.deepEqual(stored, served.slice(0, stored.length), `unit ${unitId}`);
    assert.ok(served.length - stored.length <= 1);
    assert.deepEqual(stored.slice(0, 3), [1, 2, 3]);
  });
});
