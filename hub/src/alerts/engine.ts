/**
 * Alert engine: runs the rules over freshly stored readings and keeps one durable episode per
 * rise of a condition (raised → escalated / deescalated → cleared; a human acknowledges and
 * resolves). State per (rule, device, metric) = current level, open episode and the newest
 * measurement time evaluated; it lives in SQLite and is restored at start.
 *
 * Time only moves forward: a reading at or before the newest evaluated ts of its (device, metric)
 * — e.g. a backlog drained after live data — is stored as history but never changes alert state.
 * On the ingest path the rules run inside the telemetry group's transaction (stage()): readings,
 * alert state and cursors commit together, and "change" is emitted after that commit. Readings
 * stored while the engine did not see them (`ioc-hub import`, a batch whose evaluation failed and
 * was stored without it) are caught up at start from the store, newest cursor onwards.
 */
import { EventEmitter } from 'node:events';
import type { Logger, Reading } from '@ioc/shared';
import type { DeviceEntry } from '../config/schema.js';
import type { Registry } from '../config/registry.js';
import { SYSTEM_SCOPE, type AlertEventKind, type AlertEventRecord, type AlertFilter, type AlertRecord, type DeviceScope, type Store, type StoredReading } from '../store/types.js';
import type { AlertChange, AlertHistoryEntry, AlertRule, AlertView, LocalizedText } from './types.js';

export class AlertActionError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'AlertActionError';
  }
}

export interface AlertEngineOptions {
  store: Store;
  registry: Registry;
  rules: readonly AlertRule[];
  logger: Logger;
  now?: () => number;
  /** Readings dated further than this in the future (a gateway clock gone wrong) are not evaluated. */
  maxFutureSkewMs?: number;
  /** How far back a (device, metric) the engine has never evaluated is caught up at start. */
  catchUpWindowMs?: number;
}

interface Target {
  key: string;
  rule: AlertRule;
  device: DeviceEntry;
  metric: string;
  /** Newest measurement time evaluated (-1: none). */
  lastTs: number;
  level: number;
  maxLevel: number;
  alertId: number | null;
}

type EngineEvents = { change: [AlertChange] };

/** The part of a target's state an evaluation changes. */
type TargetState = Pick<Target, 'lastTs' | 'level' | 'maxLevel' | 'alertId'>;

interface PendingChange {
  alertId: number;
  event: AlertHistoryEntry;
  message: LocalizedText;
}

/**
 * Alert work done inside a caller's transaction (the telemetry group commit, which stores the
 * readings and the alert state they cause in ONE commit). Each evaluate() writes the state
 * changes at once (a savepoint: all of that call or nothing), but the engine's in-memory state
 * and the "change" events follow only when the caller reports the outcome: commit() after the
 * transaction committed, rollback() if it did not — then the engine stays as the database is.
 */
export interface AlertStaging {
  /** Evaluates readings after what this staging already evaluated (call inside the transaction). */
  evaluate(readings: readonly Reading[]): void;
  /** The transaction committed: the staged state becomes the engine's; emits "change" for each change. */
  commit(): AlertChange[];
  /** The transaction was rolled back: forgets what was staged. */
  rollback(): void;
}

const key = (rule: string, dev: string, metric: string) => `${rule}\u0000${dev}\u0000${metric}`;

function inTimeOrder(rs: readonly Reading[]): boolean {
  for (let i = 1; i < rs.length; i++) if (rs[i]!.ts < rs[i - 1]!.ts) return false;
  return true;
}

export class AlertEngine extends EventEmitter<EngineEvents> {
  private readonly store: Store;
  private readonly registry: Registry;
  private readonly rules: readonly AlertRule[];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxFutureSkewMs: number;
  private readonly catchUpWindowMs: number;
  private readonly targets = new Map<string, Target>();
  /** dev → metric → targets (one per rule watching it); two lookups, no key string per reading. */
  private readonly byDevMetric = new Map<string, Map<string, Target[]>>();
  private futureWarned = 0;

  constructor(opts: AlertEngineOptions) {
    super();
    this.store = opts.store;
    this.registry = opts.registry;
    this.rules = opts.rules;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.maxFutureSkewMs = opts.maxFutureSkewMs ?? 10 * 60_000;
    this.catchUpWindowMs = opts.catchUpWindowMs ?? 24 * 3_600_000;
    for (const device of this.registry.devices.values()) {
      for (const rule of this.rules) {
        for (const metric of rule.metricsFor(device)) {
          const t: Target = { key: key(rule.kind, device.id, metric), rule, device, metric, lastTs: -1, level: 0, maxLevel: 0, alertId: null };
          this.targets.set(t.key, t);
          let byMetric = this.byDevMetric.get(device.id);
          if (!byMetric) this.byDevMetric.set(device.id, (byMetric = new Map()));
          const list = byMetric.get(metric);
          if (list) list.push(t);
          else byMetric.set(metric, [t]);
        }
      }
    }
  }

