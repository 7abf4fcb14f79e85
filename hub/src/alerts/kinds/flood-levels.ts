/**
 * Flood levels at river stations: every device with `alarmLevels` (Báo động I/II/III, QĐ
 * 05/2020/QĐ-TTg) in the registry. Levels 1–3 are BĐ1–BĐ3; above BĐ3 the tiers BĐ3 + 0.3 m and
 * BĐ3 + 1.0 m (configurable), and the station's historical flood peak when the registry has it.
 * Each alert carries the candidate disaster-risk level of QĐ 18/2021/QĐ-TTg (./flood-risk.ts).
 */
import { Type } from '@sinclair/typebox';
import type { DeviceEntry } from '../../config/schema.js';
import { RuleSpecError, type CompiledRule, type RuleKind, type RuleTarget } from '../rule.js';
import { deviceTarget, fmt, selectDevices, severityByLevel, thresholdEvaluator } from './common.js';
import { candidateRiskLevel } from './flood-risk.js';

export const FLOOD_LEVELS = 'flood-levels';

const Schema = Type.Object({
  /** Metric of the stations' water level. */
  metric: Type.Optional(Type.String({ default: 'water_level' })),
  /** Metres below a threshold before its level is left (a radar at 3.49/3.51 m must not flip BĐ2/BĐ3 each poll). */
  deadbandM: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
  /** A rise must hold this long (event time) before it is raised; 0 = at once. */
  forS: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
  /** Tiers above BĐ3 in metres (default 0.3 and 1.0). */
  tiersAboveBd3M: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 20 }), { maxItems: 5 })),
});

export const DEFAULT_DEADBAND_M = 0.05;
const DEFAULT_TIERS = [0.3, 1.0];

interface Station {
  device: DeviceEntry;
  thresholds: number[];
  /** Level of the historical peak tier (0: none). */
  peakLevel: number;
}

function thresholdsOf(d: DeviceEntry, tiers: readonly number[]): Station {
  const a = d.alarmLevels!;
  const t = [a.bd1, a.bd2, a.bd3, ...tiers.map((x) => a.bd3 + x)];
  let peakLevel = 0;
  // The record is a tier of its own only above the others (a low record is a data error, not a level).
  if (d.historicPeakM !== undefined && d.historicPeakM > t[t.length - 1]!) {
    t.push(d.historicPeakM);
    peakLevel = t.length;
  }
  return { device: d, thresholds: t, peakLevel };
}

const TIER_NAMES = (s: Station, level: number) => {
  const a = s.device.alarmLevels!;
  if (level <= 3) return { vi: `Báo động ${['I', 'II', 'III'][level - 1]}`, en: `Alarm level ${['I', 'II', 'III'][level - 1]}` };
  if (level === s.peakLevel) return { vi: 'Vượt lũ lịch sử', en: 'Above the historical flood' };
  if (level > s.thresholds.length) return { vi: `Cấp ${level}`, en: `Level ${level}` };
  const above = (s.thresholds[level - 1]! - a.bd3).toFixed(1);
  return { vi: `Trên Báo động III ${above} m`, en: `${above} m above alarm level III` };
};

export const floodLevelsKind: RuleKind = {
  kind: FLOOD_LEVELS,
  description: 'Flood alarm levels BĐ I/II/III at river stations (registry alarmLevels), tiers above BĐ3 and the historical peak, with a deadband',
  schema: Schema,
  compile(spec, registry): CompiledRule {
    const metric = (spec.metric as string | undefined) ?? 'water_level';
    const deadband = (spec.deadbandM as number | undefined) ?? DEFAULT_DEADBAND_M;
    const forMs = ((spec.forS as number | undefined) ?? 0) * 1000;
    const tiers = [...((spec.tiersAboveBd3M as number[] | undefined) ?? DEFAULT_TIERS)].sort((a, b) => a - b);
    const stations = new Map<string, Station>();
    for (const d of selectDevices(registry, spec, (x) => x.alarmLevels !== undefined)) stations.set(d.id, thresholdsOf(d, tiers));
    if (spec.select?.devices?.some((id) => !stations.has(id))) {
      throw new RuleSpecError(spec.id, 'select.devices', 'a selected device has no alarmLevels in the registry');
    }
    const targets: RuleTarget[] = [...stations.values()].map((s) => deviceTarget(s.device, [metric]));
    const station = (t: RuleTarget) => stations.get(t.dev!)!;
    return {
      spec,
      category: 'flood',
      targets,
      maxLevel: Math.max(3, ...[...stations.values()].map((s) => s.thresholds.length)),
      evaluator: (target) => thresholdEvaluator(metric, station(target).thresholds, deadband, forMs),
      levelLabel: (level, t) => (level > 0 ? TIER_NAMES(station(t), level) : { vi: 'Bình thường', en: 'Normal' }),
      // CAP mapping: BĐ1 moderate, BĐ2 severe, BĐ3 and above extreme.
      severity: severityByLevel(['moderate', 'severe', 'extreme']),
      message(t, level, value, peak) {
        const v = fmt(value, 'm');
        if (level > 0) {
          const l = TIER_NAMES(station(t), level);
          return { vi: `${l.vi} — ${t.place.vi}${v}`, en: `${l.en} — ${t.place.en}${v}` };
        }
        const p = peak ? TIER_NAMES(station(t), peak) : null;
        return {
          vi: `Hết báo động${p ? ` (cao nhất: ${p.vi})` : ''} — ${t.place.vi}${v}`,
          en: `Alarm cleared${p ? ` (peak: ${p.en})` : ''} — ${t.place.en}${v}`,
        };
      },
      facts(t, level, maxLevel) {
        const s = station(t);
        const reached = Math.max(level, maxLevel);
        const candidate = s.device.zone
          ? candidateRiskLevel(s.device.zone, {
              bd: Math.min(reached, 3),
              // Rounded: 3.8 - 3.5 is 0.2999… in binary, not the 0.3 m tier it is.
              aboveBd3M: reached > 3 ? Math.round((s.thresholds[reached - 1]! - s.device.alarmLevels!.bd3) * 1000) / 1000 : 0,
              historic: s.peakLevel > 0 && reached >= s.peakLevel,
            })
          : 0;
        return {
          thresholds: s.thresholds,
          ...(s.device.zone ? { zone: s.device.zone } : {}),
          ...(candidate ? { candidateRisk: candidate } : {}),
        };
      },
    };
  },
};
