/**
 * The hub's storage extension point: one small interface, SQLite today (./sqlite.ts). Synchronous
 * on purpose: a batch is accounted, stored and committed before the ingest path publishes its ack,
 * with no interleaving between batches of one gateway. A remote time-series database would be a
 * second sink fed from the live feed, not a replacement for this accounting.
 */
import type { DeviceEvent, Reading, SeqRange, Status } from '@ioc/shared';
import type { Range } from './ranges.js';

/**
 * Which devices a query may return: every query that reads device data takes one, so a caller's
 * area scope (../auth/scope.ts) is applied in the query itself, not only by the route.
 */
export type DeviceScope =
  | { readonly all: true }
  | { readonly all: false; readonly ids: ReadonlySet<string>; /** Gateways in the scope (their own alerts). */ readonly gateways?: ReadonlySet<string> };

/** The scope of the hub's own work (alert engine, ingest, CLI). */
export const SYSTEM_SCOPE: DeviceScope = { all: true };

export function scopeHas(scope: DeviceScope, dev: string): boolean {
  return scope.all || scope.ids.has(dev);
}

/** A reading as the hub stores it: with the gateway and seq it arrived under. */
export interface StoredReading extends Reading {
  gw: string;
  seq: number;
}

/** Why the hub refuses a reading: it is then kept in quarantine (still accounted), never lost. */
export type QuarantineCause =
  | 'unknown_device'
  | 'device_not_on_gateway'
  | 'unknown_metric'
  | 'unit_mismatch'
  | 'value_kind_mismatch';

/**
 * The hub's own verdict on a reading it stores with q "bad" and this reason, whatever quality the
 * gateway claimed (the value is kept):
 * - out_of_range: the value is outside the metric's plausible range (shared catalog), as the edge
 *   normalizer flags it;
 * - clock_skew: its ts is outside the hub's window around its own clock (hub.yaml `ingest`); such
 *   a reading never becomes the device's latest value and never feeds an alert rule.
 */
export type HubFlag = 'out_of_range' | 'clock_skew';

export function isHubFlag(v: QuarantineCause | HubFlag | null): v is HubFlag {
  return v === 'out_of_range' || v === 'clock_skew';
}

/**
 * Decides how a reading is admitted: a quarantine cause (kept aside, accounted), a hub flag (stored
 * with q "bad" and that reason), or null to store it as sent.
 */
export type Admit = (gw: string, reading: Reading) => QuarantineCause | HubFlag | null;

export interface WriteResult {
  /** Readings newly stored in the readings table. */
  stored: number;
  /** Readings whose seq was already accounted (stored, quarantined or reported dropped). */
  duplicates: number;
  /** Readings newly accounted but kept in quarantine, by cause. */
  quarantined: number;
  quarantinedBy: Partial<Record<QuarantineCause, number>>;
  /**
   * Readings newly stored with q "bad", reason "out_of_range" by the hub (the gateway sent them as
   * good or uncertain), by metric. Included in `stored` and `fresh`.
   */
  outOfRangeBy: Partial<Record<string, number>>;
  /**
   * Readings newly stored with q "bad", reason "clock_skew" (ts outside the hub's window). Included
   * in `stored` and `fresh`, never in the latest values.
   */
  clockSkew: number;
  /** The gateway's contiguous high-water mark after the write. */
  upTo: number;
  /** The newly stored readings as stored (q and reason included), in seq order (for alert rules and live listeners). */
  fresh: StoredReading[];
}

export interface DropResult {
  /** Seqs newly accounted as dropped (already accounted ones are not counted again). */
  dropped: number;
  upTo: number;
}

export interface GatewayStats {
  gw: string;
  upTo: number;
  stored: number;
  duplicates: number;
  dropped: number;
  quarantined: number;
  /** Accounted ranges (stored ∪ quarantined ∪ dropped), merged. */
  ranges: Range[];
}

export interface GatewayState {
  gw: string;
  online: boolean;
  /** Epoch ms of the last message from the gateway (any kind), or null. */
  lastSeen: number | null;
  /** The last status; a partial one (the LWT) is merged onto the previous full report. */
  status: Status | null;
  statusAt: number | null;
}

export interface ReadingsQuery {
  dev: string;
  metric: string;
  /** Inclusive bounds, epoch ms. */
  from: number;
  to: number;
  /** Bucket width in ms: returns aggregates instead of raw rows. */
  step?: number;
  limit: number;
  /** Raw rows only: oldest first (default) or newest first. */
  order?: 'asc' | 'desc';
}

