/**
 * Times in CAP messages: Vietnam's civil time (UTC+7, no daylight saving), whole seconds and an
 * explicit offset, as CAP 1.2 requires ("2020-11-12T14:05:00+07:00"; no "Z", no fractions).
 */

const OFFSET_MS = 7 * 3_600_000;
const OFFSET = '+07:00';

/** Epoch ms → CAP dateTime in +07:00 (fractions of a second dropped). */
export function capTime(ms: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + OFFSET_MS);
  return `${local.toISOString().slice(0, 19)}${OFFSET}`;
}

/** Epoch ms → the parts of Vietnam's local time, for texts. */
function localParts(ms: number) {
  const d = new Date(ms + OFFSET_MS);
  const two = (n: number) => String(n).padStart(2, '0');
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: two(d.getUTCDate()), dm: two(d.getUTCMonth() + 1), hm: `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}` };
}

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "14:05 ngày 12/11/2020" and "12 Nov 2020 14:05", Vietnam time. */
export function localTimeText(ms: number): { vi: string; en: string } {
  const p = localParts(ms);
  return { vi: `${p.hm} ngày ${p.d}/${p.dm}/${p.y}`, en: `${p.d} ${MONTHS_EN[p.mo]} ${p.y} ${p.hm}` };
}
