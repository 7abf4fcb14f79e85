/**
 * Suspect sensor: a run of readings with q "bad" (out of range, communication errors…) from one
 * device is a technical alert for technicians, not a flood. Readings the hub marked clock_skew say
 * nothing about the sensor and are ignored. Cleared after a run of good readings.
 */
import { Type } from '@sinclair/typebox';
import type { CompiledRule, RuleKind } from '../rule.js';
import { deviceTarget, ruleName, selectDevices, TECHNICAL_SEVERITY } from './common.js';

const Schema = Type.Object({
  /** Bad readings in a row that raise it (default 5). */
  badRun: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** Good readings in a row that clear it (default 3). */
  goodRun: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  metrics: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1 })),
});

export const suspectSensorKind: RuleKind = {
  kind: 'suspect-sensor',
  description: 'A run of q "bad" readings from a device: a technical alert for technicians',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const badRun = (spec.badRun as number | undefined) ?? 5;
    const goodRun = (spec.goodRun as number | undefined) ?? 3;
    const metrics = (spec.metrics as string[] | undefined) ?? ['*'];
    const name = ruleName(spec, { vi: 'Cảm biến nghi hỏng', en: 'Suspect sensor' });
    return {
      spec,
      category: 'technical',
      targets: selectDevices(registry, spec).map((d) => deviceTarget(d, metrics)),
      maxLevel: 1,
      evaluator() {
        let bad = 0;
        let good = 0;
        let level = 0;
        return {
          historyMs: 0,
          restore: (l: number) => {
            level = l;
          },
          reading(r) {
            if (r.q === 'bad' && r.reason === 'clock_skew') return undefined;
            if (r.q === 'bad') {
              bad++;
              good = 0;
              if (bad >= badRun) level = 1;
            } else {
              good++;
              // Not raised yet: a good reading breaks the run.
              if (level === 0) bad = 0;
              if (good >= goodRun) {
                bad = 0;
                level = 0;
              }
            }
            return { level, ts: r.ts, value: bad };
          },
          // A bad reading while not raised, or a good one while raised, may be part of a run that
          // completes in the same batch: unsure, so yes. The others keep the level for certain.
          wouldChange(r) {
            if (r.q === 'bad' && r.reason === 'clock_skew') return false;
            return level === 0 ? r.q === 'bad' : r.q !== 'bad';
          },
        };
      },
      levelLabel: (l) => (l > 0 ? name : { vi: 'Bình thường', en: 'Normal' }),
      severity: TECHNICAL_SEVERITY,
      message(t, l, value) {
        if (l > 0) return { vi: `${name.vi}: ${value ?? badRun} số đo lỗi liên tiếp — ${t.place.vi}`, en: `${name.en}: ${value ?? badRun} bad readings in a row — ${t.place.en}` };
        return { vi: `Cảm biến đo lại bình thường — ${t.place.vi}`, en: `Sensor readings good again — ${t.place.en}` };
      },
    };
  },
};
