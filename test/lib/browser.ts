/**
 * Debian's Chromium driven by playwright-core, for the console tests. Headless, no GPU, no
 * background networking (the machine has no internet, and the map must work without it), sound
 * allowed without a gesture so the alarm can be checked, the demo CA's certificate accepted.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT } from './procs.js';
import { startDemoSite, type DemoSite, type DemoSiteOptions } from './demo-site.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

/** Why the browser tests cannot run here, or null. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium; CI installs it)`;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export interface ConsoleOptions {
  viewport?: { width: number; height: number };
  locale?: string;
}

/** A fresh browser profile (no cookies, no stored language) that trusts the demo hub's certificate. */
export async function newConsoleContext(browser: Browser, opts: ConsoleOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: opts.viewport ?? { width: 1440, height: 900 },
    locale: opts.locale ?? 'vi-VN',
    timezoneId: 'Europe/Paris', // the console must show Asia/Ho_Chi_Minh times whatever the browser's zone
  });
}

/** Records requests that left the hub's origin (the map must not need the internet). */
export function foreignRequests(page: Page, base: string): string[] {
  const origin = new URL(base).origin;
  const out: string[] = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) out.push(u);
  });
  return out;
}

/**
 * Errors the page threw or logged (a test fails on them). A 401 is how the app learns nobody is
 * signed in yet (GET /auth/me before the login form): Chromium logs it, it is not an error.
 */
export function pageErrors(page: Page): string[] {
  const out: string[] = [];
  page.on('pageerror', (e) => out.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) out.push(m.text());
  });
  return out;
}

export async function login(page: Page, base: string, username: string, password: string, otp?: string): Promise<void> {
  await page.goto(base + '/');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  if (otp !== undefined) {
    await page.waitForSelector('input[name=otp]');
    await page.fill('input[name=otp]', otp);
    await page.click('button[type=submit]');
  }
}

/** Saves a screenshot under test/artifacts/ (CI keeps the folder; the README shows some). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/**
 * Where the station map's canvas shows a theme colour (`--lv2`: the fill of level 2's symbol): the
 * centre of its pixels in page coordinates, or null when fewer than `minPixels` have it. The
 * symbols are drawn on one canvas, so this is how a test finds one to hover or click.
 */
export async function symbolOnMap(page: Page, themeColour: string, minPixels = 20): Promise<{ x: number; y: number } | null> {
  const hex = (await page.evaluate(`getComputedStyle(document.documentElement).getPropertyValue(${JSON.stringify(themeColour)}).trim()`)) as string;
  assert.match(hex, /^#[0-9a-f]{6}$/i, `${themeColour} is a #rrggbb colour`);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  // A string, not a function: tsx would wrap inner functions in a helper the page does not have.
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-testid=station-layer]');
    if (!c || !c.width || !c.height) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sx = 0, sy = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - ${r}) > 2 || Math.abs(d[i + 1] - ${g}) > 2 || Math.abs(d[i + 2] - ${b}) > 2 || d[i + 3] < 250) continue;
      const p = i / 4;
      sx += p % c.width;
      sy += Math.floor(p / c.width);
      n++;
    }
    if (n < ${minPixels}) return null;
    const box = c.getBoundingClientRect();
    return { x: box.left + ((sx / n + 0.5) * box.width) / c.width, y: box.top + ((sy / n + 0.5) * box.height) / c.height };
  })()`) as Promise<{ x: number; y: number } | null>;
}

/**
 * Logs an admin in at the console. At the account's first login the console makes them enrol
 * TOTP: the secret is read from the page, a code computed, the recovery codes acknowledged.
 * Returns the secret (later logins need a code from it).
 */
export async function adminLogin(page: Page, base: string, username: string, password: string, secret?: string): Promise<string> {
  const { totpAt } = await import('../../hub/src/auth/totp.js');
  if (secret) {
    await login(page, base, username, password, await freshTotp(secret, totpAt));
    return secret;
  }
  await login(page, base, username, password);
  const shown = (await page.locator('[data-testid=mfa-secret]').textContent({ timeout: 20_000 }))!.trim();
  await page.fill('input[name=code]', await totpAt(shown));
  await page.click('button[type=submit]');
  await page.locator('[data-testid=recovery-codes]').waitFor({ timeout: 20_000 });
  await page.getByRole('button').filter({ hasText: /Tiếp tục|Continue/ }).click();
  return shown;
}

/** A code of the next 30 s step if this one may have been used already (the hub refuses a replay). */
async function freshTotp(secret: string, totpAt: (s: string, now?: number) => Promise<string>): Promise<string> {
  const now = Date.now();
  const intoStep = now % 30_000;
  await new Promise((r) => setTimeout(r, 30_000 - intoStep + 200));
  return totpAt(secret);
}

/**
 * The whole demo site (hub, gateway, simulators) and a browser for one test, both stopped and the
 * folder removed after it; null, with the test skipped and the reason printed, without Chromium.
 */
export async function browserSite(t: TestContext, name: string, opts: Omit<DemoSiteOptions, 'dir' | 'httpPort' | 'mqttPort'> = {}): Promise<{ site: DemoSite; browser: Browser; dir: string } | null> {
  const missing = browserMissing();
  if (missing) {
    t.skip(missing);
    return null;
  }
  // Undone last made first, whatever was made before a failure.
  const undo: Array<() => unknown> = [];
  t.after(async () => {
    for (const f of undo.reverse()) await f();
  });
  const dir = mkdtempSync(join(tmpdir(), `ioc-${name}-`));
  undo.push(() => rmSync(dir, { recursive: true, force: true }));
  const site = await startDemoSite({ dir, httpPort: 0, mqttPort: 0, ...opts });
  undo.push(() => site.stop());
  const browser = await launchBrowser();
  undo.push(() => browser.close());
  return { site, browser, dir };
}
