/**
 * The watch desk in a real browser (Debian's Chromium through playwright-core):
 *
 * 1. First meaningful paint on the demo: from the navigation's start to the board drawn with its
 *    alerts (the `ioc:board-ready` performance mark), for an operator already signed in; the
 *    baseline, measured in the same run, is the first paint of the bare app (the login page).
 * 2. Frame rate with 1,000 open alerts and 200 alert changes per second (the whole watch desk,
 *    then with the station map panel hidden, to tell the board's cost from the map's): a hub with 1,000 river
 *    stations on one gateway (mutual TLS, the real ingest and rules), each above BĐ1; then 200
 *    stations a second flip between BĐ1 and BĐ2 (an escalation or de-escalation each, over the
 *    WebSocket to the board). Frames counted with requestAnimationFrame in the page; the baseline
 *    is the same board with no changes.
 *
 * Run: npm run bench -- console   (BENCH_QUICK=1 / --quick: shorter windows)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, startDemoSite } from '../lib/demo-site.js';
import { browserMissing, launchBrowser, login, newConsoleContext } from '../lib/browser.js';
import { startHubProc } from '../lib/procs.js';
import { writeHubConfig, type SiteDevice } from '../lib/sites.js';
import { fmt, heading, quantile, saveResults, seconds, sleep, table, verdict, warnIfBusy } from './lib/common.js';

console.log('# console.bench — the watch desk in Chromium: first meaningful paint, frame rate under 200 alert changes/s');
const missing = browserMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}
await warnIfBusy();

const STATIONS = 1000;
const CHANGES_PER_S = 200;
const LOAD_S = seconds(20);
const IDLE_S = seconds(8);
const PAINTS = 10;

/** Frames per second in the page over `ms`, and the worst one-second window. */
async function frameRate(page: Page, ms: number): Promise<{ fps: number; worst: number }> {
  // A string, not a function: tsx would wrap the inner arrow in a helper the page does not have.
  return page.evaluate(`(async (ms) => {
    const frames = [];
    await new Promise((resolve) => {
      const t0 = performance.now();
      const step = (t) => { frames.push(t); if (t - t0 < ms) requestAnimationFrame(step); else resolve(); };
      requestAnimationFrame(step);
    });
    const span = frames.at(-1) - frames[0];
    let worst = Infinity;
    for (let s = frames[0]; s + 1000 <= frames.at(-1); s += 250) worst = Math.min(worst, frames.filter((f) => f >= s && f < s + 1000).length);
    return { fps: ((frames.length - 1) / span) * 1000, worst: worst === Infinity ? 0 : worst };
  })(${ms})`) as Promise<{ fps: number; worst: number }>;
}

const browser = await launchBrowser();