  /** Restores state from the store, closes episodes no rule watches any more, and catches up. */
  start(): void {
    const alerts = this.store.alerts;
    for (const c of alerts.cursors()) {
      const t = this.targets.get(key(c.rule, c.dev, c.metric));
      if (t) t.lastTs = c.lastTs;
    }
    const orphans: AlertRecord[] = [];
    for (const a of alerts.active()) {
      const t = this.targets.get(key(a.rule, a.dev, a.metric));
      if (!t || t.alertId !== null) {
        orphans.push(a);
        continue;
      }
      t.alertId = a.id;
      t.level = a.level;
      t.maxLevel = a.maxLevel;
    }
    if (orphans.length) {
      const now = this.now();
      alerts.transaction(() => {
        for (const a of orphans) {
          alerts.update(a.id, { level: 0, active: false, clearedAt: now, updatedAt: now });
          alerts.addEvent({ alertId: a.id, ts: now, kind: 'cleared', level: 0, value: null, by: 'hub', note: 'the rule no longer watches this device (registry changed)' });
        }
      });
      this.log.warn({ alerts: orphans.map((a) => a.id) }, 'closed active alerts whose device or rule is no longer configured');
    }
    this.catchUp();
    const active = [...this.targets.values()].filter((t) => t.alertId !== null).length;
    this.log.info({ targets: this.targets.size, active }, 'alert engine started');
  }

  private catchUp(): void {
    const pageSize = 5000;
    for (const t of this.targets.values()) {
      let from = t.lastTs >= 0 ? t.lastTs + 1 : Math.max(0, this.now() - this.catchUpWindowMs);
      let n = 0;
      for (;;) {
        const res = this.store.queryReadings({ dev: t.device.id, metric: t.metric, from, to: this.now() + this.maxFutureSkewMs, limit: pageSize }, SYSTEM_SCOPE);
        if (res.kind !== 'raw' || !res.rows.length) break;
        const rows: StoredReading[] = res.rows.map((r) => ({ ...r, unit: '', ...(r.reason ? { reason: r.reason } : {}) }));
        this.evaluate(rows);
        n += rows.length;
        if (rows.length < pageSize) break;
        const lastTs = rows[rows.length - 1]!.ts;
        from = lastTs > from ? lastTs : from + 1;
      }
      if (n) this.log.info({ dev: t.device.id, metric: t.metric, rule: t.rule.kind, readings: n }, 'alert rule caught up with stored readings');
    }
  }

  /**
   * Evaluates freshly stored readings in a transaction of its own; emits "change" for each state
   * change after the commit and returns the changes. Inside a caller's transaction use stage()
   * instead, so that nothing is applied or emitted before the caller's commit.
   */
  evaluate(readings: readonly Reading[]): AlertChange[] {
    const staging = this.stage();
    try {
      staging.evaluate(readings);
    } catch (err) {
      staging.rollback();
      throw err;
    }
    return staging.commit();
  }

  /** Starts alert work inside a caller's transaction (see AlertStaging). */
  stage(): AlertStaging {
    const staged = new Map<Target, TargetState>();
    const pending: PendingChange[] = [];
    let open = true;
    const check = () => {
      if (!open) throw new Error('alert staging already committed or rolled back');
    };
    return {
      evaluate: (readings) => {
        check();
        const states = new Map<Target, TargetState>();
        const changes: PendingChange[] = [];
        // A savepoint inside the caller's transaction: if this throws, none of its writes remain
        // and nothing of it is staged.
        this.store.alerts.transaction(() => this.evaluateInto(readings, staged, states, changes));
        for (const [t, st] of states) staged.set(t, st);
        for (const c of changes) pending.push(c);
      },
      commit: () => {
        check();
        open = false;
        for (const [t, st] of staged) Object.assign(t, st);
        try {
          return this.emitAll(pending);
        } catch (err) {
          // Committed already: a failure to read back or announce a change must not undo it.
          this.log.error({ err, alerts: pending.map((p) => p.alertId) }, 'announcing committed alert changes failed');
          return [];
        }
      },
      rollback: () => {
        open = false;
        staged.clear();
        pending.length = 0;
      },
    };
  }

