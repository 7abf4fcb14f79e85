/**
 * SQLite store (better-sqlite3): one file {dataDir}/hub.db, WAL, synchronous FULL. The ack a
 * gateway receives lets it delete its copy, so a commit must survive a power cut, not only a
 * crash of the process: with NORMAL a power loss could roll back readings already acknowledged
 * (measured cost of FULL on the ingest path: about 3 %, test/bench/throughput.bench.ts).
 *
 * Accounting: gw_ranges holds, per gateway, the merged seq ranges that are accounted for (stored,
 * quarantined or reported dropped). It is cached in memory and re-read when another connection
 * (e.g. `ioc-hub import` while the hub runs) has committed, detected by PRAGMA data_version.
 */
import type Database from 'better-sqlite3';
import { openHubDatabase, type HubDatabase } from '../db/database.js';
import { metricDef, type DeviceEvent, type Reading, type SeqRange, type Status } from '@ioc/shared';
import { contiguousUpTo, mergeRangeInPlace, subtractRanges, type Range } from './ranges.js';
import { scopeHas } from './types.js';
import type {
  Admit,
  BatchInput,
  AlertCursor,
  AlertEventRecord,
  AlertFilter,
  AlertRecord,
  AlertShelf,
  AlertStore,
  StoredRuleVersion,
  Bucket,
  DeviceEventRow,
  DropResult,
  GatewayState,
  GatewayStats,
  LatestValue,
  QuarantineCause,
  QuarantineRow,
  ReadingRow,
  ReadingsQuery,
  ReadingsResult,
  DeviceScope,
  Store,
  StoredReading,
  WriteResult,
} from './types.js';
import { isHubFlag } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, e.g. {dataDir}/hub.db (its folder is created), opened and closed by the store… */
  path?: string;
  /** …or hub.db already open (openHubDatabase), which its owner closes after the store. */
  db?: HubDatabase;
  /** Which readings may be stored; the others are quarantined. Default: store everything. */
  admit?: Admit;
  /** Milliseconds between persisting a gateway's last-seen time (default 5000). */
  touchIntervalMs?: number;
  /**
   * A latest value dated more than this after the hub's clock gives way to any newer reading
   * (default 10 min, hub.yaml ingest.maxClockSkewMs): one stored before the hub flagged clock
   * skew must not pin a device's latest value for good.
   */
  maxClockSkewMs?: number;
}

interface Counters {
  stored: number;
  duplicates: number;
  dropped: number;
  quarantined: number;
}

const zero = (): Counters => ({ stored: 0, duplicates: 0, dropped: 0, quarantined: 0 });

function toDb(value: Reading['value']): number | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/**
 * A reading as stored, with its gateway and seq. Built field by field: an object spread
 * (`{ ...r, gw, seq }`) cost about 1.2 µs per reading here, a fifth of the hub's whole ingest
 * cost (measured with node --cpu-prof on 500-reading batches).
 */
function storedReading(r: Reading, gw: string, seq: number, q: Reading['q'], reason: string | undefined): StoredReading {
  // The keys in the order the spread gave them (the live feed's JSON stays as it was).
  return reason === undefined
    ? { dev: r.dev, metric: r.metric, value: r.value, unit: r.unit, ts: r.ts, q, gw, seq }
    : { dev: r.dev, metric: r.metric, value: r.value, unit: r.unit, ts: r.ts, q, reason, gw, seq };
}

/** Booleans are stored as 0/1; the catalog's metric kind maps them back. */
function fromDb(metric: string, value: number | null): number | boolean | null {
  if (value === null) return null;
  return metricDef(metric)?.kind === 'boolean' ? value !== 0 : value;
}

/** A stored row as the API sees it: booleans mapped back by the metric's kind, reason only when set. */
function storedValue(r: Row): LatestValue {
  const v: LatestValue = {
    metric: r.metric as string,
    gw: r.gw as string,
    seq: r.seq as number,
    ts: r.ts as number,
    value: fromDb(r.metric as string, r.value as number | null),
    q: r.q as LatestValue['q'],
  };
  if (r.reason !== null) v.reason = r.reason as string;
  return v;
}

type Row = Record<string, unknown>;

/**
 * A scope as one named SQL parameter, @scope: NULL for the full scope, else a JSON array of the
 * device ids in it.
 */
