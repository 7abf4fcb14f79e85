/**
 * A gateway whose link is down (its last will fired, or it said goodbye) for longer than
 * `graceS`: a short reconnect is not worth waking anyone. Clears when it is back.
 */
import { Type } from '@sinclair/typebox';
import type { CompiledRule, RuleKind } from '../rule.js';
import { gatewayTargets, ruleName, TECHNICAL_SEVERITY } from './common.js';

const Schema = Type.Object({
  graceS: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
});

export const gatewayOfflineKind: RuleKind = {
  kind: 'gateway-offline',
  description: 'A gateway offline (last will) for longer than a grace period',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const graceMs = ((spec.graceS as number | undefined) ?? 120) * 1000;
    const name = ruleName(spec, { vi: 'Gateway mất kết nối', en: 'Gateway offline' });
    return {
      spec,
      category: 'technical',
      targets: gatewayTargets(registry, spec),
      maxLevel: 1,
      evaluator() {
        // Hub time it went offline; null while online or never seen.
        let offlineSince: number | null = null;
        let level = 0;
        return {
          historyMs: 0,
          restore: (l: number) => {
            level = l;
          },
          reading: () => undefined,
          gateway(o) {
            if (!o.online) {
              offlineSince ??= o.at;
              return undefined;
            }
            offlineSince = null;
            if (level === 0) return undefined;
            level = 0;
            return { level, ts: o.at, value: null };
          },
          tick({ now }) {
            if (level === 0 && offlineSince !== null && now - offlineSince >= graceMs) {
              level = 1;
              return { level, ts: offlineSince, value: Math.round((now - offlineSince) / 1000) };
            }
            return undefined;
          },
        };
      },
      levelLabel: (l) => (l > 0 ? name : { vi: 'Bình thường', en: 'Normal' }),
      severity: TECHNICAL_SEVERITY,
      message(t, l) {
        if (l > 0) return { vi: `${name.vi} — ${t.place.vi}`, en: `${name.en} — ${t.place.en}` };
        return { vi: `Gateway kết nối lại — ${t.place.vi}`, en: `Gateway back online — ${t.place.en}` };
      },
    };
  },
};
