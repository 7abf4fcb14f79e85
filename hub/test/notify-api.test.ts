/**
 * Notifications in a running hub: an alert change goes through the durable queue to a webhook
 * (signed) and the MQTT channel; a receiver that refuses makes a dead letter an admin sees and
 * replays over the API (audited); only admins reach these routes; metrics count it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../src/notify/channels/webhook.js';
import { startHub } from '../src/hub.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { metricValue, silentLogger, tempDir, testConfig, wl } from './helpers.js';
import { until } from '../../test/lib/until.js';

const SECRET = 'hub-test-webhook-secret-0123456789';

test('alert → queue → webhook and MQTT; a refused webhook is a dead letter an admin lists and replays (audited, admins only)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'hook.secret'), SECRET, { mode: 0o600 });
  let status = 400;
  const got: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const rx = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end(status === 400 ? 'unknown station' : '');
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => rx.close(() => r())));

  const hub = await startHub(
    {
      ...testConfig(join(dir, 'data')),
      auth: { open: false },
      notify: {
        channels: [
          { id: 'ops', type: 'webhook', url: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`, secretFile: 'hook.secret' },
          { id: 'province', type: 'mqtt' },
        ],
        routes: [{ channels: ['ops', 'province'], areas: ['46'] }],
      },
    },
    { logger: silentLogger(), configDir: dir },
  );
  t.after(() => hub.close());
  const admin = hub.auth!.createApiKey({ name: 'admin', role: 'admin', areas: ['*'] }, 'test').key;
  const viewer = hub.auth!.createApiKey({ name: 'viewer', role: 'viewer', areas: ['*'] }, 'test').key;
  const operator = hub.auth!.createApiKey({ name: 'operator', role: 'operator', areas: ['46'] }, 'test').key;
  const call = async (method: string, path: string, key?: string, body?: unknown) => {
    const res = await fetch(`${hub.apiUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };

  hub.alerts.evaluate([wl(2.5, Date.now() - 1000)]);
  const dead = await until(() => hub.notify.list({ status: 'dead', limit: 10 }, SYSTEM_SCOPE)[0], 'the webhook notification dead');
  await until(() => hub.notify.list({ channel: 'province', status: 'delivered', limit: 10 }, SYSTEM_SCOPE).length === 1, 'the MQTT notification delivered');
  assert.equal(dead.channel, 'ops');
  assert.deepEqual(verifyWebhookSignature(SECRET, got[0]!.headers, got[0]!.body), { ok: true }, 'signed with the secret from the file');

  assert.equal((await call('GET', '/notifications/dead')).status, 401);
  assert.equal((await call('GET', '/notifications/dead', viewer)).status, 403);
  assert.equal((await call('GET', '/notifications', operator)).status, 403, 'notify.manage is for admins');

  const list = await call('GET', '/notifications/dead', admin);
  assert.equal(list.status, 200);
  assert.equal(list.body.notifications.length, 1);
  const row = list.body.notifications[0];
  assert.equal(row.eventKind, 'raised');
  assert.equal(row.status, 'dead');
  assert.equal(row.deadReason, 'permanent failure: HTTP 400: unknown station');
  assert.deepEqual(row.attemptLog.map((a: { outcome: string; error: string }) => [a.outcome, a.error]), [['dead', 'HTTP 400: unknown station']]);
  assert.equal(typeof row.attemptLog[0].durationMs, 'number');
  assert.equal((await call('GET', '/notifications?status=delivered', admin)).body.notifications[0].channel, 'province');
  assert.equal((await call('GET', '/notifications?status=lost', admin)).status, 400);
  const one = await call('GET', `/notifications/${row.id}`, admin);
  assert.equal(one.body.payload.alertId, row.alertId);
  assert.match(one.body.payload.message.vi, /Kim Long/);

  // The receiver is fixed; an admin replays the dead letter.
  status = 204;
  assert.equal((await call('POST', `/notifications/${row.id}/replay`, viewer)).status, 403);
  const replayed = await call('POST', `/notifications/${row.id}/replay`, admin);
  assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
  assert.equal(replayed.body.notification.replays, 1);
  await until(() => hub.notify.get(row.id, SYSTEM_SCOPE)?.status === 'delivered', 'delivered after the replay');
  assert.equal(got.length, 2);
  assert.equal(got[1]!.headers['x-ioc-notification-id'], got[0]!.headers['x-ioc-notification-id'], 'the same notification id: the receiver can deduplicate');
  assert.equal((await call('POST', `/notifications/${row.id}/replay`, admin)).status, 409);
  assert.equal((await call('POST', '/notifications/99999/replay', admin)).status, 404);
  assert.deepEqual((await call('POST', '/notifications/dead/replay', admin, { channel: 'ops' })).body, { replayed: 0, ids: [] });

  const [entry] = hub.audit.list({ action: 'notify.replayed', limit: 5 });
  assert.equal(entry!.target, `notification:${row.id}`);
  assert.match(entry!.actor, /^apikey:/);
  assert.equal(hub.audit.list({ action: 'notify.replayed', limit: 5 }).length, 1, 'a replay of nothing is not audited');

  const metrics = await hub.metrics.registry.metrics();
  assert.equal(metricValue(metrics, 'ioc_hub_notify_sent_total', { channel: 'ops' }), 1);
  assert.equal(metricValue(metrics, 'ioc_hub_notify_dead_total', { channel: 'ops' }), 1);
  assert.equal(metricValue(metrics, 'ioc_hub_notify_sent_total', { channel: 'province' }), 1);
  assert.equal(metricValue(metrics, 'ioc_hub_notify_queue_depth', { channel: 'ops' }), 0);
  assert.equal(metricValue(metrics, 'ioc_hub_notify_dead_letters', { channel: 'ops' }), 0);
});
