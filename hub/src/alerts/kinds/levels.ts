/**
 * Ordered thresholds on one metric, e.g. PM2.5 ≥ 55 / 150 / 250 µg/m³ or a reservoir level:
 * level n while the value is at or above the n-th threshold (or at or below, for `below`), with a
 * deadband for leaving a level and an optional time it must hold before it is raised.
 */
import { Type } from '@sinclair/typebox';
import { SEVERITIES, RuleSpecError, type AlertCategory, type CompiledRule, type RuleKind, type Severity } from '../rule.js';
import { CategoryKey, deviceTarget, fmt, Localized, ruleName, selectDevices, severityByLevel, thresholdEvaluator } from './common.js';

const Schema = Type.Object({
  metric: Type.String({ minLength: 1, maxLength: 64 }),
  /** Strictly ascending for `above`, strictly descending for `below`. */
  thresholds: Type.Array(Type.Number(), { minItems: 1, maxItems: 10 }),
  direction: Type.Optional(Type.Union([Type.Literal('above'), Type.Literal('below')])),
  /** How far back past a threshold before its level is left (default 2 % of the first threshold's magnitude). */
  deadband: Type.Optional(Type.Number({ minimum: 0 })),
  forS: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
  unit: Type.Optional(Type.String({ maxLength: 16 })),
  category: CategoryKey,
  /** Severity per level (default minor, moderate, severe, extreme from the top down). */
  severities: Type.Optional(Type.Array(Type.Union(SEVERITIES.map((s) => Type.Literal(s))), { minItems: 1, maxItems: 10 })),
  labels: Type.Optional(Type.Array(Localized, { maxItems: 10 })),
});

export const levelsKind: RuleKind = {
  kind: 'levels',
  description: 'Ordered thresholds on one metric (above or below), with a deadband and an optional hold time',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const metric = spec.metric as string;
    const below = spec.direction === 'below';
    const raw = spec.thresholds as number[];
    for (let i = 1; i < raw.length; i++) {
      if (below ? raw[i]! >= raw[i - 1]! : raw[i]! <= raw[i - 1]!) {
        throw new RuleSpecError(spec.id, 'thresholds', `must be strictly ${below ? 'descending' : 'ascending'} (level n+1 is worse than level n)`);
      }
    }
    // "below" is "above" on the negated value.
    const thresholds = below ? raw.map((x) => -x) : raw;
    const deadband = (spec.deadband as number | undefined) ?? Math.abs(raw[0]!) * 0.02;
    const forMs = ((spec.forS as number | undefined) ?? 0) * 1000;
    const unit = (spec.unit as string | undefined) ?? '';
    const labels = spec.labels as Array<{ vi: string; en: string }> | undefined;
    const n = raw.length;
    const sev = (spec.severities as Severity[] | undefined) ?? (['minor', 'moderate', 'severe', 'extreme'] as Severity[]).slice(-Math.min(n, 4));
    const name = ruleName(spec, { vi: metric, en: metric });
    const label = (level: number) => labels?.[level - 1] ?? { vi: `Cấp ${level}`, en: `Level ${level}` };
    const targets = selectDevices(registry, spec).map((d) => deviceTarget(d, [metric]));
    if (!targets.length && spec.select?.devices) throw new RuleSpecError(spec.id, 'select', 'selects no device');
    return {
      spec,
      category: (spec.category as AlertCategory | undefined) ?? 'environment',
      targets,
      maxLevel: n,
      evaluator: () => thresholdEvaluator(metric, thresholds, deadband, forMs, below ? -1 : 1),
      levelLabel: (level) => (level > 0 ? label(level) : { vi: 'Bình thường', en: 'Normal' }),
      severity: severityByLevel(sev),
      message(t, level, value, peak) {
        const v = fmt(value, unit);
        if (level > 0) return { vi: `${name.vi} ${label(level).vi} — ${t.place.vi}${v}`, en: `${name.en} ${label(level).en} — ${t.place.en}${v}` };
        const p = peak ? label(peak) : null;
        return { vi: `${name.vi} trở lại bình thường${p ? ` (cao nhất: ${p.vi})` : ''} — ${t.place.vi}${v}`, en: `${name.en} back to normal${p ? ` (peak: ${p.en})` : ''} — ${t.place.en}${v}` };
      },
    };
  },
};
