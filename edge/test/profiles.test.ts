import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@ioc/shared';
import { loadProfiles } from '../src/config/profiles.js';
import { createPointNormalizer } from '../src/normalize/normalize.js';
import { planReads } from '../src/drivers/modbus/plan.js';

const SHIPPED = fileURLToPath(new URL('../../firmware-configs/profiles', import.meta.url));

function withDir(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-profiles-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadError(files: Record<string, string>): ConfigError {
  let caught: unknown;
  withDir(files, (dir) => {
    try {
      loadProfiles(dir);
    } catch (err) {
      caught = err;
    }
  });
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  return caught;
}

const GOOD = `model: probe
protocol: modbus
pollIntervalMs: 1000
points:
  - { metric: water_level, area: holding, address: 0, type: int16, unit: cm }
`;

test('the shipped profiles load, and every point of each sets up a normalizer', () => {
  const profiles = loadProfiles(SHIPPED);
  assert.deepEqual([...profiles.keys()].sort(), ['radar-water-level', 'rain-gauge-float', 'smoke-heat-detector', 'test-counter']);
  for (const profile of profiles.values()) {
    for (const point of profile.points) createPointNormalizer('dev-1', point, profile);
  }
  const radar = profiles.get('radar-water-level')!;
  assert.equal(radar.pollIntervalMs, 5000);
  assert.deepEqual(radar.points.map((p) => p.metric), ['water_level', 'battery_voltage', 'status_word', 'fault']);
  assert.equal(radar.points[0]!.invalidRaw, 0x7fff);
  // One request covers the radar's whole map.
  assert.deepEqual(planReads(radar.points).map((b) => [b.area, b.start, b.count]), [['holding', 0, 3]]);
  const rain = profiles.get('rain-gauge-float')!;
  assert.equal(rain.byteOrder, 'CDAB');
  assert.ok(rain.points.every((p) => p.type === 'float32'));
  const smoke = profiles.get('smoke-heat-detector')!;
  assert.deepEqual(new Set(smoke.points.map((p) => p.area)), new Set(['holding', 'coil', 'discrete']));
});

test('a mistyped key fails, naming the file and the key', () => {
  const err = loadError({ 'probe.yaml': GOOD.replace('unit: cm', 'unit: cm, scael: 0.1') });
  assert.match(err.file, /probe\.yaml$/);
  assert.match(err.message, /points\.0\.scael: unknown key/);
  const missing = loadError({ 'probe.yaml': GOOD.replace('address: 0', 'adress: 0') });
  assert.match(missing.message, /points\.0\.address: required key is missing/);
});

test('a wrong value fails, naming the key', () => {
  const err = loadError({ 'probe.yaml': GOOD.replace('type: int16', 'type: int64') });
  assert.match(err.message, /probe\.yaml: points\.0\.type/);
});

test('the file name must be the model', () => {
  const err = loadError({ 'radar.yaml': GOOD });
  assert.match(err.message, /radar\.yaml: model: "probe" does not match the file name .*probe\.yaml/);
});

test('checks the schema cannot express, each naming its key', () => {
  const point = (p: string) => `model: probe\nprotocol: modbus\npollIntervalMs: 1000\npoints:\n${p}`;
  const cases: Array<[string, RegExp]> = [
    ['  - { metric: fault, area: holding, address: 2, type: bit }\n', /points\.0\.bit: required for type "bit"/],
    ['  - { metric: waterlevel, area: holding, address: 0, type: int16 }\n', /points\.0\.metric: "waterlevel" is not in the metric catalog/],
    ['  - { metric: water_level, area: holding, address: 0, type: int16, unit: kg }\n', /points\.0\.unit: cannot convert "kg" to m/],
    ['  - { metric: smoke, area: coil, address: 0, type: uint16 }\n', /points\.0\.type: a coil holds one bit/],
    ['  - { metric: water_level, area: holding, address: 0, type: bit, bit: 1 }\n', /points\.0\.type: "bit" gives true\/false/],
    ['  - { metric: smoke, area: coil, address: 0, type: bool, scale: 2 }\n', /points\.0\.scale: not used by the boolean metric/],
    [
      '  - { metric: water_level, area: holding, address: 0, type: int16 }\n  - { metric: water_level, area: holding, address: 1, type: int16 }\n',
      /points\.1\.metric: "water_level" is already read by points\.0/,
    ],
    ['  - { metric: rainfall, area: input, address: 65535, type: float32 }\n', /points\.0\.address: the value runs past register 65535/],
  ];
  for (const [points, expected] of cases) {
    assert.match(loadError({ 'probe.yaml': point(points) }).message, expected);
  }
});

test('invalid YAML and a missing folder are reported with the path', () => {
  assert.match(loadError({ 'probe.yaml': 'model: [probe' }).message, /probe\.yaml: not valid YAML/);
  assert.throws(() => loadProfiles('/nonexistent/profiles'), (err: unknown) => err instanceof ConfigError && /ENOENT/.test(err.message));
});

test('only *.yaml files are profiles', () => {
  withDir({ 'probe.yaml': GOOD, 'README.md': '# notes', 'probe.yaml.bak': 'junk: [' }, (dir) => {
    assert.deepEqual([...loadProfiles(dir).keys()], ['probe']);
  });
});

test('a .yml file is an error, not silently skipped', () => {
  assert.match(loadError({ 'probe.yml': GOOD }).message, /probe\.yml: profile files are named \{model\}\.yaml/);
});
