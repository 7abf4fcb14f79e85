/**
 * Interop: the Modbus driver against an independent Modbus TCP server, pymodbus
 * (test/simulators/pymodbus_station.py), reading with the shipped profiles. Our own simulators
 * share modbus-serial with the driver; this catches anything both sides of one library get wrong.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeviceProfile, DriverHealth, Reading } from '@ioc/shared';
import { loadProfiles } from '../src/config/profiles.js';
import { createModbusDriver } from '../src/drivers/modbus/index.js';
import { deviceConfig, profile, recorder } from './modbus-support.js';
import { until } from '../../test/lib/until.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../test/simulators/pymodbus_station.py', import.meta.url));
const profiles = loadProfiles(fileURLToPath(new URL('../../firmware-configs/profiles', import.meta.url)));

const missing = spawnSync(PYTHON, ['-c', 'import pymodbus'], { stdio: 'ignore' }).status !== 0;

/** Starts the station; resolves with its port once it prints "PORT n". */
function startStation(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pymodbus station did not start within 10 s: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pymodbus station exited with ${code}: ${err}`));
    });
  });
}

describe('Modbus driver ↔ pymodbus', { skip: missing && 'python3-pymodbus not installed: apt-get install python3-pymodbus' }, () => {
  let station: { child: ChildProcess; port: number };

  before(async () => {
    station = await startStation();
  });
  after(() => {
    // Only the process this test started, by its own handle.
    station?.child.kill('SIGTERM');
  });

  async function firstPoll(p: DeviceProfile, unitId: number): Promise<{ readings: Reading[]; health: DriverHealth }> {
    const rec = recorder();
    const dev = deviceConfig(`py-${p.model}`, station.port, { connection: { host: '127.0.0.1', port: station.port, unitId, timeoutMs: 1000 } });
    const driver = createModbusDriver(dev, p, rec);
    await driver.start();
    try {
      await until(() => rec.emits.length >= 1, `a poll of ${p.model}`, 5000);
      return { readings: rec.emits[0]!, health: driver.health() };
    } finally {
      await driver.stop();
    }
  }

  const values = (readings: Reading[]) => Object.fromEntries(readings.map((r) => [r.metric, [r.value, r.q]]));

  test('radar-water-level: int16 cm, uint16 × 0.01 V, status word and its fault bit', async () => {
    const { readings, health } = await firstPoll(profiles.get('radar-water-level')!, 1);
    assert.equal(health.state, 'ok');
    assert.deepEqual(values(readings), {
      water_level: [1.23, 'good'], battery_voltage: [12.75, 'good'], status_word: [1, 'good'], fault: [true, 'good'],
    });
  });

  test('rain-gauge-float: float32 in CDAB word order from input registers', async () => {
    const { readings } = await firstPoll(profiles.get('rain-gauge-float')!, 2);
    assert.deepEqual(values(readings), { rainfall: [12.3, 'good'], battery_voltage: [12.6, 'good'] });
  });

  test('the same registers read as ABCD are not 12.3 mm (the word order is real)', async () => {
    const rain = profiles.get('rain-gauge-float')!;
    const { readings } = await firstPoll({ ...rain, byteOrder: 'ABCD' }, 2);
    assert.notEqual(readings[0]!.value, 12.3);
  });

  test('smoke-heat-detector: negative 0.1 °C, CO, coil and discrete input', async () => {
    const { readings } = await firstPoll(profiles.get('smoke-heat-detector')!, 3);
    assert.deepEqual(values(readings), {
      temperature: [-5.5, 'good'], co: [7, 'good'], status_word: [5, 'good'], smoke: [true, 'good'], fault: [false, 'good'],
    });
  });

  test("pymodbus's illegal-address exception becomes a clear driver error", async () => {
    const { readings, health } = await firstPoll(profile([{ metric: 'humidity', area: 'holding', address: 10, type: 'uint16' }]), 1);
    assert.equal(health.state, 'error');
    assert.match(health.lastError ?? '', /holding 10\.\.10 \(humidity\): device answered with Modbus exception 2: Illegal data address/);
    assert.deepEqual(readings.map((r) => r.reason), ['comm_error']);
  });
});
