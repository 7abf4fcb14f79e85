/**
 * The station map and the shift handover in headless Chromium against the whole demo: the
 * operator's map renders Vietnam's outline, the stations and the legend with no request leaving
 * the hub's origin; with a tile server configured but out of reach it falls back to the outline;
 * the outgoing shift writes a handover note and it becomes the last handover.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, foreignRequests, launchBrowser, login, newConsoleContext, pageErrors, screenshot } from '../lib/browser.js';
import { DEMO_PASSWORD, startDemoSite, type DemoSite } from '../lib/demo-site.js';
import { closedPort } from '../lib/ports.js';

const missing = browserMissing();
if (missing) console.log(`# skipped: ${missing}`);
const skip = missing ?? false;

let browser: Browser;
const dirs: string[] = [];

before(async () => {
  if (!missing) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function withSite<T>(opts: { httpExtra?: Record<string, unknown> }, fn: (site: DemoSite) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-map-'));
  dirs.push(dir);
  const site = await startDemoSite({ dir, httpPort: 0, mqttPort: 0, holdRiver: true, pollIntervalMs: 1000, ...opts });
  try {
    return await fn(site);
  } finally {
    await site.stop();
  }
}

async function operatorOnBoard(site: DemoSite): Promise<{ page: Page; errors: string[]; foreign: string[]; close(): Promise<void> }> {
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);
  const foreign = foreignRequests(page, site.base);
  await login(page, site.base, 'trucban', DEMO_PASSWORD);
  await page.waitForURL(/\/watch$/);
  return { page, errors, foreign, close: () => ctx.close() };
}

test('no tile server: outline, stations by state, legend, commune centres — nothing fetched beyond the hub; then a shift handover', { skip, timeout: 240_000 }, async () => {
  await withSite({}, async (site) => {
    const { page, errors, foreign, close } = await operatorOnBoard(site);
    const map = page.locator('[data-testid=station-map]');
    await map.waitFor();
    assert.equal(await map.getAttribute('data-base'), 'outline');
    await page.locator('[data-testid=station-map] path.map-outline-VN').waitFor();
    assert.ok((await page.locator('[data-testid=station-map] path.map-outline').count()) >= 2, 'Vietnam and its neighbours');
    await page.locator('[data-testid=map-offline-note]').waitFor();
    // Both demo stations, each with its state as data and as text for screen readers.
    for (const dev of ['wl-kimlong', 'fd-chodongba']) {
      const m = page.locator(`.st-marker[data-dev=${dev}]`);
      await m.waitFor();
      assert.ok(['normal', 'alert', 'stale', 'offline'].includes((await m.getAttribute('data-state')) ?? ''), dev);
      assert.ok((await m.getAttribute('aria-label'))?.length, dev);
      assert.equal(await m.locator('svg.st-shape').count(), 1, 'an inline shape, not a PNG icon');
    }
    // Once readings arrive the river station is normal (the river is held below BĐ1).
    await page.locator('.st-marker[data-dev=wl-kimlong][data-state=normal]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.st-marker img, img.leaflet-marker-icon[src*="marker-icon"]').count(), 0);
    const legend = await page.locator('[data-testid=map-legend]').innerText();
    for (const word of ['Bình thường', 'Báo động I', 'Báo động III', 'Dữ liệu cũ', 'Mất kết nối', 'Trung tâm xã/phường']) assert.ok(legend.includes(word), word);
    assert.equal(await page.locator('.commune-label').count(), 2, 'Kim Long and Đông Ba centres');
    // The tooltip: name, last value and age, level text.
    await page.locator('.st-marker[data-dev=wl-kimlong]').hover();
    const tip = page.locator('.leaflet-tooltip .st-tip');
    await tip.waitFor();
    assert.match(await tip.innerText(), /Trạm Kim Long[\s\S]*Mực nước: .+ m · [\s\S]*Bình thường/);
    await page.mouse.move(5, 500);

    // The river rises past BĐ2: the marker turns into level 2's diamond live, without a reload.
    site.river.setLevel(2.4);
    const kimLong = page.locator('.st-marker[data-dev=wl-kimlong][data-state=alert][data-level="2"]');
    await kimLong.waitFor({ timeout: 60_000 });
    assert.match((await kimLong.getAttribute('aria-label')) ?? '', /Trạm Kim Long: Báo động II/);
    await screenshot(page, 'watch-map');
    assert.deepEqual(foreign, [], 'no request left the hub');
    // Keyboard: the focused marker opens its alert with Enter.
    await kimLong.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/watch\/alerts\/\d+$/);

    // The shift hands over.
    await page.goto(`${site.base}/watch/handover`);
    await page.locator('[data-testid=handover-since]').waitFor();
    assert.match(await page.locator('[data-testid=handover-last]').innerText(), /Chưa có lần giao ca nào/);
    // Since the last 24 h: Kim Long's flood alert was opened and is still open.
    await page.locator('[data-testid=handover-open] li', { hasText: 'Trạm Kim Long' }).waitFor();
    assert.match(await page.locator('[data-testid=handover-changes]').innerText(), /Phát sinh[\s\S]*Trạm Kim Long/);
    const note = 'Ca đêm 01/12: lũ sông Hương tại Kim Long ở mức BĐ II, đã báo UBND phường Kim Long; đầu báo khói chợ Đông Ba bình thường.';
    await page.fill('textarea[name=note]', note);
    await page.click('form button[type=submit]');
    await page.locator('[data-testid=handover-done]').waitFor();
    await page.locator('[data-testid=handover-last-note]').waitFor();
    assert.equal(await page.locator('[data-testid=handover-last-note]').innerText(), note);
    assert.match(await page.locator('[data-testid=handover-last]').innerText(), /trucban/);
    assert.doesNotMatch(await page.locator('[data-testid=handover-since]').innerText(), /24 giờ/);
    // What is still open stays on the page; what happened before the handover is no longer "since".
    assert.equal(await page.locator('[data-testid=handover-changes]').count(), 0);
    await page.locator('[data-testid=handover-open] li', { hasText: 'Trạm Kim Long' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'watch-handover');

    assert.deepEqual(foreign, []);
    // The browser logs the 401 of /auth/me before login; nothing else may fail.
    assert.deepEqual(errors.filter((e) => !/^Failed to load resource: the server responded with a status of 401\b/.test(e)), []);
    await close();
  });
});

test('a tile server out of reach: the outline instead, and a note', { skip, timeout: 180_000 }, async () => {
  const port = await closedPort();
  const tiles = { url: `http://127.0.0.1:${port}/{z}/{x}/{y}.png`, attribution: 'Tiles: unreachable test server' };
  await withSite({ httpExtra: { console: { tiles } } }, async (site) => {
    const { page, foreign, close } = await operatorOnBoard(site);
    await page.locator('[data-testid=station-map][data-base=outline]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=station-map] path.map-outline-VN').waitFor();
    await page.locator('[data-testid=map-offline-note]').waitFor();
    await page.locator('.st-marker[data-dev=wl-kimlong]').waitFor();
    // The only requests beyond the hub were the tiles it was told to use.
    assert.ok(foreign.length > 0, 'the tiles were tried');
    assert.deepEqual(foreign.filter((u) => !u.startsWith(`http://127.0.0.1:${port}/`)), []);
    await close();
  });
});
