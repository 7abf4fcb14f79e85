/**
 * Every page of every console, in Vietnamese and in English: no message key shown raw, no
 * Vietnamese left on an English page, diacritics whole (NFC, no replacement character) and drawn
 * with the self-hosted Be Vietnam Pro, no error in the page. The pages come from the consoles'
 * route tables, so a new page is walked without touching this test (or fails until it has a sample id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

import { join } from 'node:path';
import { ROOT } from '../lib/procs.js';
import { until } from '../lib/until.js';
import { DEMO_PASSWORD, demoCa } from '../lib/demo-site.js';
import { hubClient } from '../lib/hub-client.js';
import { adminLogin, browserSite, newConsoleContext, pageErrors } from '../lib/browser.js';
import { CATALOG } from '../../hub/web/src/i18n/catalog.js';

const CONSOLES = join(ROOT, 'hub', 'web', 'src', 'consoles');

/** The route patterns declared in consoles/<name>/index.tsx. */
function routePatterns(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(CONSOLES, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const src = readFileSync(join(CONSOLES, name.name, 'index.tsx'), 'utf8');
    for (const m of src.matchAll(/pattern:\s*'([^']+)'/g)) out.push(m[1]!);
  }
  return out;
}

const keyPattern = (key: string) => new RegExp(`(?<![\\w.])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.])`);
const VI_MARKS = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i;
const entries = Object.entries(CATALOG) as Array<[string, { vi: string; en: string }]>;
// Long Vietnamese messages that are not also English text: none may show on an English page.
const viOnly = entries.map(([, m]) => m.vi).filter((v) => v.length >= 15 && VI_MARKS.test(v) && !entries.some(([, m]) => m.en.includes(v)) && !v.includes('{'));

test('every console page, in Vietnamese and in English: translated, whole diacritics, no raw keys, no errors', { timeout: 420_000 }, async (t) => {
  const ready = await browserSite(t, 'i18n', { speed: 20, pollIntervalMs: 500 });
  if (!ready) return;
  const { site, browser } = ready;
  const api = hubClient(site.base, { ca: demoCa(site), apiKey: site.apiKey });
  // An alert to open: the river crosses BĐ1 within seconds at this speed.
  const alertId = await until(async () => (await api.alerts('wl-kimlong'))[0]?.id, 'an alert raised by the demo river', 120_000, 1000);
  const samples: Record<string, string> = { '/watch/alerts/:id': String(alertId), '/commune/devices/:id': 'wl-kimlong', '/technician/devices/:id': 'wl-kimlong', '/admin/rules/:id': 'flood' };
  const paths = routePatterns().map((p) => {
    if (!p.includes(':')) return p;
    const id = samples[p];
    assert.ok(id, `no sample id for ${p}: add one to this test`);
    return p.replace(/:[a-z]+/i, encodeURIComponent(id));
  });

  const ctx = await newConsoleContext(browser);
  const page = await ctx.newPage();
  const errors = pageErrors(page);
  // The admin sees every console.
  await adminLogin(page, site.base, 'quantri', DEMO_PASSWORD);
  for (const lang of ['vi', 'en'] as const) {
    await page.evaluate((l) => localStorage.setItem('ioc.lang', l), lang);
    for (const path of paths) {
      await page.goto(site.base + path);
      await page.waitForLoadState('networkidle');
      await page.locator('main#main').waitFor();
      await page.waitForTimeout(300);
      const where = `${path} (${lang})`;
      if (path.startsWith('/watch/alerts/')) {
        const cap = page.locator('[data-testid="cap"]');
        await cap.waitFor();
        assert.equal(await cap.getAttribute('translate'), 'no', `${where}: the CAP message is marked as not to be translated`);
      }
      // What is shown as sent (translate="no": the CAP message, in both its languages) is data, not the page's language.
      const text = await page.evaluate(() => {
        const asSent = [...document.querySelectorAll<HTMLElement>('[translate="no"]')];
        for (const el of asSent) el.style.display = 'none';
        const shown = document.body.innerText;
        for (const el of asSent) el.style.display = '';
        return shown;
      });
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang, where);
      assert.doesNotMatch(text, /\uFFFD/, `${where}: replacement character`);
      assert.equal(text, text.normalize('NFC'), `${where}: text not in NFC`);
      // A key stands alone when shown raw; data such as an audit action ("alert.acknowledged") may contain one.
      for (const [key] of entries) assert.doesNotMatch(text, keyPattern(key), `${where}: raw key ${key}`);
      if (lang === 'vi') assert.match(text, VI_MARKS, `${where}: no Vietnamese on the page`);
      else for (const v of viOnly) assert.ok(!text.includes(v), `${where}: Vietnamese left on the English page: "${v}"`);
      const fontOk = await page.evaluate(async () => {
        await document.fonts.ready;
        return document.fonts.check('16px "Be Vietnam Pro"', 'Đường Trực ban ạặẫ');
      });
      assert.ok(fontOk, `${where}: Be Vietnam Pro not loaded for Vietnamese glyphs`);
    }
  }
  assert.deepEqual(errors, [], 'errors in the page');
  console.log(`# walked ${paths.length} pages × 2 languages: ${paths.join(', ')}`);
});
