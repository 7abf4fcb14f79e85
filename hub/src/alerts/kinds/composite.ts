/**
 * Conditions on several metrics of one device or one site (devices sharing a registry `site`),
 * e.g. fire = smoke AND (temperature ≥ 57 °C OR rising ≥ 8 °C/min). Each metric's newest reading
 * counts while it is younger than `holdS` of event time; the rule is at its level while the
 * condition tree is true and clears when it is false.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Reading } from '@ioc/shared';
import type { DeviceEntry } from '../../config/schema.js';
import { RuleSpecError, SEVERITIES, type AlertCategory, type ArrivingWith, type CompiledRule, type RuleKind, type RuleTarget, type Severity } from '../rule.js';
import { CategoryKey, areaOf, deviceTarget, Localized, placeOf, ruleName, selectDevices, staleAfterMs } from './common.js';

const Leaf = Type.Object(
  {
    metric: Type.String({ minLength: 1, maxLength: 64 }),
    /** Boolean metrics (smoke): the value must be this. */
    is: Type.Optional(Type.Boolean()),
    gte: Type.Optional(Type.Number()),
    lte: Type.Optional(Type.Number()),
    /** Rising at least this much per minute over `rateWindowS`. */
    risePerMin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);
type Leaf = Static<typeof Leaf>;
const Node = Type.Recursive((Self) => Type.Union([Leaf, Type.Object({ all: Type.Array(Self, { minItems: 1 }) }, { additionalProperties: false }), Type.Object({ any: Type.Array(Self, { minItems: 1 }) }, { additionalProperties: false })]));
type Node = Leaf | { all: Node[] } | { any: Node[] };

const Schema = Type.Object({
  when: Node,
  /** Judge each device alone, or every device of a site together. */
  per: Type.Optional(Type.Union([Type.Literal('device'), Type.Literal('site')])),
  holdS: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400 })),
  rateWindowS: Type.Optional(Type.Number({ minimum: 10, maximum: 3600 })),
  level: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  severity: Type.Optional(Type.Union(SEVERITIES.map((s) => Type.Literal(s)))),
  category: CategoryKey,
  label: Type.Optional(Localized),
});

function leaves(n: Node, out: Leaf[] = []): Leaf[] {
  if ('all' in n) n.all.forEach((c) => leaves(c, out));
  else if ('any' in n) n.any.forEach((c) => leaves(c, out));
  else out.push(n);
  return out;
}

/** Recent readings of one metric of one device (for rises), oldest first. */
type Recent = Array<{ ts: number; v: number | boolean }>;