const IN_SCOPE = '(@scope IS NULL OR dev IN (SELECT value FROM json_each(@scope)))';
function scopeIds(scope: DeviceScope): string | null {
  return scope.all ? null : JSON.stringify([...scope.ids]);
}

export class SqliteStore implements Store {
  readonly db: HubDatabase;
  private readonly ownsDb: boolean;
  readonly alerts: AlertStore;
  private readonly admit: Admit;
  private readonly touchIntervalMs: number;
  private readonly maxClockSkewMs: number;
  private ranges = new Map<string, Range[]>();
  private counters = new Map<string, Counters>();
  private gateways = new Map<string, GatewayState>();
  private touchedAt = new Map<string, number>();
  private dataVersion = -1;
  private closed = false;
  private readonly st;
  private readonly groupTx;

  constructor(opts: SqliteStoreOptions) {
    if (opts.db) this.db = opts.db;
    else if (opts.path) this.db = openHubDatabase(opts.path);
    else throw new TypeError('openSqliteStore: give path or db');
    this.ownsDb = !opts.db;
    this.admit = opts.admit ?? (() => null);
    this.touchIntervalMs = opts.touchIntervalMs ?? 5000;
    this.maxClockSkewMs = opts.maxClockSkewMs ?? 10 * 60_000;
    this.st = this.prepare();
    this.groupTx = this.db.transaction(this.writeGroup.bind(this));
    this.alerts = new SqliteAlertStore(this.db);
    this.syncFromDisk();
    for (const r of this.db.prepare('SELECT * FROM gateways').all() as Row[]) {
      this.gateways.set(r.gw as string, this.gatewayFromRow(r));
    }
  }

