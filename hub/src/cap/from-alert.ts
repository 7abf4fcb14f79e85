/**
 * The ONE place that knows the hub's alert model: AlertView → CapAlertInput. Fields the alert
 * model is gaining (category, severity, levelLabel, area, exercise, missed, 'closed' events) are
 * read defensively, so this works before and after that change; adapt only this file when the
 * model changes.
 *
 * Only what an event itself carries goes into its message (never the alert's *current* level,
 * label or severity): message n reads the same whenever it is asked for.
 */
import { metricDef } from '@ioc/shared';
import type { AlertHistoryEntry, AlertView } from '../alerts/types.js';
import type { CapAlertInput, CapHazard, CapSeverityLevel, CapStep, CapText } from './types.js';

type Loose = Record<string, unknown>;

const HAZARDS = new Set<CapHazard>(['flood', 'rain', 'fire', 'technical']);
const SEVERITIES = new Set<CapSeverityLevel>(['minor', 'moderate', 'severe', 'extreme']);

/** History kinds that give a message; 'resolved' is today's close. */
const STEP_KINDS: Record<string, CapStep['kind']> = {
  raised: 'raised',
  escalated: 'escalated',
  deescalated: 'deescalated',
  cleared: 'cleared',
  closed: 'closed',
  resolved: 'closed',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function text(v: unknown): CapText | undefined {
  const t = v as Partial<CapText> | null | undefined;
  return t && typeof t === 'object' && str(t.vi) && str(t.en) ? { vi: t.vi!, en: t.en! } : undefined;
}

/** The alert's category when the model gives one, else guessed from its rule kind and metric. */
function hazardOf(a: AlertView): CapHazard {
  const category = (a as unknown as Loose).category;
  if (typeof category === 'string' && HAZARDS.has(category as CapHazard)) return category as CapHazard;
  const kind = str((a as unknown as Loose).kind) ?? a.rule;
  if (/no-data|offline|suspect|gateway|stale/.test(kind)) return 'technical';
  if (/flood|water/.test(kind) || a.metric === 'water_level') return 'flood';
  if (/rain/.test(kind) || a.metric === 'rainfall') return 'rain';
  if (/fire|smoke/.test(kind) || a.metric === 'smoke' || a.metric === 'temperature') return 'fire';
  return 'technical';
}

function stepOf(e: AlertHistoryEntry): CapStep | null {
  const kind = STEP_KINDS[e.kind];
  if (!kind) return null;
  const x = e as unknown as Loose;
  const severity = x.severity;
  const label = text(x.levelLabel);
  const risk = num(x.candidateRiskLevel) ?? num(x.riskLevel);
  return {
    ts: e.ts,
    kind,
    level: e.level,
    value: e.value,
    ...(typeof severity === 'string' && SEVERITIES.has(severity as CapSeverityLevel) ? { severity: severity as CapSeverityLevel } : {}),
    ...(label ? { levelLabel: label } : {}),
    ...(risk !== undefined ? { candidateRiskLevel: risk } : {}),
  };
}

export function capInputFromAlert(a: AlertView): CapAlertInput {
  const x = a as unknown as Loose;
  const dev = a.device;
  const area = (x.area ?? null) as Loose | null;
  const metric = a.metric ?? '';
  const def = metric ? metricDef(metric) : undefined;
  const communeCode = str(area?.communeCode) ?? dev?.communeCode;
  const provinceCode = str(area?.provinceCode) ?? dev?.provinceCode;
  const communeName = str(area?.communeName);
  const lat = num(area?.lat) ?? dev?.lat;
  const lon = num(area?.lon) ?? dev?.lon;
  return {
    id: a.id,
    hazard: hazardOf(a),
    rule: str(x.kind) ?? a.rule,
    exercise: x.exercise === true,
    missed: x.missed === true,
    measure: { metric, name: def ? { vi: def.vi, en: def.en } : { vi: metric, en: metric }, unit: def?.unit ?? '' },
    place: { deviceName: dev?.name ?? a.dev ?? a.target, ...(dev?.station ? { station: dev.station } : {}), ...(dev?.river ? { river: dev.river } : {}) },
    area: {
      fallback: dev?.name ?? a.dev ?? a.target,
      ...(communeCode ? { communeCode } : {}),
      ...(provinceCode ? { provinceCode } : {}),
      ...(communeName ? { communeName } : {}),
      ...(lat !== undefined && lon !== undefined ? { lat, lon } : {}),
    },
    steps: a.history.map(stepOf).filter((s): s is CapStep => s !== null),
  };
}