// 1. First meaningful paint on the demo.
heading('first meaningful paint of the watch desk (demo, operator signed in)');
const demoDir = mkdtempSync(join(tmpdir(), 'ioc-bench-console-'));
const demo = await startDemoSite({ dir: demoDir, httpPort: 0, mqttPort: 0, speed: 20, pollIntervalMs: 500 });
const paint = { board: [] as number[], fcp: [] as number[], bare: [] as number[] };
try {
  await sleep(15_000); // the river above BĐ1: the board has an alert to draw
  for (let i = 0; i < PAINTS; i++) {
    const bare = await newConsoleContext(browser);
    const p0 = await bare.newPage();
    await p0.goto(demo.base + '/');
    await p0.locator('input[name=username]').waitFor();
    paint.bare.push(await p0.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await bare.close();
  }
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  await login(page, demo.base, 'trucban', DEMO_PASSWORD);
  await page.locator('[data-alert-id]').first().waitFor({ timeout: 60_000 });
  for (let i = 0; i < PAINTS; i++) {
    await page.goto(demo.base + '/watch');
    await page.waitForFunction(() => performance.getEntriesByName('ioc:board-ready').length > 0, undefined, { timeout: 30_000 });
    const t = await page.evaluate(() => ({
      board: performance.getEntriesByName('ioc:board-ready')[0]!.startTime,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    }));
    paint.board.push(t.board);
    paint.fcp.push(t.fcp);
  }
  await ctx.close();
} finally {
  await demo.stop();
  rmSync(demoDir, { recursive: true, force: true });
}
const med = (a: number[]) => quantile([...a].sort((x, y) => x - y), 0.5);
const fmp = { board: med(paint.board), fcp: med(paint.fcp), bare: med(paint.bare) };
table(['', 'median ms', 'max ms'], [
  ['bare app, first contentful paint (baseline)', fmt(fmp.bare, 0), fmt(Math.max(...paint.bare), 0)],
  ['watch desk, first contentful paint', fmt(fmp.fcp, 0), fmt(Math.max(...paint.fcp), 0)],
  ['watch desk, board drawn with its alerts', fmt(fmp.board, 0), fmt(Math.max(...paint.board), 0)],
]);
console.log(`\nratio to the baseline (same run): ${fmt(fmp.board / fmp.bare, 2)} ×`);

// 2. Frame rate with 1,000 open alerts and 200 changes per second.
heading(`frame rate: ${STATIONS} open alerts, ${CHANGES_PER_S} alert changes per second`);
const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-board-'));
const GW = 'gw-board-01';
const devices: SiteDevice[] = Array.from({ length: STATIONS }, (_, i) => ({
  id: `wl-b${String(i).padStart(4, '0')}`, profile: 'radar-water-level', port: 1, name: `Trạm ${i}`, river: 'Hương', station: `Trạm ${i}`,
  lat: 16 + (i % 40) * 0.02, lon: 107 + Math.floor(i / 40) * 0.02, alarmLevels: { bd1: 1.0, bd2: 2.0, bd3: 3.5 },
}));
const hubConfig = writeHubConfig({ dir, gatewayId: GW, devices, openApi: true });
const hub = startHubProc(hubConfig, { retain: 50 });
type Fps = { fps: number; worst: number };
let load: { idle: Fps; loaded: Fps; boardOnly: Fps; changes: number; seconds: number } | undefined;
try {
  const ready = await hub.waitFor((l) => l.msg === 'hub ready', 120_000);
  const pki = String(ready.pkiDir);
  const client = await mqtt.connectAsync(`mqtts://localhost:${ready.mqttPort}`, {
    ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'clients', `${GW}.crt`)), key: readFileSync(join(pki, 'clients', `${GW}.key`)),
    clientId: GW, protocolVersion: 4, reconnectPeriod: 0,
  });
  let seq = 1;
  const publish = async (readings: Array<{ dev: string; value: number }>) => {
    const ts = Date.now();
    const first = seq;
    seq += readings.length;
    const body = { v: 1, gw: GW, seq: [first, seq - 1], lastSeq: seq - 1, readings: readings.map((r) => ({ dev: r.dev, metric: 'water_level', value: r.value, unit: 'm', ts, q: 'good' })) };
    await client.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(body), { qos: 1 });
  };
  // Every station above BĐ1: 1,000 open alerts.
  for (let i = 0; i < STATIONS; i += 250) await publish(devices.slice(i, i + 250).map((d) => ({ dev: d.id, value: 1.5 })));
  const ctx = await newConsoleContext(browser, { viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.1:${ready.httpPort}/watch`);
  // The board counts every open alert (it draws the most severe first and more on request).
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid=alert-count]')?.dataset.count) >= n, STATIONS, { timeout: 120_000 });
  const idle = await frameRate(page, IDLE_S * 1000);
  // 200 flips a second, in ten slices of 20: each flip is one alert change on the stream.
  const level = new Map(devices.map((d) => [d.id, 1.5]));
  let changes = 0;
  let next = 0;
  let stop = false;
  const driver = (async () => {
    const t0 = Date.now();
    for (let k = 0; !stop; k++) {
      const slice = Array.from({ length: CHANGES_PER_S / 10 }, () => devices[next++ % STATIONS]!.id);
      await publish(slice.map((dev) => {
        const v = level.get(dev) === 1.5 ? 2.5 : 1.5;
        level.set(dev, v);
        return { dev, value: v };
      }));
      changes += slice.length;
      await sleep(Math.max(0, t0 + (k + 1) * 100 - Date.now()));
    }
  })();
  const loaded = await frameRate(page, LOAD_S * 1000);
  // The same load with the station map panel out of the page: what the board itself costs.
  const style = await page.addStyleTag({ content: '.station-map { display: none !important; }' });
  const boardOnly = await frameRate(page, LOAD_S * 1000);
  await style.evaluate((el) => (el as Element).remove());
  stop = true;
  await driver;
  load = { idle, loaded, boardOnly, changes, seconds: 2 * LOAD_S };
  await ctx.close();
  await client.endAsync();
} finally {
  await hub.stop('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  await browser.close();
}
table(['board', 'mean fps', 'worst 1-s window (frames)'], [
  ['1,000 alerts, no changes (baseline)', fmt(load.idle.fps, 1), load.idle.worst],
  [`1,000 alerts, ${fmt(load.changes / load.seconds)} changes/s`, fmt(load.loaded.fps, 1), load.loaded.worst],
  ['  the same, station map panel hidden', fmt(load.boardOnly.fps, 1), load.boardOnly.worst],
]);
console.log(`\nratio to the baseline (same run): ${fmt(load.loaded.fps / load.idle.fps, 2)} ×`);
const targets = [
  verdict({ name: 'watch desk first meaningful paint on the demo', value: fmp.board, bound: 1000, kind: 'max', unit: 'ms' }),
  verdict({ name: `watch desk frame rate (board and map), worst second, ${CHANGES_PER_S} changes/s over ${STATIONS} alerts`, value: load.loaded.worst, bound: 30, kind: 'min', unit: 'fps' }),
  verdict({ name: `board alone (map hidden), worst second, same load`, value: load.boardOnly.worst, bound: 30, kind: 'min', unit: 'fps' }),
];
saveResults('console', { paint: { ...fmp, samples: paint }, frames: load, ratio: { paint: fmp.board / fmp.bare, fps: load.loaded.fps / load.idle.fps }, targets });
