/**
 * The rules a hub runs when hub.yaml has no `alerts.rules`: sane for a province's first day, each
 * one visible (and changeable) through /api/v1/rules.
 */
import type { RuleSpec } from './rule.js';

export const DEFAULT_RULES: readonly RuleSpec[] = [
  { id: 'flood', kind: 'flood-levels', name: { vi: 'Lũ', en: 'Flood' } },
  { id: 'water-rising', kind: 'rate', metric: 'water_level', perHour: [0.5, 1.0], windowMinutes: 30, unit: 'm', name: { vi: 'Nước lên nhanh', en: 'Water rising fast' } },
  { id: 'heavy-rain', kind: 'accumulation', name: { vi: 'Mưa lớn', en: 'Heavy rain' } },
  {
    id: 'fire',
    kind: 'composite',
    name: { vi: 'Cháy', en: 'Fire' },
    when: { all: [{ metric: 'smoke', is: true }, { any: [{ metric: 'temperature', gte: 57 }, { metric: 'temperature', risePerMin: 8 }] }] },
  },
  { id: 'no-data', kind: 'no-data', k: 5, intervalS: 60 },
  { id: 'gateway-offline', kind: 'gateway-offline', graceS: 120 },
  { id: 'suspect-sensor', kind: 'suspect-sensor', badRun: 5, goodRun: 3 },
  { id: 'gateway-problem', kind: 'gateway-problem' },
];