  /**
   * Runs the rules over readings (inside a transaction), starting from each target's state in
   * `base` (else the engine's), and writes every state change. The new states go to `out`, the
   * changes to announce to `pending`; nothing of the engine itself changes.
   */
  private evaluateInto(readings: readonly Reading[], base: ReadonlyMap<Target, TargetState>, out: Map<Target, TargetState>, pending: PendingChange[]): void {
    const groups = new Map<Target, Reading[]>();
    for (const r of readings) {
      const list = this.byDevMetric.get(r.dev)?.get(r.metric);
      if (!list) continue;
      for (const t of list) {
        const g = groups.get(t);
        if (g) g.push(r);
        else groups.set(t, [r]);
      }
    }
    if (!groups.size) return;
    const now = this.now();
    const alerts = this.store.alerts;
    for (const [t, rs] of groups) {
      const prev = base.get(t) ?? t;
      const s: TargetState = { lastTs: prev.lastTs, level: prev.level, maxLevel: prev.maxLevel, alertId: prev.alertId };
      // Usually in time order already (one pass, no comparator calls). Array.prototype.sort is
      // stable: equal timestamps keep their seq order.
      if (!inTimeOrder(rs)) rs.sort((a, b) => a.ts - b.ts);
      for (const r of rs) {
        // The hub found its ts outside its window (admission.ts): it says nothing about now.
        if (r.q === 'bad' && r.reason === 'clock_skew') continue;
        if (r.ts <= s.lastTs) continue;
        if (r.ts > now + this.maxFutureSkewMs) {
          if (now - this.futureWarned > 60_000) {
            this.futureWarned = now;
            this.log.warn({ dev: r.dev, metric: r.metric, ts: r.ts, now }, 'reading dated in the future: stored, not evaluated by alert rules (gateway clock?)');
          }
          continue;
        }
        s.lastTs = r.ts;
        const level = t.rule.evaluate(t.device, s.level, r);
        if (level === null || level === s.level) continue;
        const value = typeof r.value === 'number' ? r.value : null;
        const change = this.transition(t, s, level, value, r.ts);
        if (change) pending.push(change);
      }
      if (s.lastTs !== prev.lastTs) alerts.setCursor({ rule: t.rule.kind, dev: t.device.id, metric: t.metric, lastTs: s.lastTs });
      out.set(t, s);
    }
  }

  /** Writes one level change (inside the caller's transaction) and updates the staged state. */
  private transition(t: Target, s: TargetState, level: number, value: number | null, ts: number): PendingChange | null {
    const alerts = this.store.alerts;
    let kind: AlertEventKind;
    if (s.alertId === null || s.level === 0) {
      if (level === 0) return null;
      kind = 'raised';
      s.alertId = alerts.insert({
        dev: t.device.id, metric: t.metric, rule: t.rule.kind, level, maxLevel: level, state: 'open', active: true,
        openedAt: ts, updatedAt: ts, clearedAt: null, acknowledgedBy: null, acknowledgedAt: null,
        resolvedBy: null, resolvedAt: null, note: null, lastValue: value,
      });
      s.maxLevel = level;
    } else if (level === 0) {
      kind = 'cleared';
      alerts.update(s.alertId, { level: 0, active: false, clearedAt: ts, updatedAt: ts, lastValue: value });
    } else if (level > s.level) {
      kind = 'escalated';
      s.maxLevel = Math.max(s.maxLevel, level);
      // A worse level needs a person's eyes again: an acknowledged episode is open again.
      alerts.update(s.alertId, { level, maxLevel: s.maxLevel, updatedAt: ts, lastValue: value, state: 'open' });
    } else {
      kind = 'deescalated';
      alerts.update(s.alertId, { level, updatedAt: ts, lastValue: value });
    }
    const alertId = s.alertId;
    const event: AlertHistoryEntry = { ts, kind, level, value, by: null, note: null };
    alerts.addEvent({ alertId, ...event });
    const message = t.rule.message(t.device, level, value, kind === 'cleared' ? s.maxLevel : undefined);
    s.level = level;
    if (kind === 'cleared') {
      s.alertId = null;
      s.maxLevel = 0;
    }
    return { alertId, event, message };
  }

  private emitAll(pending: readonly PendingChange[]): AlertChange[] {
    const changes: AlertChange[] = [];
    for (const p of pending) {
      const alert = this.get(p.alertId, SYSTEM_SCOPE);
      if (!alert) continue;
      const change: AlertChange = { alert, event: p.event, message: p.message };
      changes.push(change);
      const logObj = { alert: alert.id, dev: alert.dev, rule: alert.rule, kind: p.event.kind, alertLevel: p.event.level, value: p.event.value, vi: p.message.vi };
      this.log.info(logObj, p.message.en);
      this.emitSafe(change);
    }
    return changes;
  }

  /** A failing listener must not undo or hide a committed change. */
  private emitSafe(change: AlertChange): void {
    try {
      this.emit('change', change);
    } catch (err) {
      this.log.error({ err, alert: change.alert.id }, 'alert change listener failed');
    }
  }

