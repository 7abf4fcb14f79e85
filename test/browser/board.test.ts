/**
 * The live board in a storm, in headless Chromium: a hub with 130 river stations above BĐ1 (130
 * open alerts, published over mutual-TLS MQTT like a gateway). The board counts all 130, draws the
 * most severe 100 and offers the rest; a station beyond the first 100 that escalates to BĐ2 comes
 * to the top with no reload, even in a tab in the background; "show more" draws the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { browserMissing, launchBrowser, newConsoleContext, pageErrors } from '../lib/browser.js';
import { getJson, startHubProc } from '../lib/procs.js';
import { writeHubConfig, type SiteDevice } from '../lib/sites.js';

const STATIONS = 130;
const GW = 'gw-board-01';

test('the board draws the 100 most severe of 130 alerts, moves an escalation to the top live, and shows the rest on request', { timeout: 180_000 }, async (t) => {
  const missing = browserMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'ioc-board-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const devices: SiteDevice[] = Array.from({ length: STATIONS }, (_, i) => ({
    id: `wl-s${String(i).padStart(3, '0')}`, profile: 'radar-water-level', port: 1, name: `Trạm ${i}`, river: 'Hương', station: `Trạm ${i}`,
    lat: 16 + (i % 20) * 0.02, lon: 107 + Math.floor(i / 20) * 0.02, alarmLevels: { bd1: 1.0, bd2: 2.0, bd3: 3.5 },
  }));
  const hub = startHubProc(writeHubConfig({ dir, gatewayId: GW, devices }));
  t.after(() => hub.stop('SIGTERM'));
  const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
  const pki = String(ready.pkiDir);
  const api = `http://127.0.0.1:${ready.httpPort}/api/v1`;
  const client = await mqtt.connectAsync(`mqtts://localhost:${ready.mqttPort}`, {
    ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'clients', `${GW}.crt`)), key: readFileSync(join(pki, 'clients', `${GW}.key`)),
    clientId: GW, protocolVersion: 4, reconnectPeriod: 0,
  });
  t.after(() => client.endAsync());
  let seq = 1;
  const publish = async (readings: Array<{ dev: string; value: number }>) => {
    const first = seq;
    seq += readings.length;
    const ts = Date.now();
    const body = { v: 1, gw: GW, seq: [first, seq - 1], lastSeq: seq - 1, readings: readings.map((r) => ({ dev: r.dev, metric: 'water_level', value: r.value, unit: 'm', ts, q: 'good' })) };
    await client.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(body), { qos: 1 });
  };
  await publish(devices.map((d) => ({ dev: d.id, value: 1.5 })));

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const ctx = await newConsoleContext(browser, { viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  const errors = pageErrors(page);
  await page.goto(`http://127.0.0.1:${ready.httpPort}/watch`);
  const count = page.locator('[data-testid=alert-count]');
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid=alert-count]')?.dataset.count) === n, STATIONS, { timeout: 60_000 });
  assert.match(await count.innerText(), /130 cảnh báo chưa đóng/);
  assert.equal(await page.locator('.alert-row').count(), 100, 'the 100 most severe drawn');
  const more = page.locator('[data-testid=board-more]');
  assert.match(await more.innerText(), /100 trên 130/);

  // A station whose alert is not drawn escalates: with no reload, it leads the board.
  const drawn = new Set(await page.locator('.alert-row').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.alertId))));
  const { alerts } = await getJson<{ alerts: Array<{ id: number; dev: string | null }> }>(`${api}/alerts?open=true&limit=1000`);
  const hidden = alerts.find((a) => !drawn.has(a.id));
  assert.ok(hidden?.dev, 'an alert beyond the first 100');
  await page.evaluate(() => ((window as unknown as { __noReload: string }).__noReload = 'still here'));
  // As in a tab in the background, which gets no animation frames: changes must still be applied.
  // A string, not a function: tsx would wrap the inner arrows in a helper the page does not have.
  await page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    window.__raf = window.requestAnimationFrame;
    window.requestAnimationFrame = () => 0;`);
  await publish([{ dev: hidden.dev, value: 2.5 }]);
  const first = page.locator('.alert-row').first();
  await page.waitForFunction((id) => document.querySelector<HTMLElement>('.alert-row')?.dataset.alertId === String(id), hidden.id, { timeout: 30_000 });
  await first.locator('.level-badge', { hasText: 'Báo động II' }).waitFor();
  assert.equal(await page.locator('.alert-row').count(), 100);
  await page.evaluate(() => {
    delete (document as unknown as { hidden?: boolean }).hidden;
    window.requestAnimationFrame = (window as unknown as { __raf: typeof requestAnimationFrame }).__raf;
  });
  assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: string }).__noReload), 'still here', 'the page was reloaded');

  // The rest on request, from the keyboard.
  await more.getByRole('button', { name: 'Xem thêm 30' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('.alert-row').length === n, STATIONS);
  assert.equal(await more.count(), 0, 'nothing left to show');
  assert.deepEqual(errors, []);
});