export interface ReadingRow {
  gw: string;
  seq: number;
  dev: string;
  metric: string;
  ts: number;
  value: number | boolean | null;
  q: Reading['q'];
  reason?: string;
}

/** One time bucket: aggregates over readings with q good/uncertain and a value. */
export interface Bucket {
  /** Bucket start, epoch ms (aligned to multiples of step since the epoch). */
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export type ReadingsResult = { kind: 'raw'; rows: ReadingRow[] } | { kind: 'buckets'; buckets: Bucket[] };

export interface LatestValue {
  metric: string;
  gw: string;
  seq: number;
  ts: number;
  value: number | boolean | null;
  q: Reading['q'];
  reason?: string;
}

export interface QuarantineRow {
  gw: string;
  seq: number;
  cause: QuarantineCause;
  reading: Reading;
  receivedAt: number;
}

export interface DeviceEventRow {
  id: number;
  gw: string;
  dev: string;
  ts: number;
  event: string;
  detail?: string;
  receivedAt: number;
}

// ---------------------------------------------------------------------------------------------
// Alerts

export type AlertState = 'open' | 'acknowledged' | 'cleared' | 'closed';
export type AlertEventKind =
  | 'raised'
  | 'escalated'
  | 'deescalated'
  | 'cleared'
  | 'reopened'
  | 'acknowledged'
  | 'assigned'
  | 'shelved'
  | 'unshelved'
  | 'closed'
  | 'stale'
  | 'fresh'
  | 'announced'
  | 'missed'
  | 'risk-confirmed';

export interface AlertRecord {
  id: number;
  /** The configured rule's id, and its kind. */
  rule: string;
  kind: string;
  category: string;
  /** The rule's target key (a device id, "site:…", "gw:…"). */
  target: string;
  /** The device the alert belongs to (its scope); null for a gateway's alert. */
  dev: string | null;
  metric: string | null;
  gw: string | null;
  communeCode: string;
  provinceCode: string;
  /** Current level (0 after the condition cleared). */
  level: number;
  maxLevel: number;
  state: AlertState;
  /** The condition is present now. */
  active: boolean;
  /** No readings for a while: the level shown is the last known, not the present. */
  stale: boolean;
  /** Raised from a gateway's backlog and not announced yet (see engine: event time). */
  late: boolean;
  /** Began and ended while the gateway was offline: a report, never rung. */
  missed: boolean;
  /** Times the condition came back soon after clearing (the same alert was reopened). */
  flaps: number;
  exercise: boolean;
  /** Measurement time at which the condition began. */
  openedAt: number;
  updatedAt: number;
  clearedAt: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  closedBy: string | null;
  closedAt: number | null;
  assignee: string | null;
  shelvedUntil: number | null;
  shelvedBy: string | null;
  note: string | null;
  /** Value of the last reading that changed the episode. */
  lastValue: number | null;
  /** Disaster-risk level an operator confirmed (flood alerts); the candidate is in the view. */
  riskLevel: number | null;
  riskConfirmedBy: string | null;
  riskConfirmedAt: number | null;
}

export interface AlertEventRecord {
  alertId: number;
  ts: number;
  kind: AlertEventKind;
  level: number;
  value: number | null;
  by: string | null;
  note: string | null;
}

export interface AlertFilter {
  scope: DeviceScope;
  state?: AlertState;
  /** Any state but closed. */
  unclosed?: boolean;
  active?: boolean;
  dev?: string;
  rule?: string;
  category?: string;
  limit?: number;
}

export interface AlertCursor {
  rule: string;
  dev: string;
  metric: string;
  /** Measurement time of the newest reading the rule has evaluated. */
  lastTs: number;
}

export interface AlertShelf {
  rule: string;
  target: string;
  until: number;
  by: string;
  note: string | null;
}

export interface StoredRuleVersion {
  id: string;
  version: number;
  spec: Record<string, unknown>;
  source: 'default' | 'config' | 'api';
  deleted: boolean;
  createdAt: number;
  createdBy: string;
  note: string | null;
}

/** Durable alert state; the engine and the lifecycle actions (../alerts) are its only writers. */
export interface AlertStore {
  /**
   * Runs `fn` in one transaction. Called inside an open transaction (e.g. a telemetry group
   * commit) it is a savepoint: it commits with the outer transaction, and if `fn` throws only its
   * own writes are undone before the error is rethrown.
   */
  transaction<T>(fn: () => T): T;
  insert(a: Omit<AlertRecord, 'id'>): number;
  update(id: number, patch: Partial<Omit<AlertRecord, 'id' | 'rule' | 'kind' | 'target'>>): void;
  addEvent(e: AlertEventRecord): void;
  /** undefined also when the alert's device (or gateway) is outside the scope. */
  get(id: number, scope: DeviceScope): AlertRecord | undefined;
  /** Newest first. */
  list(filter: AlertFilter): AlertRecord[];
  /** Events of these alerts, oldest first. */
  events(alertIds: readonly number[]): Map<number, AlertEventRecord[]>;
  /** Alerts whose condition is present, or late ones (to restore the engine). */
  active(): AlertRecord[];
  /** The newest alert of a (rule, target), whatever its state. */
  latestOf(rule: string, target: string): AlertRecord | undefined;
  cursors(): AlertCursor[];
  setCursor(c: AlertCursor): void;
  shelves(): AlertShelf[];
  setShelf(s: AlertShelf | { rule: string; target: string; until: null }): void;
  ruleVersions(id?: string): StoredRuleVersion[];
  addRuleVersion(v: Omit<StoredRuleVersion, 'version'>): StoredRuleVersion;
  /** Alerts not yet closed, counted by their current level. */
  unresolvedByLevel(): Array<{ level: number; count: number }>;
}

// ---------------------------------------------------------------------------------------------

export interface BatchInput {
  gw: string;
  firstSeq: number;
  readings: readonly Reading[];
}

export interface Store {
  /**
   * Stores one batch (readings[i] has seq firstSeq + i) in ONE transaction: seqs already
   * accounted are skipped as duplicates, the rest are stored (or quarantined), and the range is
   * merged into the gateway's accounted set. Returns after the commit.
   */
  writeBatch(gw: string, firstSeq: number, readings: readonly Reading[]): WriteResult;
  /**
   * Group commit: writes several batches (possibly of the same gateway, in order) in ONE
   * transaction, each exactly as writeBatch would; one result per batch, returned after the
   * commit. If it throws, nothing of any batch was written.
   *
   * `within`, when given, runs inside that transaction after the batches are written, with their
   * results: what it writes (e.g. the alert engine's state changes, gateways' last-seen times)
   * commits together with the readings, so one group is one commit. If it throws, the whole
   * transaction is rolled back and the error is rethrown. In-memory state it changes must follow
   * the commit (the store's own caches do: they are updated only after it).
   */
  writeBatches(batches: readonly BatchInput[], within?: (results: readonly WriteResult[]) => void): WriteResult[];
  /** Accounts seq ranges the gateway deleted unsent. */
  markDropped(gw: string, ranges: readonly SeqRange[], reason: string, now?: number): DropResult;
  /** Highest seq such that every seq 1..upTo is accounted. */
  upTo(gw: string): number;
  gatewayStats(gw: string): GatewayStats;
  /** Nothing (an empty result) for a device outside the scope. */
  queryReadings(q: ReadingsQuery, scope: DeviceScope): ReadingsResult;
  /** Seqs of readings stored for a gateway, ascending (after `afterSeq`, at most `limit`). */
  storedSeqs(gw: string, afterSeq: number, limit: number): number[];
  /** Last reading per metric of a device. */
  latest(dev: string, scope: DeviceScope): LatestValue[];
  /** Quarantined readings of devices in the scope (a device not in the registry: only with the full scope). */
  quarantined(gw: string | undefined, limit: number, scope: DeviceScope): QuarantineRow[];

  setGatewayStatus(gw: string, status: Status, now: number): GatewayState;
  touchGateway(gw: string, now: number): void;
  gatewayState(gw: string): GatewayState | undefined;
  /** At start with an embedded broker no gateway is connected yet. */
  markAllOffline(): void;

  addDeviceEvent(gw: string, ev: DeviceEvent, now: number): number;
  deviceEvents(dev: string | undefined, limit: number, scope: DeviceScope): DeviceEventRow[];

  readonly alerts: AlertStore;
  /** A trivial query: false when the database does not answer. */
  ping(): boolean;
  close(): void;
}
