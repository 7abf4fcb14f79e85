/**
 * No data: a device silent for `k` × its reporting interval (registry `intervalS`, else the rule's
 * `intervalS`), judged on the hub's clock. A device behind a gateway that is offline is not
 * judged: the gateway's own alert says why (one alert, not one per device).
 */
import { Type } from '@sinclair/typebox';
import type { CompiledRule, RuleKind } from '../rule.js';
import { deviceTarget, ruleName, selectDevices, TECHNICAL_SEVERITY } from './common.js';

const Schema = Type.Object({
  k: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
  /** Interval of devices without their own `intervalS` (default 60 s). */
  intervalS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400 })),
});

export const noDataKind: RuleKind = {
  kind: 'no-data',
  description: 'A device silent for k × its reporting interval (hub clock; not while its gateway is offline)',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const k = (spec.k as number | undefined) ?? 3;
    const defInterval = (spec.intervalS as number | undefined) ?? 60;
    const name = ruleName(spec, { vi: 'Mất dữ liệu', en: 'No data' });
    const devices = selectDevices(registry, spec);
    const silentMs = new Map(devices.map((d) => [d.id, k * (d.intervalS ?? defInterval) * 1000]));
    return {
      spec,
      category: 'technical',
      targets: devices.map((d) => deviceTarget(d, ['*'])),
      maxLevel: 1,
      evaluator(target) {
        const limit = silentMs.get(target.dev!)!;
        const gw = target.gw!;
        // Hub time at which the newest reading was seen (readings carry event time, which for a
        // drained backlog is long past): set at the first tick after it.
        let heardAt: number | null = null;
        let fresh = false;
        let level = 0;
        return {
          historyMs: 0,
          restore: (l: number) => {
            level = l;
          },
          reading(r) {
            fresh = true;
            if (level === 0) return undefined;
            level = 0;
            return { level, ts: r.ts, value: null };
          },
          // Any reading ends silence; otherwise it says nothing.
          wouldChange: () => level > 0,
          tick({ now, gatewayOnline }) {
            if (fresh || heardAt === null) heardAt = now;
            fresh = false;
            // Behind an offline gateway the clock restarts: silence counts from its return.
            if (!gatewayOnline(gw)) {
              heardAt = now;
              return undefined;
            }
            if (level === 0 && now - heardAt >= limit) {
              level = 1;
              return { level, ts: now, value: Math.round((now - heardAt) / 1000) };
            }
            return undefined;
          },
        };
      },
      levelLabel: (l) => (l > 0 ? name : { vi: 'Bình thường', en: 'Normal' }),
      severity: TECHNICAL_SEVERITY,
      message(t, l, value) {
        if (l > 0) return { vi: `${name.vi}: thiết bị im lặng${value ? ` ${value} giây` : ''} — ${t.place.vi}`, en: `${name.en}: device silent${value ? ` for ${value} s` : ''} — ${t.place.en}` };
        return { vi: `Có dữ liệu trở lại — ${t.place.vi}`, en: `Data again — ${t.place.en}` };
      },
    };
  },
};
