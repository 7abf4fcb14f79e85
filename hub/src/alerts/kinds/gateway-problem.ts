/**
 * Problems a gateway reports about itself that lose or endanger data (../../health/gateway-problems.ts):
 * outbox writes failing (level 2: polls are being lost) and an outbox over its cap (level 1).
 */
import type { CompiledRule, RuleKind } from '../rule.js';
import { gatewayProblems } from '../../health/gateway-problems.js';
import { Type } from '@sinclair/typebox';
import { gatewayTargets, ruleName, TECHNICAL_SEVERITY } from './common.js';

const LABELS = [
  { vi: 'Hàng đợi gateway vượt giới hạn', en: 'Gateway outbox over its cap' },
  { vi: 'Gateway không ghi được dữ liệu', en: 'Gateway failing to store readings' },
];

export const gatewayProblemKind: RuleKind = {
  kind: 'gateway-problem',
  description: "A gateway's own report of lost or endangered data: outbox writes failing, outbox over its cap",
  schema: Type.Object({}),
  compile(spec, registry): CompiledRule {
    const name = ruleName(spec, { vi: 'Sự cố gateway', en: 'Gateway problem' });
    return {
      spec,
      category: 'technical',
      targets: gatewayTargets(registry, spec),
      maxLevel: 2,
      evaluator() {
        return {
          historyMs: 0,
          reading: () => undefined,
          gateway(o) {
            if (!o.status) return undefined;
            const problems = gatewayProblems(o.status).map((p) => p.problem);
            const level = problems.includes('outbox_write_failed') ? 2 : problems.includes('outbox_over_cap') ? 1 : 0;
            return { level, ts: o.status.ts ?? o.at, value: o.status.outbox?.writeFailures ?? null };
          },
        };
      },
      levelLabel: (l) => (l > 0 ? LABELS[l - 1]! : { vi: 'Bình thường', en: 'Normal' }),
      severity: TECHNICAL_SEVERITY,
      message(t, l) {
        if (l > 0) return { vi: `${name.vi}: ${LABELS[l - 1]!.vi} — ${t.place.vi}`, en: `${name.en}: ${LABELS[l - 1]!.en} — ${t.place.en}` };
        return { vi: `Hết sự cố gateway — ${t.place.vi}`, en: `Gateway problem over — ${t.place.en}` };
      },
    };
  },
};