  private prepare() {
    const db = this.db;
    return {
      insertReading: db.prepare(
        'INSERT OR IGNORE INTO readings (gw, seq, dev, metric, ts, value, q, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertLatest: db.prepare(
        `INSERT INTO latest (dev, metric, gw, seq, ts, value, q, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (dev, metric) DO UPDATE SET gw = excluded.gw, seq = excluded.seq, ts = excluded.ts,
           value = excluded.value, q = excluded.q, reason = excluded.reason
         WHERE excluded.ts >= latest.ts OR latest.ts > ?`,
      ),
      insertQuarantine: db.prepare(
        'INSERT OR IGNORE INTO quarantine (gw, seq, dev, metric, ts, cause, reading, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteRange: db.prepare('DELETE FROM gw_ranges WHERE gw = ? AND first = ?'),
      insertRange: db.prepare('INSERT INTO gw_ranges (gw, first, last) VALUES (?, ?, ?)'),
      addCounters: db.prepare(
        `INSERT INTO gw_stats (gw, stored, duplicates, dropped, quarantined) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (gw) DO UPDATE SET stored = stored + excluded.stored, duplicates = duplicates + excluded.duplicates,
           dropped = dropped + excluded.dropped, quarantined = quarantined + excluded.quarantined`,
      ),
      insertDropped: db.prepare('INSERT INTO dropped (gw, first, last, reason, received_at) VALUES (?, ?, ?, ?, ?)'),
      upsertGateway: db.prepare(
        `INSERT INTO gateways (gw, online, last_seen, status, status_at) VALUES (@gw, @online, @lastSeen, @status, @statusAt)
         ON CONFLICT (gw) DO UPDATE SET online = excluded.online, last_seen = excluded.last_seen,
           status = excluded.status, status_at = excluded.status_at`,
      ),
      touchGateway: db.prepare(
        `INSERT INTO gateways (gw, online, last_seen) VALUES (?, 0, ?)
         ON CONFLICT (gw) DO UPDATE SET last_seen = excluded.last_seen`,
      ),
      raw: db.prepare(
        `SELECT gw, seq, dev, metric, ts, value, q, reason FROM readings
         WHERE dev = @dev AND metric = @metric AND ts >= @from AND ts <= @to ORDER BY ts, gw, seq LIMIT @limit`,
      ),
      rawDesc: db.prepare(
        `SELECT gw, seq, dev, metric, ts, value, q, reason FROM readings
         WHERE dev = @dev AND metric = @metric AND ts >= @from AND ts <= @to ORDER BY ts DESC, gw DESC, seq DESC LIMIT @limit`,
      ),
      buckets: db.prepare(
        `SELECT ts - (ts % @step) AS t, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
         FROM readings
         WHERE dev = @dev AND metric = @metric AND ts >= @from AND ts <= @to AND q != 'bad' AND value IS NOT NULL
         GROUP BY t ORDER BY t LIMIT @limit`,
      ),
      storedSeqs: db.prepare('SELECT seq FROM readings WHERE gw = ? AND seq > ? ORDER BY seq LIMIT ?').pluck(),
      latest: db.prepare('SELECT metric, gw, seq, ts, value, q, reason FROM latest WHERE dev = ? ORDER BY metric'),
      quarantineAll: db.prepare(`SELECT * FROM quarantine WHERE ${IN_SCOPE} ORDER BY received_at DESC, gw, seq LIMIT @limit`),
      quarantineGw: db.prepare(`SELECT * FROM quarantine WHERE gw = @gw AND ${IN_SCOPE} ORDER BY seq DESC LIMIT @limit`),
      insertDeviceEvent: db.prepare(
        'INSERT INTO device_events (gw, dev, ts, event, detail, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deviceEventsAll: db.prepare(`SELECT * FROM device_events WHERE ${IN_SCOPE} ORDER BY id DESC LIMIT @limit`),
      deviceEventsDev: db.prepare('SELECT * FROM device_events WHERE dev = ? ORDER BY id DESC LIMIT ?'),
      ping: db.prepare('SELECT 1').pluck(),
      // Prepared once: db.pragma() prepares its statement on every call (once per batch here).
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
    };
  }

  /** Re-reads the accounting caches when another connection has committed since we last looked. */
  private syncFromDisk(): void {
    const v = this.st.dataVersion.get() as number;
    if (v === this.dataVersion) return;
    this.dataVersion = v;
    const ranges = new Map<string, Range[]>();
    for (const r of this.db.prepare('SELECT gw, first, last FROM gw_ranges ORDER BY gw, first').all() as Row[]) {
      const gw = r.gw as string;
      let list = ranges.get(gw);
      if (!list) ranges.set(gw, (list = []));
      list.push([r.first as number, r.last as number]);
    }
    const counters = new Map<string, Counters>();
    for (const r of this.db.prepare('SELECT * FROM gw_stats').all() as Row[]) {
      counters.set(r.gw as string, {
        stored: r.stored as number,
        duplicates: r.duplicates as number,
        dropped: r.dropped as number,
        quarantined: r.quarantined as number,
      });
    }
    this.ranges = ranges;
    this.counters = counters;
  }

  /**
   * Persists the merge of [first, last] into `working`, the transaction's own copy of the
   * gateway's ranges (see workingRanges), which it updates in place.
   */
  private accountRange(gw: string, working: Range[], first: number, last: number): Range[] {
    const m = mergeRangeInPlace(working, first, last);
    for (const [a] of m.removed) this.st.deleteRange.run(gw, a);
    this.st.insertRange.run(gw, m.merged[0], m.merged[1]);
    return working;
  }

  private bump(gw: string, d: Counters): void {
    this.st.addCounters.run(gw, d.stored, d.duplicates, d.dropped, d.quarantined);
  }

  private applyCounters(gw: string, d: Counters): void {
    const c = this.counters.get(gw) ?? zero();
    c.stored += d.stored;
    c.duplicates += d.duplicates;
    c.dropped += d.dropped;
    c.quarantined += d.quarantined;
    this.counters.set(gw, c);
  }

  writeBatch(gw: string, firstSeq: number, readings: readonly Reading[]): WriteResult {
    return this.writeBatches([{ gw, firstSeq, readings }])[0]!;
  }

  writeBatches(batches: readonly BatchInput[], within?: (results: readonly WriteResult[]) => void): WriteResult[] {
    for (const b of batches) {
      if (!Number.isInteger(b.firstSeq) || b.firstSeq < 1) throw new RangeError(`firstSeq must be a positive integer, got ${b.firstSeq}`);
    }
    if (!within && batches.every((b) => b.readings.length === 0)) {
      this.syncFromDisk();
      return batches.map((b) => ({ stored: 0, duplicates: 0, quarantined: 0, quarantinedBy: {}, outOfRangeBy: {}, clockSkew: 0, upTo: this.upTo(b.gw), fresh: [] }));
    }
    const { out, next, results } = this.groupTx.immediate(batches, within);
    // Committed: now the caches may follow. (Inside a caller's transaction this was only a
    // savepoint, and a rollback of the caller would leave these caches ahead of the database:
    // callers use `within` instead of wrapping this in their own transaction.)
    for (const [gw, ranges] of next) this.ranges.set(gw, ranges);
    for (let i = 0; i < out.length; i++) this.applyCounters(batches[i]!.gw, out[i]!.d);
    return results;
  }

  /** The body of writeBatches' transaction (one transaction function, created once). */
  private writeGroup(batches: readonly BatchInput[], within: ((results: readonly WriteResult[]) => void) | undefined) {
    const now = Date.now();
    this.syncFromDisk();
    // Ranges as this transaction leaves them, so a later batch of the same gateway sees an earlier one.
    // Copied once per gateway per transaction and merged into in place; the cache takes it after the commit.
    const next = new Map<string, Range[]>();
    const out = batches.map((b) => {
      const current = next.get(b.gw) ?? (this.ranges.get(b.gw) ?? []).slice();
      const r = this.writeOne(b.gw, b.firstSeq, b.readings, current, now);
      next.set(b.gw, r.next);
      // Now: the working list keeps changing with the group's later batches.
      return { ...r, upTo: contiguousUpTo(r.next) };
    });
    const results = out.map(
      (r): WriteResult => ({
        stored: r.d.stored,
        duplicates: r.d.duplicates,
        quarantined: r.d.quarantined,
        quarantinedBy: r.quarantinedBy,
        outOfRangeBy: r.outOfRangeBy,
        clockSkew: r.clockSkew,
        upTo: r.upTo,
        fresh: r.fresh,
      }),
    );
    within?.(results);
    return { out, next, results };
  }

  /** One batch's statements, inside the caller's transaction; `current` is the gateway's accounted ranges so far. */
  private writeOne(gw: string, firstSeq: number, readings: readonly Reading[], current: Range[], now: number) {
    const fresh: StoredReading[] = [];
    const d = zero();
    const quarantinedBy: Partial<Record<QuarantineCause, number>> = {};
    const outOfRangeBy: Partial<Record<string, number>> = {};
    let clockSkew = 0;
    if (readings.length === 0) return { next: current, d, fresh, quarantinedBy, outOfRangeBy, clockSkew };
    const last = firstSeq + readings.length - 1;
    const gaps = subtractRanges(current, firstSeq, last);
    let accounted = 0;
    // The newest reading per (dev, metric) of the batch, by device then metric (no key string per reading).
    const newest = new Map<string, Map<string, StoredReading>>();
    for (const [a, b] of gaps) {
      accounted += b - a + 1;
      for (let seq = a; seq <= b; seq++) {
        const r = readings[seq - firstSeq]!;
        const verdict = this.admit(gw, r);
        if (verdict !== null && !isHubFlag(verdict)) {
          if (this.st.insertQuarantine.run(gw, seq, r.dev, r.metric, r.ts, verdict, JSON.stringify(r), now).changes) {
            d.quarantined++;
            quarantinedBy[verdict] = (quarantinedBy[verdict] ?? 0) + 1;
          } else d.duplicates++;
          continue;
        }
        // The hub's verdict replaces the gateway's quality (the value is kept, as the edge keeps it).
        const stored = verdict !== null ? storedReading(r, gw, seq, 'bad', verdict) : storedReading(r, gw, seq, r.q, r.reason);
        if (this.st.insertReading.run(gw, seq, r.dev, r.metric, r.ts, toDb(r.value), stored.q, stored.reason ?? null).changes === 0) {
          // Present without being accounted: a database from before accounting; still a duplicate.
          d.duplicates++;
          continue;
        }
        d.stored++;
        fresh.push(stored);
        if (verdict === 'out_of_range') outOfRangeBy[r.metric] = (outOfRangeBy[r.metric] ?? 0) + 1;
        else if (verdict === 'clock_skew') {
          // Its ts cannot be trusted: never the device's latest value.
          clockSkew++;
          continue;
        }
        // Ties go to the later seq, as one upsert per reading in seq order would leave it.
        let byMetric = newest.get(r.dev);
        if (!byMetric) newest.set(r.dev, (byMetric = new Map()));
        const cand = byMetric.get(r.metric);
        if (!cand || r.ts >= cand.ts) byMetric.set(r.metric, stored);
      }
    }
    const pinnedAfter = now + this.maxClockSkewMs;
    for (const byMetric of newest.values()) {
      for (const r of byMetric.values()) this.st.upsertLatest.run(r.dev, r.metric, gw, r.seq, r.ts, toDb(r.value), r.q, r.reason ?? null, pinnedAfter);
    }
    d.duplicates += readings.length - accounted;
    const next = gaps.length ? this.accountRange(gw, current, firstSeq, last) : current;
    this.bump(gw, d);
    return { next, d, fresh, quarantinedBy, outOfRangeBy, clockSkew };
  }

  markDropped(gw: string, ranges: readonly SeqRange[], reason: string, now = Date.now()): DropResult {
    const run = this.db.transaction(() => {
      this.syncFromDisk();
      // The transaction's own copy, merged into in place; the cache takes it after the commit.
      let current: Range[] = (this.ranges.get(gw) ?? []).slice();
      let dropped = 0;
      for (const [first, last] of ranges) {
        if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last >= first)) {
          throw new RangeError(`invalid seq range [${first}, ${last}]`);
        }
        const gaps = subtractRanges(current, first, last);
        if (!gaps.length) continue;
        for (const [a, b] of gaps) {
          dropped += b - a + 1;
          this.st.insertDropped.run(gw, a, b, reason, now);
        }
        current = this.accountRange(gw, current, first, last);
      }
      const d = { ...zero(), dropped };
      this.bump(gw, d);
      return { current, d };
    });
    const { current, d } = run.immediate();
    this.ranges.set(gw, current);
    this.applyCounters(gw, d);
    return { dropped: d.dropped, upTo: contiguousUpTo(current) };
  }

