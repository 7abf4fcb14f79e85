/** Times in Asia/Ho_Chi_Minh whatever the browser's zone, numbers and ages in the user's language. */
import { lang, t } from './i18n/index.js';

export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const locale = () => (lang() === 'vi' ? 'vi-VN' : 'en-GB');

// Formatters are costly to build (the board formats hundreds of values a second): one per language and kind.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function cached<F extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: (locale: string) => F): F {
  const k = `${locale()}|${key}`;
  let f = formatters.get(k) as F | undefined;
  if (!f) formatters.set(k, (f = make(locale())));
  return f;
}

export function fmtDateTime(ts: number | null | undefined): string {
  if (ts == null) return '—';
  return cached('dt', (l) => new Intl.DateTimeFormat(l, { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })).format(ts);
}

export function fmtTime(ts: number | null | undefined): string {
  if (ts == null) return '—';
  return cached('t', (l) => new Intl.DateTimeFormat(l, { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hour12: false })).format(ts);
}

export function fmtNumber(v: number | null | undefined, digits = 2): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return cached(`n${digits}`, (l) => new Intl.NumberFormat(l, { maximumFractionDigits: digits, minimumFractionDigits: 0 })).format(v);
}

/** "3 phút" / "3 min": the age of a value, for "last value 3 min ago". */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const vi = lang() === 'vi';
  if (s < 60) return vi ? `${s} giây` : `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return vi ? `${m} phút` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return vi ? `${h} giờ ${m % 60} phút` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return vi ? `${d} ngày` : `${d} days`;
}

export function fmtAge(ts: number | null | undefined, now = Date.now()): string {
  if (ts == null) return t('common.never');
  const ms = now - ts;
  return ms < 5_000 ? t('common.justNow') : t('common.ago', { age: fmtDuration(ms) });
}
