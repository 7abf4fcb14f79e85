import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, Reading, type DeviceProfile, type ModbusPoint } from '@ioc/shared';
import { createPointNormalizer, normalizeComError, roundNoise } from '../src/normalize/normalize.js';

const validReading = compile(Reading);
const TS = Date.UTC(2020, 10, 12, 3, 0, 0);

function profileWith(point: ModbusPoint): DeviceProfile {
  return { model: 'test-model', protocol: 'modbus', pollIntervalMs: 1000, points: [point] };
}

function norm(point: Partial<ModbusPoint> & Pick<ModbusPoint, 'metric'>) {
  const p: ModbusPoint = { area: 'holding', address: 0, type: 'int16', ...point };
  return createPointNormalizer('wl-kimlong', p, profileWith(p));
}

function apply(point: Partial<ModbusPoint> & Pick<ModbusPoint, 'metric'>, raw: number | boolean): Reading {
  const r = norm(point).apply(raw, TS);
  assert.ok(validReading(r), `wire-valid reading: ${validReading.lastError()}`);
  return r;
}

test('scale and offset, then the catalog unit', () => {
  assert.deepEqual(apply({ metric: 'temperature', scale: 0.1, offset: -10, unit: '°C' }, 1234), {
    dev: 'wl-kimlong', metric: 'temperature', value: 113.4, unit: '°C', ts: TS, q: 'good',
  });
});

test('cm → m for water level, without float noise', () => {
  assert.equal(apply({ metric: 'water_level', unit: 'cm' }, 315).value, 3.15);
  assert.equal(apply({ metric: 'water_level', unit: 'cm' }, 7).value, 0.07);
  assert.equal(apply({ metric: 'water_level', unit: 'cm' }, -12).value, -0.12);
  // 3 * 0.1 is 0.30000000000000004 in plain floating point
  assert.equal(apply({ metric: 'water_level', unit: 'm', scale: 0.1 }, 3).value, 0.3);
  assert.equal(apply({ metric: 'water_level', unit: 'mm' }, 1234).value, 1.234);
});

test('°F → °C and mV → V', () => {
  assert.equal(apply({ metric: 'temperature', unit: '°F' }, 212).value, 100);
  assert.equal(apply({ metric: 'temperature', unit: '°F', scale: 0.1 }, 986).value, 37);
  assert.equal(apply({ metric: 'battery_voltage', unit: 'mV', type: 'uint16' }, 12750).value, 12.75);
});

test('no unit in the profile means the catalog unit', () => {
  const r = apply({ metric: 'co', type: 'uint16' }, 7);
  assert.equal(r.value, 7);
  assert.equal(r.unit, 'ppm');
});

test('outside the catalog range: q bad, out_of_range, value kept', () => {
  // 70 m is above water_level's plausible 60 m
  assert.deepEqual(apply({ metric: 'water_level', unit: 'cm' }, 7000), {
    dev: 'wl-kimlong', metric: 'water_level', value: 70, unit: 'm', ts: TS, q: 'bad', reason: 'out_of_range',
  });
  assert.equal(apply({ metric: 'temperature', unit: '°C' }, -41).reason, 'out_of_range');
  assert.equal(apply({ metric: 'temperature', unit: '°C' }, -40).q, 'good');
});

test("the point's range overrides the catalog's, in the catalog unit", () => {
  const point = { metric: 'water_level', unit: 'cm', range: [0, 10] as [number, number] };
  assert.equal(apply(point, 1200).reason, 'out_of_range');
  assert.equal(apply(point, 1200).value, 12);
  assert.equal(apply(point, 900).q, 'good');
  assert.equal(apply(point, -1).q, 'bad');
});

test('NaN and infinities: value null, q bad, not_a_number', () => {
  for (const raw of [NaN, Infinity, -Infinity]) {
    const r = apply({ metric: 'rainfall', type: 'float32', unit: 'mm' }, raw);
    assert.deepEqual({ value: r.value, q: r.q, reason: r.reason }, { value: null, q: 'bad', reason: 'not_a_number' });
  }
});

test('invalidRaw: value null, q bad, sensor_fault (checked before scaling)', () => {
  const r = apply({ metric: 'water_level', unit: 'cm', invalidRaw: 32767 }, 32767);
  assert.deepEqual({ value: r.value, q: r.q, reason: r.reason }, { value: null, q: 'bad', reason: 'sensor_fault' });
  assert.equal(apply({ metric: 'water_level', unit: 'cm', invalidRaw: 32767 }, 315).q, 'good');
  assert.equal(apply({ metric: 'temperature', scale: 0.1, invalidRaw: -32768 }, -32768).reason, 'sensor_fault');
});

test('boolean metrics carry true/false, from a coil, a bit or a register', () => {
  const smoke = apply({ metric: 'smoke', area: 'coil', type: 'bool' }, true);
  assert.deepEqual(smoke, { dev: 'wl-kimlong', metric: 'smoke', value: true, unit: 'bool', ts: TS, q: 'good' });
  assert.equal(apply({ metric: 'fault', type: 'bit', bit: 0 }, false).value, false);
  assert.equal(apply({ metric: 'lamp_on', type: 'bool' }, 0).value, false);
  assert.equal(apply({ metric: 'lamp_on', type: 'uint16' }, 3).value, true);
});

test('normalizer exposes the canonical unit and the catalog alerting flag', () => {
  const n = norm({ metric: 'water_level', unit: 'cm' });
  assert.equal(n.metric, 'water_level');
  assert.equal(n.unit, 'm');
  assert.equal(n.alerting, true);
  assert.equal(norm({ metric: 'battery_voltage', unit: 'V' }).alerting, false);
});

test('set-up fails, naming device and metric, for an unknown metric or an impossible unit', () => {
  assert.throws(() => norm({ metric: 'water_temperature' }), /device "wl-kimlong".*metric "water_temperature": not in the metric catalog/);
  assert.throws(() => norm({ metric: 'water_level', unit: 'kg' }), /device "wl-kimlong".*metric "water_level": no conversion from unit "kg" to "m"/);
  assert.throws(() => norm({ metric: 'temperature', unit: 'cm' }), /metric "temperature".*"cm"/);
  assert.throws(() => norm({ metric: 'water_level', type: 'bit', bit: 0 }), /metric "water_level": type "bit" gives true\/false/);
  assert.throws(() => norm({ metric: 'smoke', type: 'bool', unit: '%' }), /metric "smoke": a boolean metric has no unit/);
});

test('a failed read becomes one comm_error reading per metric', () => {
  const r = normalizeComError('wl-kimlong', 'water_level', 'm', TS);
  assert.deepEqual(r, { dev: 'wl-kimlong', metric: 'water_level', value: null, unit: 'm', ts: TS, q: 'bad', reason: 'comm_error' });
  assert.ok(validReading(r));
});

test('roundNoise keeps integers and large counters exact, trims binary noise', () => {
  assert.equal(roundNoise(4294967295), 4294967295);
  assert.equal(roundNoise(0.1 + 0.2), 0.3);
  assert.equal(roundNoise(1e-10 * 3), 3e-10);
  assert.equal(roundNoise(123456.789), 123456.789);
  assert.equal(roundNoise(-0.07000000000000001), -0.07);
});
