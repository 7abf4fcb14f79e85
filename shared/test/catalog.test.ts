import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unitConverter, metricDef, METRICS } from '@ioc/shared';

test('length conversions to the canonical metre and millimetre', () => {
  assert.equal(unitConverter('cm', 'm')(315), 3.15);
  assert.equal(unitConverter('mm', 'm')(1500), 1.5);
  assert.ok(Math.abs(unitConverter('ft', 'm')(10) - 3.048) < 1e-12);
  assert.equal(unitConverter('cm', 'mm')(2.5), 25);
  assert.equal(unitConverter('m', 'm')(1.23), 1.23);
});

test('temperature conversions to °C', () => {
  assert.equal(unitConverter('°F', '°C')(212), 100);
  assert.equal(unitConverter('°F', '°C')(32), 0);
  assert.ok(Math.abs(unitConverter('K', '°C')(300) - 26.85) < 1e-9);
});

test('other dimensions and impossible conversions', () => {
  assert.equal(unitConverter('mV', 'V')(3700), 3.7);
  assert.equal(unitConverter('kW', 'W')(0.25), 250);
  assert.equal(unitConverter('ppb', 'ppm')(2000), 2);
  assert.throws(() => unitConverter('cm', '°C'), /no conversion from unit "cm" to "°C"/);
  assert.throws(() => unitConverter('furlong', 'm'), /no conversion/);
});

test('catalog has canonical units, ranges and both languages', () => {
  assert.equal(metricDef('water_level')?.unit, 'm');
  assert.equal(metricDef('pm2_5')?.unit, 'µg/m³');
  assert.equal(metricDef('smoke')?.kind, 'boolean');
  assert.equal(metricDef('water_level')?.alerting, true);
  assert.equal(metricDef('nope'), undefined);
  for (const d of METRICS.values()) {
    assert.ok(d.vi && d.en, d.name);
    if (d.kind === 'number' && d.range) assert.ok(d.range[0] < d.range[1], d.name);
  }
});
