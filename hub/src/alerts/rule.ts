/**
 * The alert rule extension point. A rule kind (one file in ./kinds, one line in ./kinds/index.ts)
 * turns a configured rule spec (hub.yaml `alerts.rules[]` or /api/v1/rules) into targets — the
 * things it watches: a device, a site, a gateway — and a fresh evaluator per target. The engine
 * (./engine.ts) feeds each evaluator its readings in event-time order, the clock, and gateway
 * status; it keeps one alert episode per (rule, target) from the levels the evaluators return.
 *
 * Nothing here knows SQLite, a metric or a flood: levels are integers (0 = condition absent),
 * and the kind names and describes them.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Reading, Status } from '@ioc/shared';
import type { Registry } from '../config/registry.js';

export interface LocalizedText {
  vi: string;
  en: string;
}

export const CATEGORIES = ['flood', 'rain', 'fire', 'environment', 'technical'] as const;
export type AlertCategory = (typeof CATEGORIES)[number];
export const SEVERITIES = ['minor', 'moderate', 'severe', 'extreme'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Which devices (or gateways) a rule applies to; every given key must match (AND), values within a key OR. */
export interface Selector {
  devices?: string[];
  metrics?: string[];
  profiles?: string[];
  /** Commune or province codes. */
  areas?: string[];
  gateways?: string[];
}

/** What every rule spec has; each kind adds its own keys (validated by its schema). */
export interface RuleSpec {
  id: string;
  kind: string;
  name?: { vi?: string; en?: string };
  enabled?: boolean;
  /** A drill: its alerts are marked exercise (CAP status Exercise) and routed as such. */
  exercise?: boolean;
  select?: Selector;
  [key: string]: unknown;
}

export interface TargetArea {
  communeCode: string;
  provinceCode: string;
  lat: number;
  lon: number;
}

/** One thing a rule watches, with its own evaluator and episode. */
export interface RuleTarget {
  /** Unique within the rule, e.g. a device id, "site:{id}", "gw:{id}". */
  key: string;
  /** Readings of these (dev, metric) pairs feed the target ('*' = every metric of the device). */
  inputs: ReadonlyArray<{ dev: string; metric: string }>;
  /** Status and online changes of this gateway feed the target. */
  gateway?: string;
  /** The device an alert of this target belongs to (scope, map position); null for a gateway. */
  dev: string | null;
  /** The metric an alert is about (stored with it; null when several or none). */
  metric: string | null;
  gw: string | null;
  area: TargetArea;
  /** Where, for messages: "Trạm Kim Long (sông Hương)". */
  place: LocalizedText;
  /** How long without readings before an open alert of it is marked stale (ms). */
  staleAfterMs: number;
}

/** An evaluator's judgement: the level at event time `ts` (0 = condition absent). */
export interface Verdict {
  level: number;
  ts: number;
  /** The value that decided it (shown with the alert). */
  value: number | null;
}

export interface TickContext {
  /** The hub's clock. */
  now: number;
  /** Whether a gateway is connected now (a device behind an offline gateway is not "silent"). */
  gatewayOnline(gw: string): boolean;
}

export interface GatewayObservation {
  gw: string;
  online: boolean;
  status: Status | null;
  /** Hub time of the observation. */
  at: number;
}

/** A batch of readings by input. */
export interface ArrivingWith {
  /** The batch's readings of one (device, metric), in batch order; empty if none. */
  of(dev: string, metric: string): readonly Reading[];
}

/** Per-target state machine; never throws for bad data (returns undefined: no judgement). */
export interface Evaluator {
  /** History it needs before the next reading to judge it (ms of event time; 0 = none). */
  readonly historyMs: number;
  /** A reading of one of the target's inputs, in event-time order. */
  reading(r: Reading): Verdict | undefined;
  /** The clock moves on (silence, waiting periods). */
  tick?(ctx: TickContext): Verdict | undefined;
  gateway?(o: GatewayObservation): Verdict | undefined;
  /**
   * The episode's level restored from the database (at start, after a rollback): an evaluator
   * that holds a level (deadband, waiting period) continues from it.
   */
  restore?(level: number): void;
  /**
   * Whether `r`, as the next reading, might change the level — without judging it (no state
   * moves). Ingest asks it to commit such a batch ahead of routine ones, before any of the batch
   * is judged: `batch` has `r` and the readings arriving with it (some may be judged first). Where unsure (a level that builds up over several readings of one batch) it
   * says true; a false "true" only costs a commit of its own, a false "false" the routine wait.
   * A kind without it has its readings wait with the routine ones.
   */
  wouldChange?(r: Reading, batch: ArrivingWith): boolean;
}

/** A spec compiled against the registry. */
export interface CompiledRule {
  readonly spec: RuleSpec;
  readonly category: AlertCategory;
  readonly targets: readonly RuleTarget[];
  evaluator(target: RuleTarget): Evaluator;
  /** Highest level this rule can reach (for views and severity). */
  readonly maxLevel: number;
  levelLabel(level: number, target: RuleTarget): LocalizedText;
  severity(level: number): Severity;
  /** The alert's message at a level (0: cleared, with the episode's peak). */
  message(target: RuleTarget, level: number, value: number | null, peakLevel?: number): LocalizedText;
  /** Extra facts shown with an alert (e.g. a candidate disaster-risk level). */
  facts?(target: RuleTarget, level: number, maxLevel: number): Record<string, unknown> | undefined;
}

export class RuleSpecError extends Error {
  constructor(
    readonly ruleId: string,
    readonly path: string,
    /** The problem alone, without the rule and path. */
    readonly reason: string,
  ) {
    super(`rule "${ruleId}"${path ? ` ${path}` : ''}: ${reason}`);
    this.name = 'RuleSpecError';
  }
}

export interface RuleKind {
  readonly kind: string;
  /** One line for /api/v1/rules/kinds and the README. */
  readonly description: string;
  /** The kind's own keys (the common ones are added by ./spec.ts). */
  readonly schema: TSchema;
  /** Throws RuleSpecError for a spec that cannot work with this registry. */
  compile(spec: RuleSpec, registry: Registry): CompiledRule;
}