export const compositeKind: RuleKind = {
  kind: 'composite',
  description: 'AND/OR of conditions on several metrics of one device or one site (e.g. fire: smoke and heat)',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const when = spec.when as Node;
    const metrics = [...new Set(leaves(when).map((l) => l.metric))];
    leaves(when).forEach((l, i) => {
      if (l.is === undefined && l.gte === undefined && l.lte === undefined && l.risePerMin === undefined) {
        throw new RuleSpecError(spec.id, `when (condition ${i + 1} on ${l.metric})`, 'needs one of is, gte, lte, risePerMin');
      }
    });
    const holdMs = ((spec.holdS as number | undefined) ?? 120) * 1000;
    const rateMs = ((spec.rateWindowS as number | undefined) ?? 60) * 1000;
    const level = (spec.level as number | undefined) ?? 1;
    const label = (spec.label as { vi: string; en: string } | undefined) ?? { vi: 'Cháy', en: 'Fire' };
    const name = ruleName(spec, label);
    const devices = selectDevices(registry, spec);
    let targets: RuleTarget[];
    if (spec.per === 'site') {
      const sites = new Map<string, DeviceEntry[]>();
      for (const d of devices) if (d.site) sites.set(d.site, [...(sites.get(d.site) ?? []), d]);
      targets = [...sites].map(([site, ds]) => ({
        key: `site:${site}`,
        inputs: ds.flatMap((d) => metrics.map((metric) => ({ dev: d.id, metric }))),
        dev: ds[0]!.id,
        metric: null,
        gw: ds[0]!.gateway,
        area: areaOf(ds[0]!),
        place: { vi: `Khu ${site} (${placeOf(ds[0]!).vi})`, en: `Site ${site} (${placeOf(ds[0]!).en})` },
        staleAfterMs: Math.max(...ds.map(staleAfterMs)),
      }));
    } else {
      targets = devices.map((d) => deviceTarget(d, metrics));
    }
    return {
      spec,
      category: (spec.category as AlertCategory | undefined) ?? 'fire',
      targets,
      maxLevel: level,
      evaluator(target) {
        const devices = new Set(target.inputs.map((i) => i.dev));
        // metric → device → its recent readings: at a site a condition holds if one device meets it
        // (a rise is never taken between two devices' readings).
        const state = new Map<string, Map<string, Recent>>(metrics.map((m) => [m, new Map()]));
        const leafHolds = (n: Leaf, rs: Recent, now: number): boolean => {
          const last = rs[rs.length - 1];
          if (!last || now - last.ts > holdMs) return false;
          if (n.is !== undefined && last.v !== n.is) return false;
          if (n.gte !== undefined && !(typeof last.v === 'number' && last.v >= n.gte)) return false;
          if (n.lte !== undefined && !(typeof last.v === 'number' && last.v <= n.lte)) return false;
          if (n.risePerMin !== undefined) {
            const first = rs.find((x) => typeof x.v === 'number' && last.ts - x.ts <= rateMs);
            if (!first || first.ts >= last.ts || typeof last.v !== 'number') return false;
            const perMin = (((last.v as number) - (first.v as number)) / (last.ts - first.ts)) * 60_000;
            if (!(perMin >= n.risePerMin)) return false;
          }
          return true;
        };
        const test = (n: Node, now: number): boolean => {
          if ('all' in n) return n.all.every((c) => test(c, now));
          if ('any' in n) return n.any.some((c) => test(c, now));
          for (const rs of state.get(n.metric)!.values()) if (leafHolds(n, rs, now)) return true;
          return false;
        };
        const valueOf = (r: Reading): number | boolean | null => {
          if (r.q === 'bad' || r.value === null || r.value === undefined || !state.has(r.metric)) return null;
          return typeof r.value === 'boolean' ? r.value : typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : null;
        };
        const recentOf = (dev: string, metric: string): Recent => {
          const byDev = state.get(metric)!;
          let rs = byDev.get(dev);
          if (!rs) byDev.set(dev, (rs = []));
          return rs;
        };
        /**
         * Whether the condition could be `as` at `now` while the batch's other readings are judged
         * around the one asked about: a leaf's metric then has, per device, its newest reading now
         * or one of the batch's; a rise depends on the order, so it could be either.
         */
        const couldBe = (n: Node, now: number, batch: ArrivingWith, asked: Reading, as: boolean): boolean => {
          if ('all' in n) return as ? n.all.every((c) => couldBe(c, now, batch, asked, as)) : n.all.some((c) => couldBe(c, now, batch, asked, as));
          if ('any' in n) return as ? n.any.some((c) => couldBe(c, now, batch, asked, as)) : n.any.every((c) => couldBe(c, now, batch, asked, as));
          const byDev = state.get(n.metric)!;
          // Holding at any one device makes the leaf hold; failing needs every device to fail.
          let some = false;
          let every = true;
          for (const d of devices) {
            const rs = byDev.get(d) ?? [];
            const others = batch.of(d, n.metric).filter((b) => b !== asked);
            let can = leafHolds(n, rs, now) === as;
            if (!can && others.length) {
              can = n.risePerMin !== undefined || others.some((b) => {
                const v = valueOf(b);
                return v !== null && leafHolds(n, [{ ts: b.ts, v }], now) === as;
              });
            }
            if (can) some = true;
            else every = false;
          }
          return as ? some : every;
        };
        /** The level of the last verdict (the episode's, after a restore). */
        let current = 0;
        return {
          historyMs: Math.max(holdMs, rateMs),
          restore: (l: number) => {
            current = l;
          },
          reading(r: Reading) {
            const v = valueOf(r);
            if (v === null) return undefined;
            const rs = recentOf(r.dev, r.metric);
            rs.push({ ts: r.ts, v });
            while (rs.length > 1 && rs[0]!.ts < r.ts - Math.max(rateMs, holdMs)) rs.shift();
            const numericValue = typeof v === 'number' ? v : null;
            current = test(when, r.ts) ? level : 0;
            return { level: current, ts: r.ts, value: numericValue };
          },
          // The other metrics of the condition often come in the same batch (one poll of the
          // device) and may be judged before it: could they, with it, move the level?
          wouldChange(r: Reading, batch: ArrivingWith) {
            const v = valueOf(r);
            if (v === null) return false;
            const rs = recentOf(r.dev, r.metric);
            rs.push({ ts: r.ts, v });
            try {
              if ((test(when, r.ts) ? level : 0) !== current) return true;
              // Not raised: could it be true? Raised: could it be false?
              return couldBe(when, r.ts, batch, r, current === 0);
            } finally {
              rs.pop();
            }
          },
        };
      },
      levelLabel: (l) => (l > 0 ? name : { vi: 'Bình thường', en: 'Normal' }),
      severity: () => (spec.severity as Severity | undefined) ?? 'extreme',
      message(t, l) {
        if (l > 0) return { vi: `${name.vi} — ${t.place.vi}`, en: `${name.en} — ${t.place.en}` };
        return { vi: `Hết ${name.vi.toLowerCase()} — ${t.place.vi}`, en: `${name.en} over — ${t.place.en}` };
      },
    };
  },
};
