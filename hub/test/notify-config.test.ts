/** hub.yaml `notify`: defaults, paths, and every refusal naming its key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@ioc/shared';
import { parseHubConfig, resolveHubConfig } from '../src/config/load.js';
import type { HubConfig } from '../src/config/schema.js';
import { tempDir, testConfig } from './helpers.js';

function resolveWith(notify: unknown, dir = '/tmp') {
  return resolveHubConfig({ ...testConfig(join(dir, 'data')), notify } as HubConfig, dir);
}

function refusal(notify: unknown, dir?: string): string {
  try {
    resolveWith(notify, dir);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.reason;
  }
  throw new Error('accepted');
}

test('notify: none by default; channels, routes and tiers get their defaults; secret file paths resolve against the config folder', (t) => {
  assert.deepEqual(resolveHubConfig(testConfig('/tmp/data'), '/tmp').notify, { channels: [], routes: [], escalation: [] });
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'hook.secret'), 'abc\n', { mode: 0o600 });
  const yaml = `
registry:
  gateways: [{ id: gw-hue-01 }]
notify:
  channels:
    - { id: ops-hook, type: webhook, url: "https://ews.hue.gov.vn/ioc", secretFile: secrets/hook.secret, concurrency: 4 }
    - { id: duty-mail, type: email, host: smtp.hue.gov.vn, from: "IOC <ioc@hue.gov.vn>", to: [trucban@hue.gov.vn], user: ioc, passwordEnv: IOC_SMTP_PASSWORD }
    - { id: province-mqtt, type: mqtt }
  routes:
    - { channels: [ops-hook, province-mqtt] }
    - { channels: [duty-mail], areas: ["46"], minSeverity: moderate, categories: [flood, fire] }
  escalation:
    - { afterMinutes: 15, channels: [duty-mail], minSeverity: severe }
`;
  const { config } = parseHubConfig(yaml, dir);
  const [hook, mail, mq] = config.notify.channels;
  assert.equal(hook!.secretFile, join(dir, 'secrets', 'hook.secret'));
  assert.deepEqual([hook!.concurrency, hook!.timeoutMs, hook!.maxAttempts, hook!.maxAgeMinutes, hook!.retry], [4, 10_000, 12, 1440, { initialMs: 5000, maxMs: 600_000 }]);
  assert.equal(mail!.tls, 'starttls');
  assert.equal(mq!.area, 'commune');
  assert.deepEqual(config.notify.routes[0], { channels: ['ops-hook', 'province-mqtt'], areas: ['*'], includeExercise: false });
  assert.deepEqual(config.notify.escalation[0], { afterMinutes: 15, channels: ['duty-mail'], minSeverity: 'severe', areas: ['*'], includeExercise: false });
});

test('notify: refusals name the key and say why', () => {
  const mqtt = { id: 'a', type: 'mqtt' };
  assert.equal(refusal({ channels: [{ id: 'a', type: 'sms' }] }), 'notify.channels.0.type: must be one of "webhook", "email", "mqtt"');
  assert.equal(refusal({ chanels: [] }), 'notify.chanels: unknown key');
  assert.equal(refusal({ channels: [{ id: 'a', type: 'webhook', secretEnv: 'X' }] }), 'notify.channels.0.url: required key is missing');
  assert.equal(refusal({ channels: [{ id: 'a', type: 'webhook', url: 'https://x.vn/h', secretEnv: 'X', retries: 3 }] }), 'notify.channels.0.retries: unknown key');
  assert.equal(refusal({ channels: [{ id: 'a', type: 'mqtt', url: 'https://x.vn/h' }] }), 'notify.channels.0.url: unknown key', "another type's option");
  assert.match(refusal({ channels: [{ id: 'a', type: 'webhook', url: 'https://x.vn/h', secret: 'hunter2' }] }), /^notify\.channels\.0\.secret: inline secrets are refused \(hub\.yaml is copied into the audit log/);
  assert.equal(refusal({ channels: [{ id: 'a', type: 'webhook', url: 'https://x.vn/h' }] }), 'notify.channels.0.secretFile / secretEnv: give exactly one (the HMAC signing secret)');
  assert.match(refusal({ channels: [{ id: 'a', type: 'webhook', url: 'http://ews.hue.gov.vn/h', secretEnv: 'X' }] }), /^notify\.channels\.0\.url: plain http:\/\/ only to a loopback host, got "ews\.hue\.gov\.vn"/);
  assert.match(refusal({ channels: [{ id: 'm', type: 'email', host: 'smtp.hue.gov.vn', tls: 'none', from: 'a@b.vn', to: ['c@d.vn'] }] }), /^notify\.channels\.0\.tls: none is only allowed with a loopback host/);
  assert.match(refusal({ channels: [{ id: 'm', type: 'email', host: 'smtp.hue.gov.vn', from: 'a@b.vn', to: ['c@d.vn'], password: 'x' }] }), /^notify\.channels\.0\.password: inline secrets are refused/);
  assert.equal(refusal({ channels: [mqtt, mqtt] }), 'notify.channels.1.id: duplicate channel id "a"');
  assert.equal(refusal({ channels: [mqtt], routes: [{ channels: ['a', 'b'] }] }), 'notify.routes.0.channels.1: unknown channel "b" (notify.channels: a)');
  assert.equal(refusal({ channels: [mqtt], escalation: [{ afterMinutes: 10, channels: ['x'] }] }), 'notify.escalation.0.channels.0: unknown channel "x" (notify.channels: a)');
  assert.equal(refusal({ channels: [mqtt], routes: [{ channels: ['a'], minSeverity: 'huge' }] }), 'notify.routes.0.minSeverity: must be one of "minor", "moderate", "severe", "extreme"');
  assert.equal(refusal({ channels: [mqtt], routes: [{ channels: ['a'], areas: ['Huế'] }] }), 'notify.routes.0.areas.0: must match pattern "^(\\*|[0-9]{2}|[0-9]{5})$"');
  assert.equal(refusal({ channels: [mqtt], escalation: [{ afterMinutes: 0, channels: ['a'] }] }), 'notify.escalation.0.afterMinutes: must be > 0');
  assert.match(refusal({ channels: [{ id: 'a', type: 'webhook', url: 'https://x.vn/h', secretFile: 'nope.secret' }] }, '/tmp/ioc-no-such-dir'), /^notify\.channels\.0\.secretFile: file not found: \/tmp\/ioc-no-such-dir\/nope\.secret$/);
  assert.equal(refusal({ channels: [{ ...mqtt, retry: { initialMs: 5000, maxMs: 1000 } }] }), 'notify.channels.0.retry.maxMs: must be at least retry.initialMs (5000)');
});
