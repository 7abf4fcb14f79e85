/**
 * Every message of the consoles, in both languages: present, translated, the same placeholders,
 * and Vietnamese that renders (NFC, no mojibake from a wrong encoding, no replacement character).
 * The browser walk (test/browser/i18n.test.ts) checks what the pages actually show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG } from '../src/i18n/catalog.js';

/** Identical in both languages on purpose (names, codes, symbols). */
const SAME_IN_BOTH = /^[\s\d\W]*$|^(CAP|API|MQTT|TOTP|QR|ID|OK|JSON|HMAC|SMTP|URL)\b/;
/** What UTF-8 Vietnamese looks like after a Latin-1 round trip, and the replacement character. */
const MOJIBAKE = /Ã.|Ä.|á».|áº.|Æ°|\uFFFD/;
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

const entries = Object.entries(CATALOG) as Array<[string, { vi: string; en: string }]>;

test('the catalog is not empty and every key has both languages', () => {
  assert.ok(entries.length > 50, `only ${entries.length} messages`);
  for (const [key, m] of entries) {
    assert.ok(m.vi.trim(), `${key}: no Vietnamese`);
    assert.ok(m.en.trim(), `${key}: no English`);
  }
});

test('every Vietnamese message is translated, in NFC, free of mojibake; both languages take the same placeholders', () => {
  for (const [key, m] of entries) {
    if (!SAME_IN_BOTH.test(m.vi)) assert.notEqual(m.vi, m.en, `${key}: the same text in both languages ("${m.vi}")`);
    for (const lang of ['vi', 'en'] as const) {
      assert.equal(m[lang], m[lang].normalize('NFC'), `${key} (${lang}): not NFC — diacritics would render apart`);
      assert.doesNotMatch(m[lang], MOJIBAKE, `${key} (${lang}): mojibake`);
    }
    assert.deepEqual(placeholders(m.vi), placeholders(m.en), `${key}: placeholders differ`);
  }
});

test('the Vietnamese side is Vietnamese: most messages carry diacritics', () => {
  const marked = entries.filter(([, m]) => /[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]/i.test(m.vi)).length;
  assert.ok(marked / entries.length > 0.8, `only ${marked} of ${entries.length} Vietnamese messages have a diacritic`);
});