  upTo(gw: string): number {
    this.syncFromDisk();
    return contiguousUpTo(this.ranges.get(gw) ?? []);
  }

  gatewayStats(gw: string): GatewayStats {
    this.syncFromDisk();
    const ranges = this.ranges.get(gw) ?? [];
    return { gw, upTo: contiguousUpTo(ranges), ...(this.counters.get(gw) ?? zero()), ranges: [...ranges] };
  }

  queryReadings(q: ReadingsQuery, scope: DeviceScope): ReadingsResult {
    if (!scopeHas(scope, q.dev)) return q.step !== undefined ? { kind: 'buckets', buckets: [] } : { kind: 'raw', rows: [] };
    const params = { dev: q.dev, metric: q.metric, from: q.from, to: q.to, limit: q.limit };
    if (q.step !== undefined) {
      if (!(Number.isInteger(q.step) && q.step > 0)) throw new RangeError(`step must be a positive integer, got ${q.step}`);
      // For a boolean metric avg is the fraction of readings that were true; min/max are 0/1.
      const buckets = (this.st.buckets.all({ ...params, step: q.step }) as Row[]).map(
        (r): Bucket => ({ t: r.t as number, avg: r.avg as number, min: r.min as number, max: r.max as number, count: r.count as number }),
      );
      return { kind: 'buckets', buckets };
    }
    const stmt = q.order === 'desc' ? this.st.rawDesc : this.st.raw;
    const rows = (stmt.all(params) as Row[]).map((r): ReadingRow => ({ dev: r.dev as string, ...storedValue(r) }));
    return { kind: 'raw', rows };
  }

