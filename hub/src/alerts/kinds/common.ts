/** What several rule kinds share: choosing devices, describing places, levels with a deadband. */
import { Type } from '@sinclair/typebox';
import type { Reading } from '@ioc/shared';
import type { Registry } from '../../config/registry.js';
import type { DeviceEntry } from '../../config/schema.js';
import { CATEGORIES, RuleSpecError, type Evaluator, type LocalizedText, type RuleSpec, type RuleTarget, type Selector, type Severity, type TargetArea } from '../rule.js';

/** A rule's own `category` key (kinds whose alerts may be of any category). */
export const CategoryKey = Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c))));

export const Localized = Type.Object({ vi: Type.String({ minLength: 1, maxLength: 200 }), en: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

/** Devices the selector names (AND across keys, OR within one), then those `eligible` keeps. */
export function selectDevices(registry: Registry, spec: RuleSpec, eligible: (d: DeviceEntry) => boolean = () => true): DeviceEntry[] {
  const s: Selector = spec.select ?? {};
  const out: DeviceEntry[] = [];
  for (const d of registry.devices.values()) {
    if (s.devices && !s.devices.includes(d.id)) continue;
    if (s.profiles && !s.profiles.includes(d.profile)) continue;
    if (s.gateways && !s.gateways.includes(d.gateway)) continue;
    if (s.areas && !s.areas.includes(d.communeCode) && !s.areas.includes(d.provinceCode)) continue;
    if (eligible(d)) out.push(d);
  }
  for (const id of s.devices ?? []) {
    if (!registry.devices.has(id)) throw new RuleSpecError(spec.id, 'select.devices', `unknown device "${id}" (not in registry.devices)`);
  }
  return out;
}

export function areaOf(d: DeviceEntry): TargetArea {
  return { communeCode: d.communeCode, provinceCode: d.provinceCode, lat: d.lat, lon: d.lon };
}

export function placeOf(d: DeviceEntry): LocalizedText {
  if (!d.station) return { vi: d.name, en: d.name };
  return {
    vi: `Trạm ${d.station}${d.river ? ` (sông ${d.river})` : ''}`,
    en: `${d.station} station${d.river ? ` (${d.river} river)` : ''}`,
  };
}

/** When an open alert is marked stale: the device's `staleAfterS`, else a few missed reports (at least 10 min). */
export function staleAfterMs(d: DeviceEntry | undefined): number {
  if (d?.staleAfterS !== undefined) return d.staleAfterS * 1000;
  return Math.max(3 * (d?.intervalS ?? 0) * 1000, 10 * 60_000);
}

export function deviceTarget(d: DeviceEntry, metrics: readonly string[], key = d.id): RuleTarget {
  return {
    key,
    inputs: metrics.map((metric) => ({ dev: d.id, metric })),
    dev: d.id,
    metric: metrics.length === 1 && metrics[0] !== '*' ? metrics[0]! : null,
    gw: d.gateway,
    area: areaOf(d),
    place: placeOf(d),
    staleAfterMs: staleAfterMs(d),
  };
}

export function numeric(r: Reading): number | null {
  if (r.q === 'bad') return null;
  return typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : null;
}

/**
 * Level for a value with ascending thresholds (level n at ≥ thresholds[n-1]). Falling, a level
 * holds until the value is `deadband` below its threshold, so a value hovering at a threshold
 * does not flip the level every poll.
 */
export function levelWithDeadband(thresholds: readonly number[], current: number, value: number, deadband: number): number {
  let raw = 0;
  for (let i = 0; i < thresholds.length; i++) if (value >= thresholds[i]!) raw = i + 1;
  if (raw >= current) return raw;
  for (let k = Math.min(current, thresholds.length); k > raw; k--) if (value > thresholds[k - 1]! - deadband) return k;
  return raw;
}

/**
 * A level must hold for `forMs` of event time before it is reported (0: at once). Rising to a
 * level starts its clock; falling is reported at once (the deadband already steadies it).
 */
export class ForDuration {
  private reported = 0;
  private pending: { level: number; since: number } | null = null;
  constructor(private readonly forMs: number) {}

  get level(): number {
    return this.reported;
  }

  set(level: number): void {
    this.reported = level;
    this.pending = null;
  }

  /**
   * Whether `raw` might move the reported level. A rise under a waiting period counts as soon as
   * it starts: the readings that complete it may come in the same batch.
   */
  mayMove(raw: number): boolean {
    return raw !== this.reported;
  }

  /** The level to report at `ts` given the raw level now. */
  next(raw: number, ts: number): number {
    if (raw <= this.reported || this.forMs <= 0) {
      this.pending = null;
      this.reported = raw;
      return raw;
    }
    // The level held throughout the waiting period is the lowest seen in it.
    if (!this.pending) this.pending = { level: raw, since: ts };
    else if (raw < this.pending.level) this.pending.level = raw;
    if (ts - this.pending.since >= this.forMs) {
      this.reported = this.pending.level;
      this.pending = null;
    }
    return this.reported;
  }
}

/**
 * Thresholds on one metric with a deadband and a waiting period: the evaluator of the level kinds.
 * `sign` -1 judges "below" as "above" on the negated value.
 */
export function thresholdEvaluator(metric: string, thresholds: readonly number[], deadband: number, forMs: number, sign: 1 | -1 = 1): Evaluator {
  const held = new ForDuration(forMs);
  return {
    historyMs: forMs,
    restore: (level) => held.set(level),
    reading(r) {
      const v = numeric(r);
      if (v === null || r.metric !== metric) return undefined;
      return { level: held.next(levelWithDeadband(thresholds, held.level, sign * v, deadband), r.ts), ts: r.ts, value: v };
    },
    wouldChange(r) {
      const v = numeric(r);
      if (v === null || r.metric !== metric) return false;
      return held.mayMove(levelWithDeadband(thresholds, held.level, sign * v, deadband));
    },
  };
}

export function severityByLevel(map: readonly Severity[]): (level: number) => Severity {
  return (level) => map[Math.min(Math.max(level, 1), map.length) - 1]!;
}

export const TECHNICAL_SEVERITY = (): Severity => 'minor';

/** A rule's own name, else the kind's default. */
export function ruleName(spec: RuleSpec, fallback: LocalizedText): LocalizedText {
  return { vi: spec.name?.vi ?? fallback.vi, en: spec.name?.en ?? fallback.en };
}

export function fmt(value: number | null, unit: string, digits = 2): string {
  return value === null ? '' : `: ${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

/** One target per registered gateway the selector keeps (gateways / areas keys). */
export function gatewayTargets(registry: Registry, spec: RuleSpec): RuleTarget[] {
  const s = spec.select ?? {};
  const out: RuleTarget[] = [];
  for (const g of registry.gateways.values()) {
    if (s.gateways && !s.gateways.includes(g.id)) continue;
    const first = registry.devicesOf(g.id)[0];
    const commune = g.communeCode ?? first?.communeCode;
    // A gateway enrolled before its devices are listed: placed by its commune's other devices.
    const near = first ?? [...registry.devices.values()].find((d) => d.communeCode === commune);
    const province = near?.provinceCode ?? registry.communes.get(commune ?? '')?.provinceCode ?? '';
    if (s.areas && !(commune && s.areas.includes(commune)) && !s.areas.includes(province)) continue;
    const name = g.name ?? g.id;
    out.push({
      key: `gw:${g.id}`,
      inputs: [],
      gateway: g.id,
      dev: null,
      metric: null,
      gw: g.id,
      area: { communeCode: commune ?? '', provinceCode: province, lat: near?.lat ?? 0, lon: near?.lon ?? 0 },
      place: { vi: `Gateway ${name}`, en: `Gateway ${name}` },
      staleAfterMs: Number.POSITIVE_INFINITY,
    });
  }
  return out;
}
