/**
 * The watch desk, end to end in headless Chromium against the whole demo site (hub, enrolled
 * gateway, the river station over real Modbus): an operator signs in, THEN the river rises; the
 * alert appears on the board with no reload, escalates BĐ1 → BĐ2 → BĐ3, and at BĐ3 the alarm
 * sounds and the row flashes; the operator opens the alert (hydrograph, history, CAP) and
 * acknowledges it with a note; the alarm stops; the note is in the audit log (`ioc-hub audit list`,
 * as an admin would read it on the hub's machine). Then a fire at the smoke detector rings its own
 * alarm, silenced by a quick acknowledgement from the board.
 *
 * The river follows the Kim Long 2020 flood's rise (test/simulators/modbus-water-level.ts) at
 * 1.6 s per hour — BĐ1 after ~6 s, BĐ2 ~19 s, BĐ3 ~38 s — then holds at 3.65 m, between BĐ3 and
 * the BĐ3 + 0.3 m tier, so nothing escalates again after the acknowledgement (an escalation would
 * rightly ring again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DEMO_PASSWORD } from '../lib/demo-site.js';
import { browserSite, login, newConsoleContext, pageErrors, screenshot } from '../lib/browser.js';
import { hubCli } from '../lib/hub-cli.js';
import { compressHours, KIM_LONG_2020_HOURS } from '../simulators/modbus-water-level.js';

const RISE = compressHours([...KIM_LONG_2020_HOURS.filter(([h]) => h <= 24), [26, 3.65], [400, 3.65]], 1.6);

/** How the console must write a time: Asia/Ho_Chi_Minh, whatever the browser's zone (format.ts). */
function hcm(ts: number, timeZone = 'Asia/Ho_Chi_Minh'): string {
  return new Intl.DateTimeFormat('vi-VN', { timeZone, day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(ts);
}

test('watch desk: a rising river reaches the board live, rings at BĐ3, and is acknowledged with an audited note', { timeout: 180_000 }, async (t) => {
  const ready = await browserSite(t, 'watch', { holdRiver: true, hydrograph: RISE, speed: 1, pollIntervalMs: 500 });
  if (!ready) return;
  const { site, browser } = ready;
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);
  let loads = 0;
  page.on('load', () => loads++);

  await login(page, site.base, 'trucban', DEMO_PASSWORD);
  await page.waitForURL(/\/watch$/);
  await page.locator('.watch-board').waitFor();
  await page.locator('[data-testid=alert-count]').waitFor();
  assert.equal(await page.locator('.alert-row', { hasText: 'Kim Long' }).count(), 0, 'the river is still low');
  // Survives only if the page is never reloaded.
  await page.evaluate(() => ((window as unknown as { __noReload: string }).__noReload = 'still here'));
  const loadsBefore = loads;

  site.startRiver();
  // The flood-levels alert (the rate rule may raise its own "water rising fast" alert for the station).
  const row = page.locator('.alert-row', { hasText: 'Kim Long' }).filter({ hasText: /Báo động/ }).first();
  await row.waitFor({ timeout: 60_000 });
  const id = Number(await row.getAttribute('data-alert-id'));
  const rowOf = page.locator(`.alert-row[data-alert-id="${id}"]`);
  await rowOf.locator('.level-badge', { hasText: 'Báo động I' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.alarm ?? null), null, 'no alarm below BĐ3');
  await rowOf.locator('.level-badge', { hasText: 'Báo động II' }).waitFor({ timeout: 60_000 });
  assert.equal(await rowOf.getAttribute('data-flashing'), null, 'BĐ2 does not flash');

  // BĐ3: the alarm sounds and the row flashes, marked "MỚI" in words too.
  await page.waitForFunction(() => document.documentElement.dataset.alarm === 'flood', undefined, { timeout: 60_000 });
  await rowOf.locator('.level-badge', { hasText: 'Báo động III' }).waitFor();
  assert.match((await rowOf.getAttribute('class')) ?? '', /\bflashing\b/);
  assert.match(await rowOf.innerText(), /MỚI/);
  assert.match(await rowOf.innerText(), /Phường Kim Long/);
  assert.match(await rowOf.innerText(), /Đang mở/);
  assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: string }).__noReload), 'still here', 'the page was reloaded');
  assert.equal(loads, loadsBefore, 'the page navigated');

  // Times in Asia/Ho_Chi_Minh although the browser runs in Europe/Paris.
  const time = rowOf.locator('time').first();
  const ts = Number(await time.getAttribute('data-ts'));
  const shown = (await time.innerText()).trim();
  assert.equal(shown, hcm(ts));
  assert.notEqual(shown, hcm(ts, 'Europe/Paris'));
  await screenshot(page, 'watch-board');

  // The alert's page, by the row's link (in-app navigation: still no reload).
  await rowOf.getByRole('link').click();
  await page.waitForURL(new RegExp(`/watch/alerts/${id}$`));
  await page.locator('[data-testid=hydrograph] canvas').first().waitFor({ timeout: 20_000 });
  await page.locator('[data-testid=alert-history] tr[data-event=escalated]').first().waitFor();
  await page.locator('[data-testid=cap]').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('[data-testid=cap]').innerText(), /<alert|urn:oasis:names:tc:emergency:cap/);
  assert.match(await page.locator('.hydrograph').innerText(), /BĐ III/);
  await page.locator('[data-testid=trend][data-trend=up]').waitFor({ timeout: 20_000 });
  // Zone 2 at BĐ3: candidate disaster-risk level 2, shown as a candidate until an operator confirms it.
  const risk = page.locator('[data-testid=risk]');
  await risk.locator('[data-risk="2"]').waitFor({ timeout: 20_000 });
  assert.match(await risk.innerText(), /Cấp 2 .*ứng viên — chờ xác nhận/s);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.alarm), 'flood', 'the alarm rings until acknowledged');
  await screenshot(page, 'watch-alert-detail');

  // A note is required: an empty one is refused in the page, nothing sent.
  const ack = page.locator('[data-testid=ack]');
  await ack.locator('button[type=submit]').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.alarm), 'flood');
  const note = `Đã gọi phường Kim Long, sơ tán hộ ven sông (${Date.now()})`;
  await ack.locator('input[name=note]').fill(note);
  await ack.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.documentElement.dataset.alarm === undefined, undefined, { timeout: 10_000 });
  await page.locator('[data-testid=alert-state]', { hasText: 'Đã tiếp nhận' }).waitFor();
  await page.locator('[data-testid=alert-history] tr[data-event=acknowledged]', { hasText: note }).waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: string }).__noReload), 'still here');

  // Back on the board: acknowledged, no longer flashing, no alarm.
  await page.getByRole('link', { name: /Bảng cảnh báo/ }).click();
  await rowOf.locator('.state', { hasText: 'Đã tiếp nhận' }).waitFor();
  assert.equal(await rowOf.getAttribute('data-flashing'), null);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.alarm ?? null), null);

  // The note is in the audit log, by the operator, on this alert.
  const audit = await hubCli(site.hubConfig, ['audit', 'list', '--action', 'alert.acknowledged']);
  assert.equal(audit.code, 0, audit.stderr);
  const line = audit.stdout.split('\n').find((l) => l.includes(`alert:${id}`));
  assert.ok(line, `no alert.acknowledged entry for alert ${id} in:\n${audit.stdout}`);
  assert.ok(line.includes(note), `the note is not in the audit entry: ${line}`);
  assert.match(line, /trucban/);

  // A fire at the Đông Ba market's detector: its own alarm at once, silenced by a quick
  // acknowledgement from the board's row.
  site.detector.setTemperature(70);
  site.detector.setSmoke(true);
  await page.waitForFunction(() => document.documentElement.dataset.alarm === 'fire', undefined, { timeout: 30_000 });
  const fire = page.locator('.alert-row[data-flashing=true]', { hasText: 'Cháy' });
  await fire.waitFor();
  assert.match(await fire.innerText(), /MỚI/);
  await fire.getByRole('button', { name: 'Tiếp nhận' }).click();
  await fire.locator('button[type=submit]').click(); // no note: refused in the page (a required field)
  assert.equal(await fire.locator('input[name=note]:invalid').count(), 1);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.alarm), 'fire');
  await fire.locator('input[name=note]').fill('Đã báo PCCC, đội chữa cháy đang đến chợ Đông Ba');
  await fire.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.documentElement.dataset.alarm === undefined, undefined, { timeout: 10_000 });
  assert.equal(await page.locator('.alert-row[data-flashing=true]').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: string }).__noReload), 'still here');
  assert.deepEqual(errors, [], 'errors in the page');
});