  /**
   * A person acknowledges an alert. `within` runs inside the same transaction (the audit entry
   * commits with the change it records). An alert outside `scope` is "not found".
   */
  acknowledge(id: number, by: string, note: string | undefined, scope: DeviceScope = SYSTEM_SCOPE, within?: (a: AlertRecord) => void): AlertView {
    const a = this.store.alerts.get(id, scope);
    if (!a) throw new AlertActionError('not_found', `alert ${id} not found`);
    if (a.state !== 'open') throw new AlertActionError('conflict', `alert ${id} is already ${a.state}`);
    return this.humanAction(a, 'acknowledged', by, note, { state: 'acknowledged', acknowledgedBy: by, acknowledgedAt: this.now() }, within);
  }

  resolve(id: number, by: string, note: string | undefined, scope: DeviceScope = SYSTEM_SCOPE, within?: (a: AlertRecord) => void): AlertView {
    const a = this.store.alerts.get(id, scope);
    if (!a) throw new AlertActionError('not_found', `alert ${id} not found`);
    if (a.state === 'resolved') throw new AlertActionError('conflict', `alert ${id} is already resolved`);
    if (a.active) {
      throw new AlertActionError('conflict', `alert ${id} cannot be resolved while its condition is present (level ${a.level}); acknowledge it instead`);
    }
    return this.humanAction(a, 'resolved', by, note, { state: 'resolved', resolvedBy: by, resolvedAt: this.now() }, within);
  }

  private humanAction(
    a: AlertRecord,
    kind: 'acknowledged' | 'resolved',
    by: string,
    note: string | undefined,
    patch: Partial<AlertRecord>,
    within: ((a: AlertRecord) => void) | undefined,
  ): AlertView {
    const now = this.now();
    this.store.alerts.transaction(() => {
      this.store.alerts.update(a.id, { ...patch, ...(note !== undefined ? { note } : {}) });
      this.store.alerts.addEvent({ alertId: a.id, ts: now, kind, level: a.level, value: null, by, note: note ?? null });
      within?.(a);
    });
    const view = this.get(a.id, SYSTEM_SCOPE)!;
    const verb = kind === 'acknowledged' ? { vi: 'Đã xác nhận', en: 'Acknowledged' } : { vi: 'Đã xử lý xong', en: 'Resolved' };
    const message = { vi: `${verb.vi}: ${view.message.vi} (bởi ${by})`, en: `${verb.en}: ${view.message.en} (by ${by})` };
    const event: AlertHistoryEntry = { ts: now, kind, level: a.level, value: null, by, note: note ?? null };
    const change: AlertChange = { alert: view, event, message };
    this.log.info({ alert: a.id, dev: a.dev, kind, by }, message.en);
    this.emitSafe(change);
    return view;
  }

  get(id: number, scope: DeviceScope): AlertView | undefined {
    const a = this.store.alerts.get(id, scope);
    return a ? this.view(a, this.store.alerts.events([a.id]).get(a.id) ?? []) : undefined;
  }

  list(filter: AlertFilter): AlertView[] {
    const records = this.store.alerts.list(filter);
    const events = this.store.alerts.events(records.map((a) => a.id));
    return records.map((a) => this.view(a, events.get(a.id) ?? []));
  }

  /** The newest unresolved alert of a device, if any. */
  openAlertFor(dev: string, scope: DeviceScope): AlertView | undefined {
    return this.list({ dev, limit: 20, scope }).find((a) => a.state !== 'resolved');
  }

  /** Current level of an episode's condition per (rule, device, metric), for tests and status. */
  levelOf(rule: string, dev: string, metric: string): number {
    return this.targets.get(key(rule, dev, metric))?.level ?? 0;
  }

  private view(a: AlertRecord, events: AlertEventRecord[]): AlertView {
    const device = this.registry.devices.get(a.dev);
    const rule = this.rules.find((r) => r.kind === a.rule);
    const message =
      device && rule
        ? a.active
          ? rule.message(device, a.level, a.lastValue)
          : rule.message(device, 0, a.lastValue, a.maxLevel)
        : { vi: `${a.rule} cấp ${a.level} — ${a.dev}`, en: `${a.rule} level ${a.level} — ${a.dev}` };
    return {
      ...a,
      message,
      device: device
        ? {
            name: device.name,
            ...(device.station ? { station: device.station } : {}),
            ...(device.river ? { river: device.river } : {}),
            communeCode: device.communeCode,
            provinceCode: device.provinceCode,
            lat: device.lat,
            lon: device.lon,
          }
        : null,
      history: events.map(({ ts, kind, level, value, by, note }) => ({ ts, kind, level, value, by, note })),
    };
  }
}
