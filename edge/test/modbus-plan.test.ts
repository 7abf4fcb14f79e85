import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModbusPoint } from '@ioc/shared';
import { planReads, MAX_GAP_REGISTERS } from '../src/drivers/modbus/plan.js';

const p = (metric: string, area: ModbusPoint['area'], address: number, type: ModbusPoint['type'] = 'uint16', extra: Partial<ModbusPoint> = {}): ModbusPoint => ({
  metric, area, address, type, ...extra,
});

const shape = (points: ModbusPoint[], opts = {}) =>
  planReads(points, opts).map((b) => ({ area: b.area, start: b.start, count: b.count, points: b.points.map((m) => [m.index, m.offset]) }));

test('contiguous registers, and bit points sharing a register, make one request', () => {
  assert.deepEqual(
    shape([p('water_level', 'holding', 0, 'int16'), p('battery_voltage', 'holding', 1), p('status_word', 'holding', 2), p('fault', 'holding', 2, 'bit', { bit: 0 })]),
    [{ area: 'holding', start: 0, count: 3, points: [[0, 0], [1, 1], [2, 2], [3, 2]] }],
  );
});

test('32-bit values span two registers', () => {
  assert.deepEqual(shape([p('rainfall', 'input', 0, 'float32'), p('battery_voltage', 'input', 2, 'float32')]), [
    { area: 'input', start: 0, count: 4, points: [[0, 0], [1, 2]] },
  ]);
});

test('a small gap is read through; a large one splits the request', () => {
  const near = MAX_GAP_REGISTERS + 1; // 1 + gap of MAX_GAP_REGISTERS
  assert.deepEqual(shape([p('co', 'holding', 0), p('humidity', 'holding', near)]), [
    { area: 'holding', start: 0, count: near + 1, points: [[0, 0], [1, near]] },
  ]);
  assert.deepEqual(shape([p('co', 'holding', 0), p('humidity', 'holding', near + 1)]).map((b) => [b.start, b.count]), [[0, 1], [near + 1, 1]]);
});

test('points are sorted by address and areas are never mixed', () => {
  const plan = shape([p('co', 'holding', 10), p('smoke', 'coil', 3, 'bool'), p('humidity', 'holding', 8), p('fault', 'discrete', 3, 'bool'), p('pm10', 'input', 8)]);
  assert.deepEqual(plan, [
    { area: 'holding', start: 8, count: 3, points: [[2, 0], [0, 2]] },
    { area: 'input', start: 8, count: 1, points: [[4, 0]] },
    { area: 'coil', start: 3, count: 1, points: [[1, 0]] },
    { area: 'discrete', start: 3, count: 1, points: [[3, 0]] },
  ]);
});

test('no request exceeds 125 registers', () => {
  const points = Array.from({ length: 130 }, (_, i) => p(`m${i}`, 'holding', i));
  const plan = planReads(points);
  assert.deepEqual(plan.map((b) => [b.start, b.count]), [[0, 125], [125, 5]]);
  // A 32-bit value is never cut in two at the limit.
  const wide = [...Array.from({ length: 62 }, (_, i) => p(`a${i}`, 'holding', i * 2, 'uint32')), p('last', 'holding', 124, 'uint32')];
  assert.deepEqual(planReads(wide).map((b) => [b.start, b.count]), [[0, 124], [124, 2]]);
});

test('coils and discrete inputs group up to 2000 with wider gaps', () => {
  const plan = planReads([p('smoke', 'coil', 0, 'bool'), p('lamp_on', 'coil', 40, 'bool'), p('fault', 'coil', 1999, 'bool'), p('camera_online', 'coil', 2000, 'bool')]);
  assert.deepEqual(plan.map((b) => [b.start, b.count]), [[0, 41], [1999, 2]]);
});

test('one request per point when asked (devices that refuse reads across holes)', () => {
  const plan = planReads([p('water_level', 'holding', 0, 'int16'), p('battery_voltage', 'holding', 1), p('rainfall', 'holding', 2, 'float32')], { onePerPoint: true });
  assert.deepEqual(plan.map((b) => [b.start, b.count]), [[0, 1], [1, 1], [2, 2]]);
});
