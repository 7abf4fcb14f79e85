/**
 * The technician console against the whole demo: the gateway's health with its outbox figures, an
 * enrolment token made in the console (QR code and command line), a real `ioc-edge enroll` run
 * with the token read from the page, the console seeing the gateway enrolled, then revoking it;
 * and a device's values arriving live while it is "being installed".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { join } from 'node:path';
import { parse } from 'yaml';
import { DEMO_PASSWORD, demoCa } from '../lib/demo-site.js';
import { edgeCli } from '../lib/enrol.js';
import { getJson } from '../lib/procs.js';
import { writeEdgeConfig } from '../lib/sites.js';
import { browserSite, login, newConsoleContext, pageErrors, screenshot } from '../lib/browser.js';

const NEW_GW = 'gw-test-02';

/** The value of `--name` in a command line. */
function arg(command: string, name: string): string {
  const m = new RegExp(`--${name}\\s+(\\S+)`).exec(command);
  assert.ok(m, `no --${name} in "${command}"`);
  return m[1]!;
}

test('technician: gateway health, an enrolment token from the console enrols a real gateway, revoke it, live device values', { timeout: 300_000 }, async (t) => {
  const ready = await browserSite(t, 'tech', { speed: 20, pollIntervalMs: 500 });
  if (!ready) return;
  const { site, browser, dir } = ready;
  const get = <T>(path: string) => getJson<T>(`${site.base}/api/v1${path}`, { ca: demoCa(site), headers: { authorization: `Bearer ${site.apiKey}` } });
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);

  await login(page, site.base, 'kythuat', DEMO_PASSWORD);
  await page.waitForURL(/\/technician$/);

  // The demo gateway: online, with the outbox figures of its last status.
  const row = page.locator('tr[data-gw="gw-hue-01"]');
  await row.locator('[data-col=state]').filter({ hasText: 'Trực tuyến' }).waitFor({ timeout: 30_000 });
  await row.locator('[data-col=outbox]').filter({ hasText: /\d+ bản ghi/ }).waitFor({ timeout: 30_000 });
  const gw = await get<{ gateway: { outbox: { depth: number } | null } }>('/gateways/gw-hue-01');
  assert.ok(gw.gateway.outbox, 'the demo gateway reported its outbox');
  assert.match(await row.locator('[data-col=certificate]').innerText(), /Hợp lệ đến/);
  assert.match(await row.locator('[data-col=version]').innerText(), /\S/);
  // The gateway's periodic status (every 10 s) reaches the row through the live feed: its last ack shows.
  await row.locator('[data-col=lastAck]').filter({ hasText: /trước|vừa xong/ }).waitFor({ timeout: 40_000 });
  await screenshot(page, 'technician-gateways');

  // A token for a gateway the hub has never heard of, in Kim Long.
  await page.fill('input[name=gateway]', NEW_GW);
  await page.fill('input[name=commune]', '19816');
  await page.getByRole('button', { name: 'Tạo mã đăng ký' }).click();
  const command = (await page.locator('[data-testid=enrol-command]').innerText({ timeout: 20_000 })).trim();
  assert.match(command, /^ioc-edge enroll --hub https:\/\/localhost:\d+ --token \S+ --ca-fingerprint \S+/);
  const qr = page.locator('[data-testid=enrol-token] .qr');
  assert.equal(await qr.getAttribute('data-qr-text'), command, 'the QR code holds the command line');
  await qr.locator('svg').waitFor();
  await screenshot(page, 'technician-token');

  // The gateway enrols with the token as the page shows it (the hub URL, token and fingerprint from the text).
  const edgeDir = join(dir, NEW_GW);
  const edgeConfig = writeEdgeConfig({
    dir: edgeDir,
    gatewayId: NEW_GW,
    devices: [{ id: 'wl-test-02', profile: 'radar-water-level', port: site.river.port, name: 'Trạm thử' }],
  });
  const r = await edgeCli(['enroll', '--hub', arg(command, 'hub'), '--token', arg(command, 'token'), '--ca-fingerprint', arg(command, 'ca-fingerprint'), '--config', edgeConfig]);
  assert.equal(r.code, 0, `ioc-edge enroll failed: ${r.err}${r.out}`);
  const written = parse(readFileSync(edgeConfig, 'utf8')) as { uplink?: { cert?: string } };
  assert.ok(written.uplink?.cert, 'enroll wrote the certificate into edge.yaml');

  // The console sees it enrolled, and lists it.
  await page.locator('[data-testid=enrol-done]').waitFor({ timeout: 20_000 });
  const newRow = page.locator(`tr[data-gw="${NEW_GW}"]`);
  await newRow.locator('[data-col=certificate]').filter({ hasText: /Hợp lệ đến/ }).waitFor({ timeout: 20_000 });

  // Revoke it, with a reason.
  await newRow.getByRole('button', { name: /Thu hồi/ }).click();
  const confirm = page.locator('[data-testid=revoke-confirm]');
  await confirm.locator('input[name=reason]').fill('thử nghiệm xong');
  await confirm.getByRole('button', { name: 'Xác nhận thu hồi' }).click();
  await newRow.locator('[data-col=certificate]').filter({ hasText: 'Đã thu hồi' }).waitFor({ timeout: 20_000 });
  const ident = await get<{ gateway: { state: string; revokeReason: string | null; revokedBy: string | null } }>(`/gateways/${NEW_GW}/identity`);
  assert.equal(ident.gateway.state, 'revoked');
  assert.equal(ident.gateway.revokeReason, 'thử nghiệm xong');
  assert.match(String(ident.gateway.revokedBy), /kythuat/);

  // A device being installed: its values arrive live.
  await page.selectOption('select[name=device]', 'wl-kimlong');
  await page.getByRole('button', { name: 'Xem trực tiếp' }).click();
  await page.waitForURL(/\/technician\/devices\/wl-kimlong$/);
  await page.locator('[data-testid=live-values] tr[data-metric=water_level] [data-col=value]').filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
  assert.match(await page.locator('[data-testid=live-values] tr[data-metric=water_level] th').innerText(), /Mực nước\s+water_level/, 'the metric by its name, with its id');
  await page.locator('[data-testid=live-recent] tr').first().waitFor({ timeout: 30_000 });
  await screenshot(page, 'technician-live');

  assert.deepEqual(errors, [], 'errors in the page');
});
