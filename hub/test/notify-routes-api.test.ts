/**
 * GET /api/v1/notifications/routes: the channels, routes and escalation tiers in force for the
 * admin console, with where each channel goes but never a secret, nor the file or variable that
 * holds it; admins only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHub } from '../src/hub.js';
import { silentLogger, tempDir, testConfig } from './helpers.js';

const SECRET = 'hub-test-webhook-secret-0123456789';
const SMTP_PASSWORD = 'smtp-password-do-not-show';

test('notification routes in force: channels by destination with a secret flag (never the secret), routes, escalation tiers; admins only', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'hook.secret'), SECRET, { mode: 0o600 });
  process.env.IOC_TEST_SMTP_PASSWORD = SMTP_PASSWORD;
  t.after(() => delete process.env.IOC_TEST_SMTP_PASSWORD);
  const hub = await startHub(
    {
      ...testConfig(join(dir, 'data')),
      auth: { open: false },
      notify: {
        channels: [
          { id: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/hook?token=abc', secretFile: 'hook.secret' },
          { id: 'mail', type: 'email', host: 'smtp.example.org', user: 'ioc', passwordEnv: 'IOC_TEST_SMTP_PASSWORD', from: 'ioc@example.org', to: ['truc.ban@example.org'] },
          { id: 'province', type: 'mqtt', area: 'province' },
        ],
        routes: [
          { channels: ['ops', 'province'], areas: ['46'] },
          { channels: ['mail'], areas: ['19816'], minSeverity: 'severe', kinds: ['flood-levels'] },
        ],
        escalation: [{ afterMinutes: 15, channels: ['mail'], minSeverity: 'extreme' }],
      },
    },
    { logger: silentLogger(), configDir: dir },
  );
  t.after(() => hub.close());
  const admin = hub.auth!.createApiKey({ name: 'admin', role: 'admin', areas: ['*'] }, 'test').key;
  const operator = hub.auth!.createApiKey({ name: 'operator', role: 'operator', areas: ['46'] }, 'test').key;
  const get = async (key?: string) => {
    const res = await fetch(`${hub.apiUrl}/notifications/routes`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) };
  };

  assert.equal((await get()).status, 401);
  assert.equal((await get(operator)).status, 403);
  const r = await get(admin);
  assert.equal(r.status, 200, r.text);
  for (const hidden of [SECRET, SMTP_PASSWORD, 'hook.secret', 'IOC_TEST_SMTP_PASSWORD', 'token=abc']) assert.ok(!r.text.includes(hidden), `${hidden} is not shown`);
  assert.deepEqual(
    r.body.channels.map((c: { id: string; type: string; destination: string; secret: boolean; pending: number; dead: number }) => [c.id, c.type, c.destination, c.secret, c.pending, c.dead]),
    [
      ['ops', 'webhook', 'http://127.0.0.1:9/hook', true, 0, 0],
      ['mail', 'email', 'truc.ban@example.org', true, 0, 0],
      ['province', 'mqtt', 'ioc/v1/alerts/{province}', false, 0, 0],
    ],
  );
  assert.equal(r.body.channels[0].maxAttempts, 12, 'the defaults as in force');
  assert.deepEqual(r.body.routes[1], { channels: ['mail'], areas: ['19816'], minSeverity: 'severe', kinds: ['flood-levels'], includeExercise: false });
  assert.deepEqual(r.body.escalation, [{ afterMinutes: 15, channels: ['mail'], areas: ['*'], minSeverity: 'extreme', includeExercise: false }]);
});
