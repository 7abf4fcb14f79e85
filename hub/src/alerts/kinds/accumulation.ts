/**
 * Rainfall accumulated over sliding windows of event time, with the national bulletin's bands as
 * defaults: 3 h ≥ 70 / 100 / 200 mm and 24 h ≥ 100 / 200 / 400 mm (level = the worst window).
 * Gauges report either the rain of each interval or a running total that resets (the reference
 * rain logger's "rain since the start of the observation day"): `input` says which; a total that
 * drops is a reset, and the new total is the rain since it. Configure other bands per area with
 * one rule per area (`select.areas`).
 */
import { Type } from '@sinclair/typebox';
import { RuleSpecError, type CompiledRule, type RuleKind } from '../rule.js';
import { deviceTarget, fmt, numeric, ruleName, selectDevices, severityByLevel } from './common.js';

const Window = Type.Object({ hours: Type.Number({ exclusiveMinimum: 0, maximum: 168 }), bands: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, maxItems: 5 }) }, { additionalProperties: false });

const Schema = Type.Object({
  metric: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  input: Type.Optional(Type.Union([Type.Literal('total'), Type.Literal('interval')])),
  windows: Type.Optional(Type.Array(Window, { minItems: 1, maxItems: 6 })),
  /** A band is left when the sum falls this fraction below it (default 0.1). */
  clearFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9 })),
});

export const DEFAULT_RAIN_WINDOWS = [
  { hours: 3, bands: [70, 100, 200] },
  { hours: 24, bands: [100, 200, 400] },
];

export const accumulationKind: RuleKind = {
  kind: 'accumulation',
  description: 'Rainfall summed over sliding windows (1 h, 3 h, 12 h, 24 h…) against bands',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const metric = (spec.metric as string | undefined) ?? 'rainfall';
    const totalInput = (spec.input ?? 'total') === 'total';
    const windows = ((spec.windows as typeof DEFAULT_RAIN_WINDOWS | undefined) ?? DEFAULT_RAIN_WINDOWS).map((w) => ({ ms: w.hours * 3_600_000, hours: w.hours, bands: w.bands }));
    const maxLevel = Math.max(...windows.map((w) => w.bands.length));
    windows.forEach((w, i) => {
      for (let k = 1; k < w.bands.length; k++) if (w.bands[k]! <= w.bands[k - 1]!) throw new RuleSpecError(spec.id, `windows.${i}.bands`, 'must be strictly ascending');
    });
    const clearFraction = (spec.clearFraction as number | undefined) ?? 0.1;
    const longest = Math.max(...windows.map((w) => w.ms));
    const name = ruleName(spec, { vi: 'Mưa lớn', en: 'Heavy rain' });
    const targets = selectDevices(registry, spec).map((d) => deviceTarget(d, [metric]));
    return {
      spec,
      category: 'rain',
      targets,
      maxLevel,
      evaluator() {
        // Rain per reading, oldest first, kept for the longest window, with the running total up to
        // and including it: a window's sum is two lookups (a binary search), not a loop per reading.
        const rain: Array<{ ts: number; cum: number }> = [];
        let total = 0;
        let prevTotal: number | null = null;
        let level = 0;
        /** Rain in (from, newest]. */
        const sum = (from: number) => {
          let lo = 0;
          let hi = rain.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (rain[mid]!.ts > from) hi = mid;
            else lo = mid + 1;
          }
          return rain.length ? rain[rain.length - 1]!.cum - (lo > 0 ? rain[lo - 1]!.cum : baseCum) : 0;
        };
        // The running total just before rain[0] (what the readings dropped from the front added up to).
        let baseCum = 0;
        /** Rain a reading adds: a total that drops is a reset, and the new total is the rain since it. */
        const rainOf = (v: number) => (!totalInput ? v : prevTotal === null ? 0 : v >= prevTotal ? v - prevTotal : v);
        /** The level from the windows' sums (`sumFrom(from)`: rain in (from, ts]); moves nothing. */
        const judge = (sumFrom: (from: number) => number, ts: number) => {
          let raw = 0;
          let worst = 0;
          let held = 0;
          for (const w of windows) {
            const s = sumFrom(ts - w.ms);
            let l = 0;
            for (let k = 0; k < w.bands.length; k++) if (s >= w.bands[k]!) l = k + 1;
            if (l > raw) raw = l;
            // Highest level this window still holds within the deadband.
            let h = 0;
            for (let k = 0; k < w.bands.length; k++) if (s >= w.bands[k]! * (1 - clearFraction)) h = k + 1;
            held = Math.max(held, Math.min(h, level));
            worst = Math.max(worst, s);
          }
          return { level: Math.max(raw, held), worst };
        };
        return {
          historyMs: longest,
          restore: (l: number) => {
            level = l;
          },
          reading(r) {
            const v = numeric(r);
            if (v === null || r.metric !== metric || v < 0) return undefined;
            const mm = rainOf(v);
            if (totalInput) prevTotal = v;
            total += mm;
            rain.push({ ts: r.ts, cum: total });
            while (rain.length && rain[0]!.ts <= r.ts - longest) baseCum = rain.shift()!.cum;
            const j = judge((from) => sum(from), r.ts);
            level = j.level;
            return { level, ts: r.ts, value: Math.round(j.worst * 10) / 10 };
          },
          // The level after r lies between the one without more rain and the one with all the rain
          // of r's batch (some judged before r): either differing from now may change it.
          wouldChange(r, batch) {
            const v = numeric(r);
            if (v === null || r.metric !== metric || v < 0) return false;
            const mm = rainOf(v);
            let all = 0;
            let prev = prevTotal;
            for (const b of batch.of(r.dev, metric)) {
              const x = numeric(b);
              if (x === null || x < 0) continue;
              all += !totalInput ? x : prev === null ? 0 : x >= prev ? x - prev : x;
              if (totalInput) prev = x;
            }
            const low = judge(sum, r.ts);
            const high = judge((from) => sum(from) + Math.max(mm, all), r.ts);
            return low.level !== level || high.level !== level;
          },
        };
      },
      levelLabel: (level) => (level > 0 ? { vi: `Mưa lớn cấp ${level}`, en: `Heavy rain level ${level}` } : { vi: 'Bình thường', en: 'Normal' }),
      severity: severityByLevel(['moderate', 'severe', 'extreme']),
      message(t, level, value, peak) {
        const v = fmt(value, 'mm', 1);
        const bands = windows.map((w) => `${w.hours} h`).join(', ');
        if (level > 0) return { vi: `${name.vi} cấp ${level} (${bands}) — ${t.place.vi}${v}`, en: `${name.en} level ${level} (${bands}) — ${t.place.en}${v}` };
        return { vi: `Hết ${name.vi.toLowerCase()}${peak ? ` (cao nhất cấp ${peak})` : ''} — ${t.place.vi}`, en: `${name.en} over${peak ? ` (peak level ${peak})` : ''} — ${t.place.en}` };
      },
    };
  },
};
