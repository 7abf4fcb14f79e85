/**
 * The admin console's rules and notifications pages in Chromium against the whole demo site: the
 * admin enrols TOTP at first login; the demo river runs fast so the hub stores a flood; the admin
 * opens the flood rule, changes its tiers above BĐ3, backtests it over the stored data (its
 * episodes, and the rule in force alongside), saves it with a note, and the new version is listed;
 * a new rule is saved and deleted after a confirmation.
 * A webhook receiver that refuses makes a dead letter; the notifications page shows the routes in
 * force (no secret), the recent notifications with their attempts, and replays the dead letter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminLogin, browserMissing, launchBrowser, newConsoleContext, pageErrors, screenshot } from '../lib/browser.js';
import { DEMO_PASSWORD, startDemoSite } from '../lib/demo-site.js';
import { hubClient } from '../lib/hub-client.js';
import { until } from '../lib/until.js';

const SECRET = 'demo-webhook-secret-0123456789abcdef';
const CREST = [
  { tS: 0, levelM: 0.6 }, { tS: 6, levelM: 1.4 }, { tS: 12, levelM: 2.6 }, { tS: 18, levelM: 3.7 }, { tS: 22, levelM: 3.9 },
  { tS: 32, levelM: 3.9 }, { tS: 42, levelM: 2.4 }, { tS: 52, levelM: 0.8 }, { tS: 60, levelM: 0.7 },
];

test('admin rules: TOTP enrolment, backtest of an edited flood rule over stored data, save a new version; notifications: routes, attempts, dead-letter replay', { timeout: 240_000 }, async (t) => {
  const missing = browserMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ioc-admin-rules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hook.secret'), SECRET, { mode: 0o600 });

  // The receiver refuses (a permanent failure: a dead letter at once) until the test fixes it.
  let refuse = true;
  let received = 0;
  const rx = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(refuse ? 400 : 204).end(refuse ? 'unknown station' : '');
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => rx.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/ioc-hook`;

  // A fast flood, polled every 250 ms: through BĐ1–BĐ3 to a crest of 3.9 m (above the BĐ3 + 0.3 m
  // tier, below BĐ3 + 0.5 m) held for a while, and back down, in a minute.
  const site = await startDemoSite({
    dir, httpPort: 0, mqttPort: 0, speed: 1, pollIntervalMs: 250, hydrograph: CREST,
    hubExtra: {
      notify: {
        channels: [{ id: 'ops', type: 'webhook', url: hookUrl, secretFile: join(dir, 'hook.secret') }],
        routes: [{ channels: ['ops'], areas: ['46'], minSeverity: 'severe' }],
        escalation: [{ afterMinutes: 30, channels: ['ops'] }],
      },
    },
  });
  t.after(() => site.stop());
  const client = hubClient(site.base, { ca: readFileSync(site.caFile), apiKey: site.apiKey });

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const context = await newConsoleContext(browser);
  const page = await context.newPage();
  const errors = pageErrors(page);

  // First login of an admin: TOTP enrolment (the code an authenticator app would show).
  const secret = await adminLogin(page, site.base, 'quantri', DEMO_PASSWORD);
  assert.match(secret, /^[A-Z2-7]{16,}$/, 'a base32 secret to type in by hand');

  // The flood has been stored: the live flood alert went above BĐ3 + 0.3 m.
  await until(async () => (await client.alerts('wl-kimlong')).some((a) => (a as { rule?: string }).rule === 'flood' && a.levels.some((l) => l >= 4)), 'the flood stored above BĐ3 + 0.3 m', 90_000, 500);

  await page.goto(`${site.base}/admin/rules`);
  const floodRow = page.locator('[data-testid=rules-table] tr[data-rule=flood]');
  await floodRow.waitFor();
  assert.match((await floodRow.textContent())!, /flood-levels/);
  assert.match((await floodRow.textContent())!, /mặc định/, 'the built-in rule, shown by its source');
  await page.click('[data-testid=rules-table] tr[data-rule=flood] a');
  await page.waitForURL(/\/admin\/rules\/flood$/);
  const editor = page.locator('[data-testid=rule-editor]');
  await editor.waitFor();
  const spec = JSON.parse(await editor.locator('textarea[name=spec]').inputValue()) as Record<string, unknown>;
  assert.equal(spec.kind, 'flood-levels');

  // A rule that cannot work is refused by the server with the key named.
  await editor.locator('textarea[name=spec]').fill(JSON.stringify({ ...spec, deadbandM: -1 }));
  await editor.locator('[data-testid=backtest]').click();
  await page.waitForSelector('[data-testid=rule-message].error');
  assert.match((await page.locator('[data-testid=rule-message]').textContent())!, /deadbandM/);

  // The tiers above BĐ3 raised (0.3 m → 0.5 m): the crest (BĐ3 + 0.4 m) stays at BĐ3 in the draft.
  await editor.locator('textarea[name=spec]').fill(JSON.stringify({ ...spec, tiersAboveBd3M: [0.5, 1.0] }, null, 2));
  await editor.locator('select[name=days]').selectOption('1');
  await editor.locator('[data-testid=backtest]').click();
  const episodes = page.locator('[data-testid=backtest-episodes] tr[data-target=wl-kimlong]');
  await episodes.first().waitFor();
  const first = (await episodes.first().textContent())!;
  assert.match(first, /Trạm Kim Long/);
  assert.match(first, /Báo động III/, 'the draft peaks at BĐ3');
  const draftEpisodes = Number(await page.locator('[data-testid=backtest-totals] tr[data-row=candidate] td[data-field=episodes]').textContent());
  assert.ok(draftEpisodes >= 1, `the draft raises the stored flood (${draftEpisodes})`);
  const savedRow = page.locator('[data-testid=backtest-totals] tr[data-row=saved]');
  assert.match((await savedRow.textContent())!, /v1/, 'compared with the rule in force');
  assert.equal(Number(await savedRow.locator('td[data-field=episodes]').textContent()), draftEpisodes, 'the same episodes, peaking lower');
  assert.equal(await page.locator('[data-testid=backtest-totals] tr[data-row=saved] .level-badge[data-level="4"]').count(), 1, 'the rule in force peaks above BĐ3 + 0.3 m');
  assert.equal(await page.locator('[data-testid=backtest-totals] tr[data-row=candidate] .level-badge[data-level="4"]').count(), 0);
  await page.locator('[data-testid=backtest-result]').scrollIntoViewIfNeeded();
  await screenshot(page, 'admin-rules-backtest');

  // Save with a note: version 2, by the admin, listed with its note.
  await editor.locator('input[name=note]').fill('Bậc trên BĐ3: 0,5 m');
  await editor.locator('[data-testid=save-rule]').click();
  await page.waitForSelector('[data-testid=rule-message].ok');
  assert.match((await page.locator('[data-testid=rule-message]').textContent())!, /phiên bản 2/);
  const v2 = page.locator('[data-testid=rule-versions] tr[data-version="2"]');
  await v2.waitFor();
  assert.match((await v2.textContent())!, /Bậc trên BĐ3: 0,5 m/);
  assert.match((await v2.textContent())!, /quantri/);
  await until(async () => (await floodRow.textContent())!.includes('v2'), 'the list shows version 2');

  // A rule has its own address: opened from it directly, the editor shows the saved version.
  await page.goto(`${site.base}/admin/rules/flood`);
  await editor.waitFor();
  assert.deepEqual(JSON.parse(await editor.locator('textarea[name=spec]').inputValue()).tiersAboveBd3M, [0.5, 1.0]);
  await page.goto(`${site.base}/admin/rules/no-such-rule`);
  await page.locator('.rules-page .error', { hasText: 'Không có quy tắc “no-such-rule”' }).waitFor();
  assert.equal(await editor.count(), 0);

  // A new rule, saved, then deleted after the confirmation.
  await page.getByRole('button', { name: 'Quy tắc mới' }).click();
  await page.locator('[data-testid=rule-editor] textarea[name=spec]').waitFor();
  await page.locator('[data-testid=rule-editor] input[name=note]').fill('thử');
  await page.locator('[data-testid=rule-editor] [data-testid=save-rule]').click();
  const newRow = page.locator('[data-testid=rules-table] tr[data-rule=new-rule]');
  await newRow.waitFor();
  await page.waitForURL(/\/admin\/rules\/new-rule$/);
  assert.match(await page.locator('[data-testid=rule-message]').innerText(), /phiên bản 1/, 'the editor stays open with its message');
  assert.match((await newRow.textContent())!, /API/, 'saved through the API');
  await page.getByRole('button', { name: 'Xóa quy tắc' }).click();
  await page.getByRole('button', { name: 'Xác nhận xóa' }).click();
  await newRow.waitFor({ state: 'detached' });
  await page.waitForURL(/\/admin\/rules$/);

  // Notifications: the webhook refused the flood's notifications — dead letters.
  await until(async () => {
    await page.goto(`${site.base}/admin/notifications`);
    await page.waitForSelector('[data-testid=notify-dead]');
    return (await page.locator('[data-testid=notify-dead] tr[data-notification]').count()) > 0;
  }, 'a dead letter listed', 30_000, 1000);
  const channels = (await page.locator('[data-testid=notify-channels]').textContent())!;
  assert.match(channels, /ops/);
  assert.match(channels, /\/ioc-hook/, 'where it goes');
  assert.ok(!(await page.content()).includes(SECRET) && !(await page.content()).includes('hook.secret'), 'never the secret nor where it is kept');
  assert.match((await page.locator('[data-testid=notify-routes]').textContent())!, /≥ Nghiêm trọng/, 'the minimum severity, in Vietnamese');
  assert.match((await page.locator('[data-testid=notify-escalation]').textContent())!, /30 phút/);
  assert.match((await page.locator('[data-testid=notify-recent]').textContent())!, /thư chết/);
  await page.locator('[data-testid=notify-dead] details summary').first().click();
  assert.match((await page.locator('[data-testid=notify-dead] .attempts').first().textContent())!, /HTTP 400: unknown station/);
  await screenshot(page, 'admin-notifications');

  // The receiver is fixed; replay all: the dead letters leave the list and are delivered.
  refuse = false;
  const before = received;
  await page.click('[data-testid=notify-dead] button.primary');
  await page.waitForSelector('.notify-page p.ok[role=status]');
  await until(async () => received > before, 'the receiver got the replayed notification', 20_000);
  await until(async () => {
    await page.click('.notify-head button');
    return (await page.locator('[data-testid=notify-dead] tr[data-notification]').count()) === 0 && (await page.locator('[data-testid=notify-recent] .st-delivered').count()) > 0;
  }, 'delivered after the replay', 20_000, 500);

  // Expected refusals the browser logs: /auth/me before the login, the invalid spec's backtest.
  const expected = /status of (401 \(Unauthorized\)|400 \(Bad Request\))$/;
  assert.deepEqual(errors.filter((e) => !expected.test(e)), [], 'no page errors');
  assert.equal(errors.filter((e) => e.includes('400')).length, 1, 'one refusal: the invalid spec');
});
