/**
 * Rate of change over a window of event time, e.g. water rising faster than 0.3 m/h over 30
 * minutes: the rise from the oldest reading in the window to the newest, per hour. A level is
 * left when the rate falls below `clearRatio` of its threshold.
 */
import { Type } from '@sinclair/typebox';
import { RuleSpecError, type AlertCategory, type CompiledRule, type RuleKind } from '../rule.js';
import { CategoryKey, deviceTarget, fmt, levelWithDeadband, numeric, ruleName, selectDevices, severityByLevel } from './common.js';

const Schema = Type.Object({
  metric: Type.String({ minLength: 1, maxLength: 64 }),
  /** Per hour, ascending; level n at ≥ perHour[n-1]. */
  perHour: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, maxItems: 5 }),
  direction: Type.Optional(Type.Union([Type.Literal('rise'), Type.Literal('fall')])),
  windowMinutes: Type.Optional(Type.Number({ minimum: 1, maximum: 1440 })),
  clearRatio: Type.Optional(Type.Number({ minimum: 0.1, maximum: 1 })),
  unit: Type.Optional(Type.String({ maxLength: 16 })),
  category: CategoryKey,
});

export const rateKind: RuleKind = {
  kind: 'rate',
  description: 'Rate of change of one metric over a window (e.g. water rising faster than 0.3 m/h)',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const metric = spec.metric as string;
    const perHour = spec.perHour as number[];
    for (let i = 1; i < perHour.length; i++) if (perHour[i]! <= perHour[i - 1]!) throw new RuleSpecError(spec.id, 'perHour', 'must be strictly ascending');
    const fall = spec.direction === 'fall';
    const windowMs = ((spec.windowMinutes as number | undefined) ?? 30) * 60_000;
    const clearRatio = (spec.clearRatio as number | undefined) ?? 0.8;
    const unit = (spec.unit as string | undefined) ?? '';
    const name = ruleName(spec, fall ? { vi: 'Giảm nhanh', en: 'Falling fast' } : { vi: 'Lên nhanh', en: 'Rising fast' });
    const targets = selectDevices(registry, spec).map((d) => deviceTarget(d, [metric]));
    const perH = `${unit}/h`;
    return {
      spec,
      category: (spec.category as AlertCategory | undefined) ?? 'flood',
      targets,
      maxLevel: perHour.length,
      evaluator() {
        const window: Array<{ ts: number; v: number }> = [];
        let level = 0;
        /** The level and rate after a reading `v` at `ts` whose window starts at `first`; moves nothing. */
        const judge = (first: { ts: number; v: number }, v: number, ts: number): { level: number; rate: number | null } => {
          const span = ts - first.ts;
          // Too short a span says nothing about a rate (one noisy poll is not a flood wave).
          if (span < windowMs / 2) return { level, rate: null };
          const rate = (((fall ? -1 : 1) * (v - first.v)) / span) * 3_600_000;
          // The deadband of a rate is a fraction of each threshold.
          const raw = levelWithDeadband(perHour, 0, rate, 0);
          let next = level;
          if (raw >= next) next = raw;
          else while (next > raw && rate < perHour[next - 1]! * clearRatio) next--;
          return { level: next, rate };
        };
        return {
          historyMs: windowMs,
          restore: (l: number) => {
            level = l;
          },
          reading(r) {
            const v = numeric(r);
            if (v === null || r.metric !== metric) return undefined;
            window.push({ ts: r.ts, v });
            while (window.length > 1 && window[0]!.ts < r.ts - windowMs) window.shift();
            const j = judge(window[0]!, v, r.ts);
            level = j.level;
            return { level, ts: r.ts, value: j.rate === null ? null : Math.round(j.rate * 1000) / 1000 };
          },
          wouldChange(r, batch) {
            const v = numeric(r);
            if (v === null || r.metric !== metric) return false;
            // The window's start once r is in it: the oldest reading not older than the window;
            // if none is kept, r itself (no rate yet) or a reading of the same batch (unsure).
            const first = window.find((x) => x.ts >= r.ts - windowMs);
            if (!first) return batch.of(r.dev, metric).some((b) => b !== r);
            return judge(first, v, r.ts).level !== level;
          },
        };
      },
      levelLabel: (level) => (level > 0 ? { vi: `≥ ${perHour[level - 1]} ${perH}`, en: `≥ ${perHour[level - 1]} ${perH}` } : { vi: 'Bình thường', en: 'Normal' }),
      severity: severityByLevel(['moderate', 'severe', 'extreme']),
      message(t, level, value) {
        const v = fmt(value, perH);
        if (level > 0) return { vi: `${name.vi} — ${t.place.vi}${v}`, en: `${name.en} — ${t.place.en}${v}` };
        return { vi: `Hết ${name.vi.toLowerCase()} — ${t.place.vi}${v}`, en: `No longer ${name.en.toLowerCase()} — ${t.place.en}${v}` };
      },
    };
  },
};
