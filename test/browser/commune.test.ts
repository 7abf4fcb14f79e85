/**
 * The commune console in headless Chromium against the whole demo: a commune user sees only their
 * commune's devices — on the list, on the map, and not another commune's device by direct URL
 * (the hub answers 404; the page says so and shows nothing of it) — and a device page with a chart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { browserMissing, launchBrowser, login, newConsoleContext, pageErrors, screenshot, symbolOnMap } from '../lib/browser.js';
import { DEMO_PASSWORD, startDemoSite, type DemoSite } from '../lib/demo-site.js';
import { until } from '../lib/until.js';

const missing = browserMissing();
if (missing) console.log(`# skipped: ${missing}`);

let site: DemoSite;
let browser: Browser;
let dir: string;

before(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'ioc-commune-'));
  site = await startDemoSite({ dir, httpPort: 0, mqttPort: 0, holdRiver: true, pollIntervalMs: 1000 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('commune 19816: its devices only, on the list and the map; another commune\'s device by URL is refused; a device page with a chart', { skip: missing ?? false, timeout: 180_000 }, async () => {
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);
  const apiCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/')) apiCalls.push(r.url());
  });

  await login(page, site.base, 'xa.kimlong', DEMO_PASSWORD);
  await page.waitForURL(/\/commune$/);
  const card = page.locator('[data-testid=commune-devices] [data-dev=wl-kimlong]');
  await card.waitFor();
  assert.match(await card.innerText(), /Trạm Kim Long/);
  // The station reports: its water level with an age, its gateway online.
  await page.locator('[data-testid=commune-devices] [data-dev=wl-kimlong] .metric-values li').first().waitFor();
  assert.match(await card.innerText(), /Mực nước: .+ m/);
  assert.equal(await card.locator('[data-online]').getAttribute('data-online'), '1');
  // The river station reports its battery voltage (battery_voltage), shown on its own line.
  await page.locator('[data-testid=commune-devices] [data-dev=wl-kimlong] [data-testid=battery]', { hasText: / V$/ }).waitFor();
  assert.match(await card.locator('[data-testid=battery]').innerText(), /^\d+(,\d+)? V$/);
  // On the map: Kim Long's symbol alone on the canvas, and on the station list under it — nothing
  // of Đông Ba's detector.
  await until(async () => (await page.locator('[data-testid=station-layer]').getAttribute('data-count')) === '1', 'one station drawn');
  await until(() => symbolOnMap(page, '--ok'), 'Kim Long drawn as a normal station');
  await page.locator('[data-testid=station-list] summary').click();
  await page.locator('button.station-entry[data-dev=wl-kimlong]').waitFor();
  assert.equal(await page.locator('button.station-entry').count(), 1);
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /fd-chodongba|Đầu báo khói/);
  await screenshot(page, 'commune-devices');
  // On a phone: list and map stacked, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('button.station-entry[data-dev=wl-kimlong]').waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scrolling at 390 px');
  await screenshot(page, 'commune-devices-phone');
  await page.setViewportSize({ width: 1440, height: 900 });

  // Đông Ba's detector (commune 19801) by direct URL: refused, and nothing of it shown or asked for.
  apiCalls.length = 0;
  await page.goto(`${site.base}/commune/devices/fd-chodongba`);
  await page.locator('[data-testid=device-refused]').waitFor();
  assert.match(await page.locator('[data-testid=device-refused]').innerText(), /không thuộc địa bàn của bạn/);
  const refused = await page.locator('main').innerText();
  assert.doesNotMatch(refused, /Đầu báo khói|Đông Ba|smoke|Khói|Nhiệt độ/);
  assert.equal(await page.locator('[data-testid=commune-device]').count(), 0);
  assert.deepEqual(apiCalls.filter((u) => u.includes('chodongba')).map((u) => new URL(u).pathname + new URL(u).search), ['/api/v1/devices/fd-chodongba']);

  // Kim Long's page, reached by the link on the list: its chart of the last 24 h.
  await page.goto(`${site.base}/commune`);
  await page.locator('[data-dev=wl-kimlong] a.device-name').click();
  await page.waitForURL(/\/commune\/devices\/wl-kimlong$/);
  await page.locator('[data-testid=commune-device]').waitFor();
  await page.locator('[data-testid=chart-water_level] canvas').first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator('h1').innerText(), /Trạm Kim Long/);
  await screenshot(page, 'commune-device');
  // In English on the toggle, the same page.
  await page.click('[data-testid=lang-toggle]');
  await page.getByRole('heading', { name: 'Charts, last 24 hours' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Water level: .+ m/);

  // The browser logs the answers it was meant to get: 401 (no session before login), 404 (refused).
  assert.deepEqual(errors.filter((e) => !/^Failed to load resource: the server responded with a status of (401|404)\b/.test(e)), []);
  await ctx.close();
});