  storedSeqs(gw: string, afterSeq: number, limit: number): number[] {
    return this.st.storedSeqs.all(gw, afterSeq, limit) as number[];
  }

  latest(dev: string, scope: DeviceScope): LatestValue[] {
    if (!scopeHas(scope, dev)) return [];
    return (this.st.latest.all(dev) as Row[]).map(storedValue);
  }

  quarantined(gw: string | undefined, limit: number, scope: DeviceScope): QuarantineRow[] {
    const ids = scopeIds(scope);
    const rows = (gw === undefined ? this.st.quarantineAll.all({ scope: ids, limit }) : this.st.quarantineGw.all({ gw, scope: ids, limit })) as Row[];
    return rows.map((r) => ({
      gw: r.gw as string,
      seq: r.seq as number,
      cause: r.cause as QuarantineCause,
      reading: JSON.parse(r.reading as string) as Reading,
      receivedAt: r.received_at as number,
    }));
  }

  private gatewayFromRow(r: Row): GatewayState {
    return {
      gw: r.gw as string,
      online: r.online === 1,
      lastSeen: (r.last_seen as number | null) ?? null,
      status: r.status ? (JSON.parse(r.status as string) as Status) : null,
      statusAt: (r.status_at as number | null) ?? null,
    };
  }

  setGatewayStatus(gw: string, status: Status, now: number): GatewayState {
    const prev = this.gateways.get(gw);
    // A full health report (with the outbox) replaces the last one; a partial one such as the LWT
    // `{online:false, link:"lost"}` is merged onto it, so the last known outbox state stays visible.
    const merged: Status = status.outbox !== undefined || !prev?.status ? status : { ...prev.status, ...status };
    const next: GatewayState = { gw, online: status.online, lastSeen: now, status: merged, statusAt: now };
    this.st.upsertGateway.run({
      gw,
      online: next.online ? 1 : 0,
      lastSeen: next.lastSeen,
      status: next.status ? JSON.stringify(next.status) : null,
      statusAt: next.statusAt,
    });
    this.gateways.set(gw, next);
    this.touchedAt.set(gw, now);
    return next;
  }

