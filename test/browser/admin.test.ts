/**
 * The admin console against the demo: the first login of an admin makes them enrol TOTP (QR and
 * secret shown, a code from it confirms, recovery codes shown once); after that a login without a
 * code or with a wrong one is refused and one with the right code gets in. Then the users page
 * lists the demo's accounts, the audit page shows the chain verified, a backup is made and listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { totpAt } from '../../hub/src/auth/totp.js';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../lib/demo-site.js';
import { browserSite, login, newConsoleContext, pageErrors, screenshot } from '../lib/browser.js';

const STEP_MS = 30_000;

/** A code of the next 30 s step: the hub refuses a code of a step already used (replay). */
async function nextStepCode(secret: string): Promise<string> {
  await new Promise((r) => setTimeout(r, STEP_MS - (Date.now() % STEP_MS) + 300));
  return totpAt(secret);
}

/** A six-digit code that is not the right one now, nor in the steps either side (the hub allows ±1 step). */
async function wrongCode(secret: string): Promise<string> {
  const now = Date.now();
  const near = new Set(await Promise.all([-1, 0, 1].map((k) => totpAt(secret, now + k * STEP_MS))));
  for (let i = 0; ; i++) {
    const c = String((Number(await totpAt(secret, now)) + 1 + i * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

test('admin: TOTP enrolment at first login; without a code or with a wrong one refused, with the right one in; users, audit and backups pages', { timeout: 300_000 }, async (t) => {
  const ready = await browserSite(t, 'admin', { holdRiver: true });
  if (!ready) return;
  const { site, browser } = ready;
  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);

  // First login: the console makes the admin set up TOTP before anything else.
  await login(page, site.base, 'quantri', DEMO_PASSWORD);
  const secret = (await page.locator('[data-testid=mfa-secret]').textContent({ timeout: 20_000 }))!.trim();
  assert.match(secret, /^[A-Z2-7]{16,}$/, 'a base32 secret is shown');
  await page.locator('.qr svg').waitFor();
  assert.match(String(await page.locator('.qr').getAttribute('data-qr-text')), new RegExp(`^otpauth://totp/.*secret=${secret}`));
  await page.fill('input[name=code]', await totpAt(secret));
  await page.click('button[type=submit]');
  await page.locator('[data-testid=recovery-codes]').waitFor({ timeout: 20_000 });
  const codes = await page.locator('[data-testid=recovery-codes] li').allInnerTexts();
  assert.equal(codes.length, 10, 'ten recovery codes shown');
  await page.getByRole('button', { name: 'Tiếp tục' }).click();
  await page.locator('header.top').waitFor();
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.locator('input[name=username]').waitFor();

  // Without a code: refused, and the form asks for it.
  await page.fill('input[name=username]', 'quantri');
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('input[name=otp]').waitFor();
  assert.match(await page.locator('[role=alert]').innerText(), /cần mã xác thực/);
  assert.equal(await page.locator('header.top').count(), 0, 'not signed in without a code');

  // A wrong code: refused.
  await page.fill('input[name=otp]', await wrongCode(secret));
  await page.click('button[type=submit]');
  await page.locator('[role=alert]').filter({ hasText: 'Mã xác thực không đúng' }).waitFor();
  assert.equal(await page.locator('header.top').count(), 0, 'not signed in with a wrong code');

  // The right code (of a step not used by the enrolment): in.
  await page.fill('input[name=otp]', await nextStepCode(secret));
  await page.click('button[type=submit]');
  await page.locator('header.top').waitFor();

  // Users: the four demo accounts, with their roles; the admin's second factor on.
  await page.goto(site.base + '/admin/users');
  const users = page.locator('[data-testid=users]');
  await users.waitFor();
  for (const l of DEMO_LOGINS) await users.locator(`tr[data-user="${l.username}"]`).waitFor();
  assert.match(await users.locator('tr[data-user="quantri"] [data-col=mfa]').innerText(), /Đã bật \(10 mã khôi phục\)/);
  assert.match(await users.locator('tr[data-user="kythuat"] [data-col=role]').innerText(), /kỹ thuật viên/);
  assert.match(await users.locator('tr[data-user="kythuat"] [data-col=areas]').innerText(), /46/);
  await screenshot(page, 'admin-users');

  // Audit: the chain verifies, and the MFA enrolment and the refused logins are in it.
  await page.goto(site.base + '/admin/audit');
  const verify = page.locator('[data-testid=audit-verify]');
  await verify.waitFor();
  assert.equal(await verify.getAttribute('data-ok'), 'true');
  assert.match(await verify.innerText(), /TOÀN VẸN: \d+ mục, mã băm cuối [0-9a-f]{16,}/);
  const entries = page.locator('[data-testid=audit-entries]');
  await entries.locator('tr[data-action="auth.mfa_enrolled"]').first().waitFor();
  await entries.locator('tr[data-action="auth.login_failed"]').first().waitFor();
  await screenshot(page, 'admin-audit');

  // Backups: one made now, while the hub runs, listed as checked; the audit log records it.
  await page.goto(site.base + '/admin/backups');
  await page.locator('[data-testid=backup-dir]').waitFor();
  await page.getByRole('button', { name: 'Sao lưu ngay' }).click();
  await page.locator('[data-testid=backup-done]').waitFor({ timeout: 60_000 });
  const backup = page.locator('[data-testid=backups] tbody tr').first();
  assert.match(await backup.locator('[data-col=check]').innerText(), /Toàn vẹn/);
  assert.match(String(await backup.getAttribute('data-backup')), /^hub-\d{8}T\d{6}Z\.db$/);
  // Checked again: still the copy that was made.
  await backup.getByRole('button', { name: 'Kiểm tra lại' }).click();
  await backup.locator('[data-col=recheck] [data-verify=ok]', { hasText: 'Vẫn toàn vẹn' }).waitFor({ timeout: 30_000 });
  await screenshot(page, 'admin-backups');
  await page.goto(site.base + '/admin/audit');
  await page.locator('[data-testid=audit-entries] tr[data-action="hub.backup"]').first().waitFor();
  await page.locator('[data-testid=audit-entries] tr[data-action="hub.backup.verify"]').first().waitFor();
  assert.equal(await page.locator('[data-testid=audit-verify]').getAttribute('data-ok'), 'true');

  assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [], 'errors in the page');
});
