/**
 * Debian's Chromium driven by playwright-core, for the console tests. Headless, no GPU, no
 * background networking (the machine has no internet, and the map must work without it), sound
 * allowed without a gesture so the alarm can be checked, the demo CA's certificate accepted.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT } from './procs.js';

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

/** Errors the page threw or logged (a test fails on them). */
export function pageErrors(page: Page): string[] {
  const out: string[] = [];
  page.on('pageerror', (e) => out.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') out.push(m.text());
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