  touchGateway(gw: string, now: number): void {
    const g = this.gateways.get(gw) ?? { gw, online: false, lastSeen: null, status: null, statusAt: null };
    g.lastSeen = now;
    this.gateways.set(gw, g);
    const at = this.touchedAt.get(gw);
    if (at === undefined || now - at >= this.touchIntervalMs) {
      this.touchedAt.set(gw, now);
      this.st.touchGateway.run(gw, now);
    }
  }

  gatewayState(gw: string): GatewayState | undefined {
    const g = this.gateways.get(gw);
    return g ? { ...g } : undefined;
  }

  markAllOffline(): void {
    this.db.prepare('UPDATE gateways SET online = 0').run();
    for (const g of this.gateways.values()) g.online = false;
  }

  addDeviceEvent(gw: string, ev: DeviceEvent, now: number): number {
    return Number(this.st.insertDeviceEvent.run(gw, ev.dev, ev.ts, ev.event, ev.detail ?? null, now).lastInsertRowid);
  }

  deviceEvents(dev: string | undefined, limit: number, scope: DeviceScope): DeviceEventRow[] {
    if (dev !== undefined && !scopeHas(scope, dev)) return [];
    const rows = (dev === undefined ? this.st.deviceEventsAll.all({ scope: scopeIds(scope), limit }) : this.st.deviceEventsDev.all(dev, limit)) as Row[];
    return rows.map((r) => {
      const e: DeviceEventRow = {
        id: r.id as number,
        gw: r.gw as string,
        dev: r.dev as string,
        ts: r.ts as number,
        event: r.event as string,
        receivedAt: r.received_at as number,
      };
      if (r.detail !== null) e.detail = r.detail as string;
      return e;
    });
  }

