import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, MAX_PAYLOAD_BYTES } from '@ioc/shared';
import { loadHubConfig, parseHubConfig, resolveHubConfig } from '../src/config/load.js';
import { startHub } from '../src/hub.js';
import { silentLogger, tempDir, testConfig } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../hub.example.yaml', import.meta.url));

const minimal = `
registry:
  gateways: [{ id: gw-hue-01 }]
  devices:
    - { id: wl-kimlong, gateway: gw-hue-01, profile: radar-water-level, name: Kim Long, communeCode: '19816',
        provinceCode: '46', lat: 16.46, lon: 107.55, alarmLevels: { bd1: 1.0, bd2: 2.0, bd3: 3.5 } }
`;

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.reason;
  }
  assert.fail('expected the config to be refused');
}

test('the example hub.yaml loads; defaults are filled and paths resolved against its folder', () => {
  const { config, configDir } = loadHubConfig(EXAMPLE);
  assert.equal(configDir, fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''));
  assert.equal(config.hub.dataDir, join(configDir, '.data'));
  assert.equal(config.http.host, '127.0.0.1');
  assert.equal(config.mqtt.maxPayloadBytes, MAX_PAYLOAD_BYTES);
  assert.deepEqual(config.registry.gateways.map((g) => g.id), ['gw-hue-01']);
  const kimLong = config.registry.devices.find((d) => d.id === 'wl-kimlong');
  assert.deepEqual(kimLong?.alarmLevels, { bd1: 1.0, bd2: 2.0, bd3: 3.5 });
  assert.equal(kimLong?.provinceCode, '46');
});

test('defaults of a minimal file', () => {
  const { config } = parseHubConfig(minimal, '/etc/ioc');
  assert.deepEqual(config.mqtt, {
    host: '0.0.0.0', port: 8883, serverNames: ['localhost', '127.0.0.1'], maxPayloadBytes: MAX_PAYLOAD_BYTES,
    maxConnections: 1000, connectTimeoutMs: 10_000, rateLimit: { messagesPerS: 5000, burst: 20_000 }, consumers: [],
  });
  assert.deepEqual(config.ingest, { maxClockSkewMs: 600_000, maxReadingAgeDays: 30, groupCommit: { maxBatches: 64, maxReadings: 2000, maxWaitMs: 250, quietMs: 5, urgentLane: true } });
  assert.deepEqual(config.stream, { resumeMaxItems: 100_000, resumeMaxAgeS: 600, heartbeatS: 30, maxClients: 500, maxLagS: 30, highWaterKB: 1024 });
  assert.deepEqual(config.http, { host: '127.0.0.1', port: 8080, allowedHosts: [], console: { enabled: true } });
  assert.equal(config.auth.open, false, 'logins are on unless a file turns them off');
  assert.equal(config.hub.dataDir, '/etc/ioc/data');
  assert.equal(config.alerts.lateAfterS, 120);
  assert.equal(config.alerts.rules, undefined, 'the built-in rules');
});

test('a bad key fails naming the key', () => {
  assert.match(reason(() => parseHubConfig(minimal + 'mqtt: { prot: 1883 }\n', '/x')), /^mqtt\.prot: unknown key/);
  assert.match(reason(() => parseHubConfig(minimal + 'http: { port: eighty }\n', '/x')), /^http\.port: must be integer/);
  assert.match(reason(() => parseHubConfig(minimal.replace("provinceCode: '46'", "provinceCode: 'Huế'"), '/x')), /registry\.devices\.0\.provinceCode: must match pattern/);
  assert.match(reason(() => parseHubConfig('registry: {}\nhub: { datadir: x }\n', '/x')), /^hub\.datadir: unknown key/);
  assert.match(reason(() => parseHubConfig('hub: {}\n', '/x')), /registry: required key is missing/);
});

test('alarm levels that are not increasing are refused, naming the device', () => {
  const bad = minimal.replace('bd1: 1.0, bd2: 2.0, bd3: 3.5', 'bd1: 1.0, bd2: 3.5, bd3: 2.0');
  assert.match(reason(() => parseHubConfig(bad, '/x')), /^registry\.devices\.0\.alarmLevels: alarm levels must be increasing \(bd1 < bd2 < bd3\), got bd1=1, bd2=3\.5, bd3=2$/);
  const equal = minimal.replace('bd1: 1.0, bd2: 2.0', 'bd1: 2.0, bd2: 2.0');
  assert.match(reason(() => parseHubConfig(equal, '/x')), /alarmLevels: alarm levels must be increasing/);
});

test('registry consistency: unknown gateway of a device, duplicate ids, missing TLS files', () => {
  assert.match(reason(() => parseHubConfig(minimal.replace('gateway: gw-hue-01', 'gateway: gw-hue-02'), '/x')), /registry\.devices\.0\.gateway: unknown gateway "gw-hue-02"/);
  assert.match(reason(() => parseHubConfig(minimal.replace('[{ id: gw-hue-01 }]', '[{ id: gw-hue-01 }, { id: gw-hue-01 }]'), '/x')), /registry\.gateways\.1\.id: duplicate gateway id/);
  assert.match(reason(() => parseHubConfig(minimal + 'mqtt: { tls: { ca: ca.crt, cert: hub.crt, key: hub.key } }\n', '/nonexistent')), /mqtt\.tls\.ca: file not found: \/nonexistent\/ca\.crt/);
});

test('a file that does not exist or is not YAML fails with the file name', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  assert.throws(() => loadHubConfig(join(dir, 'nope.yaml')), (err: unknown) => err instanceof ConfigError && /cannot read: ENOENT/.test(err.message) && err.file.endsWith('nope.yaml'));
  writeFileSync(join(dir, 'hub.yaml'), 'registry: [unclosed\n');
  assert.throws(() => loadHubConfig(join(dir, 'hub.yaml')), /not valid YAML/);
});

test('startHub validates a config built in code the same way', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const cfg = testConfig(dir);
  cfg.registry.devices![0]!.alarmLevels = { bd1: 3, bd2: 2, bd3: 1 };
  await assert.rejects(startHub(cfg, { logger: silentLogger() }), (err: unknown) => err instanceof ConfigError && /alarmLevels: alarm levels must be increasing/.test(err.message));
  // The input object is not modified by validation (defaults go to a copy).
  assert.equal(cfg.mqtt?.maxPayloadBytes, undefined);
  assert.equal(resolveHubConfig(testConfig(dir), dir).mqtt.maxPayloadBytes, MAX_PAYLOAD_BYTES);
});