  ping(): boolean {
    if (this.closed) return false;
    try {
      return this.st.ping.get() === 1;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Persist the in-memory last-seen times that the throttle held back.
    const touch = this.db.transaction(() => {
      for (const g of this.gateways.values()) if (g.lastSeen !== null) this.st.touchGateway.run(g.gw, g.lastSeen);
    });
    try {
      touch.immediate();
    } finally {
      if (this.ownsDb) this.db.close();
    }
  }
}

const ALERT_COLUMNS: Record<keyof Omit<AlertRecord, 'id'>, string> = {
  rule: 'rule',
  kind: 'kind',
  category: 'category',
  target: 'target',
  dev: 'dev',
  metric: 'metric',
  gw: 'gw',
  communeCode: 'commune_code',
  provinceCode: 'province_code',
  level: 'level',
  maxLevel: 'max_level',
  state: 'state',
  active: 'active',
  stale: 'stale',
  late: 'late',
  missed: 'missed',
  flaps: 'flaps',
  exercise: 'exercise',
  openedAt: 'opened_at',
  updatedAt: 'updated_at',
  clearedAt: 'cleared_at',
  acknowledgedBy: 'acknowledged_by',
  acknowledgedAt: 'acknowledged_at',
  closedBy: 'closed_by',
  closedAt: 'closed_at',
  assignee: 'assignee',
  shelvedUntil: 'shelved_until',
  shelvedBy: 'shelved_by',
  note: 'note',
  lastValue: 'last_value',
  riskLevel: 'risk_level',
  riskConfirmedBy: 'risk_confirmed_by',
  riskConfirmedAt: 'risk_confirmed_at',
};
const ALERT_FLAGS = new Set(['active', 'stale', 'late', 'missed', 'exercise']);

function alertFromRow(r: Row): AlertRecord {
  const out: Record<string, unknown> = { id: r.id };
  for (const [k, col] of Object.entries(ALERT_COLUMNS)) {
    const v = r[col];
    out[k] = ALERT_FLAGS.has(k) ? v === 1 : (v ?? null);
  }
  return out as unknown as AlertRecord;
}

function alertToDb(key: string, v: unknown): unknown {
  if (ALERT_FLAGS.has(key)) return v ? 1 : 0;
  return v;
}

/** Alerts in a scope: of its devices, or (a gateway's own alerts) of its gateways. */
const ALERT_IN_SCOPE = '(@scope IS NULL OR dev IN (SELECT value FROM json_each(@scope)) OR (dev IS NULL AND gw IN (SELECT value FROM json_each(@gws))))';
function scopeGateways(scope: DeviceScope): string | null {
  return scope.all ? null : JSON.stringify([...(scope.gateways ?? [])]);
}

class SqliteAlertStore implements AlertStore {
  private readonly st;
  private readonly updates = new Map<string, Database.Statement>();
  /** One transaction function, created once: it runs the function it is given. */
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(private readonly db: Database.Database) {
    this.tx = db.transaction((fn: () => unknown) => fn());
    const cols = Object.values(ALERT_COLUMNS);
    this.st = {
      insert: db.prepare(`INSERT INTO alerts (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`),
      addEvent: db.prepare(
        'INSERT INTO alert_events (alert_id, ts, kind, level, value, by, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      get: db.prepare(`SELECT * FROM alerts WHERE id = @id AND ${ALERT_IN_SCOPE}`),
      active: db.prepare('SELECT * FROM alerts WHERE active = 1 OR late = 1 ORDER BY id'),
      latestOf: db.prepare('SELECT * FROM alerts WHERE rule = ? AND target = ? ORDER BY id DESC LIMIT 1'),
      cursors: db.prepare('SELECT rule, dev, metric, last_ts FROM alert_cursors'),
      setCursor: db.prepare(
        `INSERT INTO alert_cursors (rule, dev, metric, last_ts) VALUES (?, ?, ?, ?)
         ON CONFLICT (rule, dev, metric) DO UPDATE SET last_ts = excluded.last_ts`,
      ),
      shelves: db.prepare('SELECT * FROM alert_shelves'),
      setShelf: db.prepare(
        `INSERT INTO alert_shelves (rule, target, until, by, note) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (rule, target) DO UPDATE SET until = excluded.until, by = excluded.by, note = excluded.note`,
      ),
      deleteShelf: db.prepare('DELETE FROM alert_shelves WHERE rule = ? AND target = ?'),
      ruleVersionsAll: db.prepare('SELECT * FROM alert_rules ORDER BY id, version'),
      ruleVersionsOf: db.prepare('SELECT * FROM alert_rules WHERE id = ? ORDER BY version'),
      nextVersion: db.prepare('SELECT coalesce(max(version), 0) + 1 FROM alert_rules WHERE id = ?').pluck(),
      addRuleVersion: db.prepare(
        'INSERT INTO alert_rules (id, version, spec, source, deleted, created_at, created_by, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      unresolved: db.prepare(`SELECT level, count(*) AS count FROM alerts WHERE state != 'closed' GROUP BY level ORDER BY level`),
    };
  }

  transaction<T>(fn: () => T): T {
    // Outermost: BEGIN IMMEDIATE … COMMIT. Nested (inside a group commit): a savepoint, so a
    // failure undoes only this part and the caller decides whether the outer transaction goes on.
    return this.tx.immediate(fn) as T;
  }

  insert(a: Omit<AlertRecord, 'id'>): number {
    const values = (Object.keys(ALERT_COLUMNS) as Array<keyof typeof ALERT_COLUMNS>).map((k) => alertToDb(k, a[k]));
    return Number(this.st.insert.run(...values).lastInsertRowid);
  }

  update(id: number, patch: Partial<Omit<AlertRecord, 'id' | 'rule' | 'kind' | 'target'>>): void {
    const keys = Object.keys(patch) as Array<keyof typeof ALERT_COLUMNS>;
    if (!keys.length) return;
    const sql = `UPDATE alerts SET ${keys.map((k) => `${ALERT_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`;
    // The statement depends only on which keys change: a handful of shapes, prepared once each.
    let stmt = this.updates.get(sql);
    if (!stmt) this.updates.set(sql, (stmt = this.db.prepare(sql)));
    stmt.run(...keys.map((k) => alertToDb(k, patch[k as keyof typeof patch])), id);
  }

  addEvent(e: AlertEventRecord): void {
    this.st.addEvent.run(e.alertId, e.ts, e.kind, e.level, e.value, e.by, e.note);
  }

  get(id: number, scope: DeviceScope): AlertRecord | undefined {
    const r = this.st.get.get({ id, scope: scopeIds(scope), gws: scopeGateways(scope) }) as Row | undefined;
    return r ? alertFromRow(r) : undefined;
  }

  list(filter: AlertFilter): AlertRecord[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit ?? 100 };
    const eq = (col: string, key: string, v: unknown) => {
      where.push(`${col} = @${key}`);
      params[key] = v;
    };
    if (filter.state !== undefined) eq('state', 'state', filter.state);
    if (filter.unclosed) where.push("state != 'closed'");
    if (filter.active !== undefined) eq('active', 'active', filter.active ? 1 : 0);
    if (filter.dev !== undefined) eq('dev', 'dev', filter.dev);
    if (filter.rule !== undefined) eq('rule', 'rule', filter.rule);
    if (filter.category !== undefined) eq('category', 'category', filter.category);
    if (!filter.scope.all) {
      where.push(ALERT_IN_SCOPE);
      params.scope = scopeIds(filter.scope);
      params.gws = scopeGateways(filter.scope);
    }
    const sql = `SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as Row[]).map(alertFromRow);
  }

  events(alertIds: readonly number[]): Map<number, AlertEventRecord[]> {
    const out = new Map<number, AlertEventRecord[]>(alertIds.map((id) => [id, []]));
    if (!alertIds.length) return out;
    const rows = this.db
      .prepare(`SELECT * FROM alert_events WHERE alert_id IN (SELECT value FROM json_each(?)) ORDER BY id`)
      .all(JSON.stringify(alertIds)) as Row[];
    for (const r of rows) {
      out.get(r.alert_id as number)?.push({
        alertId: r.alert_id as number,
        ts: r.ts as number,
        kind: r.kind as AlertEventRecord['kind'],
        level: r.level as number,
        value: (r.value as number | null) ?? null,
        by: (r.by as string | null) ?? null,
        note: (r.note as string | null) ?? null,
      });
    }
    return out;
  }

  active(): AlertRecord[] {
    return (this.st.active.all() as Row[]).map(alertFromRow);
  }

  latestOf(rule: string, target: string): AlertRecord | undefined {
    const r = this.st.latestOf.get(rule, target) as Row | undefined;
    return r ? alertFromRow(r) : undefined;
  }

  cursors(): AlertCursor[] {
    return (this.st.cursors.all() as Row[]).map((r) => ({
      rule: r.rule as string,
      dev: r.dev as string,
      metric: r.metric as string,
      lastTs: r.last_ts as number,
    }));
  }

  setCursor(c: AlertCursor): void {
    this.st.setCursor.run(c.rule, c.dev, c.metric, c.lastTs);
  }

  shelves(): AlertShelf[] {
    return (this.st.shelves.all() as Row[]).map((r) => ({ rule: r.rule as string, target: r.target as string, until: r.until as number, by: r.by as string, note: (r.note as string | null) ?? null }));
  }

  setShelf(s: AlertShelf | { rule: string; target: string; until: null }): void {
    if (s.until === null) this.st.deleteShelf.run(s.rule, s.target);
    else this.st.setShelf.run(s.rule, s.target, s.until, s.by, s.note);
  }

  ruleVersions(id?: string): StoredRuleVersion[] {
    const rows = (id === undefined ? this.st.ruleVersionsAll.all() : this.st.ruleVersionsOf.all(id)) as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      version: r.version as number,
      spec: JSON.parse(r.spec as string) as Record<string, unknown>,
      source: r.source as StoredRuleVersion['source'],
      deleted: r.deleted === 1,
      createdAt: r.created_at as number,
      createdBy: r.created_by as string,
      note: (r.note as string | null) ?? null,
    }));
  }

  addRuleVersion(v: Omit<StoredRuleVersion, 'version'>): StoredRuleVersion {
    const version = this.st.nextVersion.get(v.id) as number;
    this.st.addRuleVersion.run(v.id, version, JSON.stringify(v.spec), v.source, v.deleted ? 1 : 0, v.createdAt, v.createdBy, v.note);
    return { ...v, version };
  }

  unresolvedByLevel(): Array<{ level: number; count: number }> {
    return (this.st.unresolved.all() as Row[]).map((r) => ({ level: r.level as number, count: r.count as number }));
  }
}

export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(opts);
}
