/**
 * Alert engine: feeds each rule target's evaluator (./rule.ts) its readings in event-time order,
 * the clock and gateway status, and keeps one durable episode per (rule, target) from the levels
 * they return: raised → escalated / deescalated → cleared, reopened when it flaps back soon.
 * People's actions on alerts are ./lifecycle.ts; what the API shows is ./views.ts.
 *
 * Event time. Each input (device, metric) has one cursor: the newest measurement time judged.
 * A reading at or before it (a backlog drained after live data) is stored as history but judges
 * nothing. Every rule sees the same readings, so the cursor is the engine's, not a rule's: a rule
 * added later judges what arrives after it. A reading judged more than `lateAfterMs` after it was measured is late: an
 * episode it raises is recorded at its true start but not announced; if it clears while the data
 * is still late it becomes a "missed while offline" report (never rung), and if it is still going
 * on when live data arrives (or after `lateHoldMs` without more) it is announced with its start.
 *
 * Silence never clears an episode: a target whose readings stop is marked stale (and fresh again
 * when they return); only readings — or the no-data rule's own alert — speak about it.
 *
 * On the ingest path the rules run inside the telemetry group's transaction (stage()): readings,
 * alert state and cursors commit together, and "change" is emitted after that commit. If the
 * transaction is rolled back, the touched targets are restored from the database.
 */
import { EventEmitter } from 'node:events';
import type { Logger, Reading } from '@ioc/shared';
import type { Registry } from '../config/registry.js';
import { SYSTEM_SCOPE, type AlertEventKind, type AlertRecord, type AlertStore, type Store } from '../store/types.js';
import type { AlertChange, AlertHistoryEntry } from './types.js';
import type { ArrivingWith, CompiledRule, Evaluator, GatewayObservation, RuleTarget, Verdict } from './rule.js';
import { BacklogJudge } from './backlog.js';
import type { AlertViews } from './views.js';

export interface AlertEngineOptions {
  alerts: AlertStore;
  /** Stored readings, for catching up and warming evaluators up at start and after a rule change. */
  readings: Pick<Store, 'queryReadings'>;
  registry: Registry;
  rules: readonly CompiledRule[];
  views: AlertViews;
  logger: Logger;
  now?: () => number;
  /** Readings dated further than this in the future (a gateway clock gone wrong) are not evaluated. */
  maxFutureSkewMs?: number;
  /** How far back a target the engine has never evaluated is caught up at start. */
  catchUpWindowMs?: number;
  lateAfterMs?: number;
  /** A late episode still going on is announced after this long without more of its readings. */
  lateHoldMs?: number;
  /** A condition back within this long of clearing reopens its alert. */
  flapWindowMs?: number;
  gatewayOnline?: (gw: string) => boolean;
}

interface Target {
  /** rule id + NUL + target key */
  key: string;
  rule: CompiledRule;
  t: RuleTarget;
  ev: Evaluator;
  /** Measurement time of the newest reading judged in the current call (-1: none). */
  judgedTs: number;
  level: number;
  maxLevel: number;
  alertId: number | null;
  late: boolean;
  stale: boolean;
  /** Hub time the newest reading of the target was judged (for staleness and late holds). */
  seenAt: number;
  /** The last cleared episode, for flapping. */
  cleared: { id: number; ts: number; acknowledged: boolean } | null;
  shelvedUntil: number;
}

type Episode = Pick<Target, 'level' | 'maxLevel' | 'alertId' | 'late' | 'stale' | 'seenAt' | 'cleared'>;

export interface PendingChange {
  alertId: number;
  event: AlertHistoryEntry;
  shelved: boolean;
}

type EngineEvents = { change: [AlertChange] };

/**
 * Alert work inside a caller's transaction (the telemetry group commit). evaluate() writes at once
 * (a savepoint: all of that call or nothing); the changes are announced on commit(), and on
 * rollback() the touched targets are restored from the database.
 */
export interface AlertStaging {
  evaluate(readings: readonly Reading[]): void;
  commit(): AlertChange[];
  rollback(): void;
}

/** The rule column of the engine's cursors in alert_cursors (one cursor per input for all rules). */
const ENGINE_CURSOR = '*';
export const targetKey = (rule: string, target: string) => `${rule}\u0000${target}`;

const NONE: readonly Reading[] = [];

/** A batch's readings by (device, metric). */
function inputsOf(batch: readonly Reading[]): ArrivingWith {
  const byDev = new Map<string, Map<string, Reading[]>>();
  for (const r of batch) {
    let m = byDev.get(r.dev);
    if (!m) byDev.set(r.dev, (m = new Map()));
    const list = m.get(r.metric);
    if (list) list.push(r);
    else m.set(r.metric, [r]);
  }
  return { of: (dev, metric) => byDev.get(dev)?.get(metric) ?? NONE };
}

function inTimeOrder(rs: readonly Reading[]): boolean {
  for (let i = 1; i < rs.length; i++) if (rs[i]!.ts < rs[i - 1]!.ts) return false;
  return true;
}

export class AlertEngine extends EventEmitter<EngineEvents> {
  private readonly alerts: AlertStore;
  private readonly readings: Pick<Store, 'queryReadings'>;
  private readonly views: AlertViews;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxFutureSkewMs: number;
  private readonly catchUpWindowMs: number;
  private readonly lateAfterMs: number;
  private readonly lateHoldMs: number;
  private readonly flapWindowMs: number;
  private readonly gatewayOnline: (gw: string) => boolean;
  private rules: readonly CompiledRule[] = [];
  private targets = new Map<string, Target>();
  /** dev → metric ('*' for all) → targets: two lookups per reading, never a scan of the rules. */
  private byInput = new Map<string, Map<string, Target[]>>();
  private byGateway = new Map<string, Target[]>();
  /** dev → metric → newest measurement time judged. */
  private cursors = new Map<string, Map<string, number>>();
  private ticking: Target[] = [];
  /** Inside a staging: targets touched, with their episode before it (for rollback). */
  private touched: Map<Target, Episode> | null = null;
  private futureWarned = 0;
  private readonly backlog: BacklogJudge;

  constructor(opts: AlertEngineOptions) {
    super();
    this.alerts = opts.alerts;
    this.readings = opts.readings;
    this.views = opts.views;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.maxFutureSkewMs = opts.maxFutureSkewMs ?? 10 * 60_000;
    this.catchUpWindowMs = opts.catchUpWindowMs ?? 24 * 3_600_000;
    this.lateAfterMs = opts.lateAfterMs ?? 120_000;
    this.lateHoldMs = opts.lateHoldMs ?? 30_000;
    this.flapWindowMs = opts.flapWindowMs ?? 30 * 60_000;
    this.gatewayOnline = opts.gatewayOnline ?? (() => true);
    this.backlog = new BacklogJudge(this.alerts, this.readings, this.lateHoldMs);
    this.index(opts.rules);
  }

  /** The rules in force, in order. */
  get compiledRules(): readonly CompiledRule[] {
    return this.rules;
  }

  private index(rules: readonly CompiledRule[]): void {
    const old = this.targets;
    this.rules = rules.filter((r) => r.spec.enabled !== false);
    this.targets = new Map();
    this.byInput = new Map();
    this.byGateway = new Map();
    this.ticking = [];
    for (const rule of this.rules) {
      for (const t of rule.targets) {
        const key = targetKey(rule.spec.id, t.key);
        const prev = old.get(key);
        const target: Target = {
          key, rule, t, ev: rule.evaluator(t), judgedTs: -1, level: 0, maxLevel: 0, alertId: null,
          late: false, stale: false, seenAt: this.now(), cleared: null, shelvedUntil: 0,
          ...(prev ? { level: prev.level, maxLevel: prev.maxLevel, alertId: prev.alertId, late: prev.late, stale: prev.stale, seenAt: prev.seenAt, cleared: prev.cleared, shelvedUntil: prev.shelvedUntil } : {}),
        };
        this.targets.set(key, target);
        for (const { dev, metric } of t.inputs) {
          let m = this.byInput.get(dev);
          if (!m) this.byInput.set(dev, (m = new Map()));
          const list = m.get(metric);
          if (list) list.push(target);
          else m.set(metric, [target]);
        }
        if (t.gateway) this.byGateway.set(t.gateway, [...(this.byGateway.get(t.gateway) ?? []), target]);
        if (target.ev.tick || t.staleAfterMs !== Number.POSITIVE_INFINITY) this.ticking.push(target);
      }
    }
  }

  /** Restores state from the store, closes episodes no rule watches any more, warms up and catches up. */
  start(): void {
    this.loadCursors();
    for (const s of this.alerts.shelves()) {
      const t = this.targets.get(targetKey(s.rule, s.target));
      if (t) t.shelvedUntil = s.until;
    }
    this.restoreEpisodes();
    for (const t of this.targets.values()) this.warmUp(t);
    this.catchUp();
    const active = [...this.targets.values()].filter((t) => t.alertId !== null).length;
    this.log.info({ rules: this.rules.length, targets: this.targets.size, active }, 'alert engine started');
  }

  /** The engine's cursors from the database (rows of older versions, per rule, count too). */
  private loadCursors(): void {
    this.cursors = new Map();
    for (const c of this.alerts.cursors()) {
      let m = this.cursors.get(c.dev);
      if (!m) this.cursors.set(c.dev, (m = new Map()));
      m.set(c.metric, Math.max(m.get(c.metric) ?? -1, c.lastTs));
    }
  }

  private cursorOf(dev: string, metric: string): number | undefined {
    return this.cursors.get(dev)?.get(metric);
  }

  private restoreEpisodes(): void {
    const orphans: AlertRecord[] = [];
    for (const a of this.alerts.active()) {
      const t = this.targets.get(targetKey(a.rule, a.target));
      if (!t || t.alertId !== null) {
        orphans.push(a);
        continue;
      }
      Object.assign(t, { alertId: a.id, level: a.level, maxLevel: a.maxLevel, late: a.late, stale: a.stale });
    }
    if (!orphans.length) return;
    const now = this.now();
    this.alerts.transaction(() => {
      for (const a of orphans) {
        this.alerts.update(a.id, { level: 0, active: false, late: false, state: a.state === 'closed' ? 'closed' : 'cleared', clearedAt: now, updatedAt: now });
        this.alerts.addEvent({ alertId: a.id, ts: now, kind: 'cleared', level: 0, value: null, by: 'hub', note: 'no rule watches this target any more (rules or registry changed)' });
      }
    });
    this.log.warn({ alerts: orphans.map((a) => a.id) }, 'cleared active alerts whose rule or target is no longer configured');
  }

  /** Replays the history an evaluator needs before the next reading (no episode changes). */
  private warmUp(t: Target): void {
    t.ev = t.rule.evaluator(t.t);
    t.ev.restore?.(t.level);
    if (t.ev.historyMs <= 0) return;
    const rows: Reading[] = [];
    for (const { dev, metric } of t.t.inputs) {
      const cursor = this.cursorOf(dev, metric);
      if (cursor === undefined || metric === '*') continue;
      const res = this.readings.queryReadings({ dev, metric, from: cursor - t.ev.historyMs, to: cursor, limit: 100_000 }, SYSTEM_SCOPE);
      if (res.kind === 'raw') for (const r of res.rows) rows.push({ dev, metric, value: r.value, unit: '', ts: r.ts, q: r.q, ...(r.reason ? { reason: r.reason } : {}) } as Reading);
    }
    rows.sort((a, b) => a.ts - b.ts);
    for (const r of rows) if (!(r.q === 'bad' && r.reason === 'clock_skew')) t.ev.reading(r);
    t.ev.restore?.(t.level);
  }

  /** Readings stored while the engine did not see them (`ioc-hub import`, a failed evaluation). */
  private catchUp(): void {
    const pageSize = 5000;
    const inputs = new Map<string, { dev: string; metric: string }>();
    for (const t of this.targets.values()) for (const i of t.t.inputs) if (i.metric !== '*') inputs.set(`${i.dev}\u0000${i.metric}`, i);
    for (const { dev, metric } of inputs.values()) {
      const cursor = this.cursorOf(dev, metric);
      let from = cursor !== undefined ? cursor + 1 : Math.max(0, this.now() - this.catchUpWindowMs);
      let n = 0;
      for (;;) {
        const res = this.readings.queryReadings({ dev, metric, from, to: this.now() + this.maxFutureSkewMs, limit: pageSize }, SYSTEM_SCOPE);
        if (res.kind !== 'raw' || !res.rows.length) break;
        const rows = res.rows.map((r) => ({ dev, metric, value: r.value, unit: '', ts: r.ts, q: r.q, ...(r.reason ? { reason: r.reason } : {}) }) as Reading);
        this.evaluate(rows);
        n += rows.length;
        if (rows.length < pageSize) break;
        const lastTs = rows[rows.length - 1]!.ts;
        from = lastTs > from ? lastTs : from + 1;
      }
      if (n) this.log.info({ dev, metric, readings: n }, 'alert rules caught up with stored readings');
    }
  }

  /** Replaces the rules in force (a rule changed through the API): episodes of kept targets go on. */
  replaceRules(rules: readonly CompiledRule[]): void {
    const before = new Set(this.targets.keys());
    this.index(rules);
    for (const key of before) if (!this.targets.has(key)) this.dropTarget(key);
    // A new target judges what arrives from now on (the engine's cursors); a backtest judges the past.
    for (const t of this.targets.values()) this.warmUp(t);
  }

  private dropTarget(key: string): void {
    const [rule, target] = key.split('\u0000') as [string, string];
    const a = this.alerts.latestOf(rule, target);
    if (!a || (!a.active && !a.late)) return;
    const now = this.now();
    this.alerts.transaction(() => {
      this.alerts.update(a.id, { level: 0, active: false, late: false, state: 'cleared', clearedAt: now, updatedAt: now });
      this.alerts.addEvent({ alertId: a.id, ts: now, kind: 'cleared', level: 0, value: null, by: 'hub', note: 'the rule no longer watches this target (rule changed)' });
    });
    this.announce([{ alertId: a.id, event: { ts: now, kind: 'cleared', level: 0, value: null, by: 'hub', note: 'rule changed' }, shelved: false }]);
  }

  /** Evaluates freshly stored readings in a transaction of its own; returns the announced changes. */
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

  /**
   * Whether judging `batch` might change an alert (raise, escalate, clear, announce), asked before
   * it is judged so that ingest can commit it ahead of routine batches. Looks only at the targets
   * indexed under each reading's (device, metric), never at every rule; each evaluator answers
   * for itself (Evaluator.wouldChange). Readings that would be judged apart or quietly (older than
   * the cursor, late, dated in the future) change nothing announced now.
   */
  mayChange(batch: readonly Reading[]): boolean {
    const now = this.now();
    // Built only if an evaluator asks (a composite rule with several metrics).
    let inputs: ArrivingWith | null = null;
    const arriving: ArrivingWith = { of: (dev, metric) => (inputs ??= inputsOf(batch)).of(dev, metric) };
    for (const r of batch) {
      const m = this.byInput.get(r.dev);
      if (!m) continue;
      const exact = m.get(r.metric);
      const any = m.get('*');
      if (!exact && !any) continue;
      const cursor = this.cursorOf(r.dev, r.metric);
      if ((cursor !== undefined && r.ts <= cursor) || r.ts > now + this.maxFutureSkewMs || r.ts < now - this.lateAfterMs) continue;
      if (exact && this.anyMayChange(exact, r, arriving)) return true;
      if (any && this.anyMayChange(any, r, arriving)) return true;
    }
    return false;
  }

  private anyMayChange(targets: readonly Target[], r: Reading, batch: ArrivingWith): boolean {
    for (const t of targets) {
      // Live data for a stale or late episode: it is announced fresh or going on.
      if (t.alertId !== null && (t.stale || t.late) && r.q !== 'bad') return true;
      try {
        if (t.ev.wouldChange?.(r, batch)) return true;
      } catch {
        // Unsure; the judgement itself reports what is wrong with the rule.
        return true;
      }
    }
    return false;
  }

  /** Starts alert work inside a caller's transaction (see AlertStaging). */
  stage(): AlertStaging {
    const pending: PendingChange[] = [];
    const touched = new Map<Target, Episode>();
    let open = true;
    const check = () => {
      if (!open) throw new Error('alert staging already committed or rolled back');
    };
    return {
      evaluate: (readings) => {
        check();
        const mark = pending.length;
        const prevTouched = this.touched;
        this.touched = touched;
        try {
          this.alerts.transaction(() => this.evaluateInto(readings, pending));
        } catch (err) {
          pending.length = mark;
          throw err;
        } finally {
          this.touched = prevTouched;
        }
      },
      commit: () => {
        check();
        open = false;
        return this.announce(pending);
      },
      rollback: () => {
        open = false;
        // The evaluators moved on with readings the database does not have: rebuild them.
        if (!touched.size) return;
        this.loadCursors();
        for (const [t, ep] of touched) {
          Object.assign(t, ep);
          this.warmUp(t);
        }
      },
    };
  }

  private touch(t: Target): void {
    if (this.touched && !this.touched.has(t)) {
      this.touched.set(t, { level: t.level, maxLevel: t.maxLevel, alertId: t.alertId, late: t.late, stale: t.stale, seenAt: t.seenAt, cleared: t.cleared });
    }
  }

  /**
   * One pass over the readings in time order: each advances its input's cursor once and goes to
   * the targets of its (device, metric) and of its device's every metric ('*'). Two map lookups per
   * reading, whatever the number of rules.
   */
  private evaluateInto(readings: readonly Reading[], pending: PendingChange[]): void {
    const now = this.now();
    // Usually in time order already; the sort is stable, so equal times keep their seq order.
    const rs = inTimeOrder(readings) ? readings : [...readings].sort((a, b) => a.ts - b.ts);
    const judged = new Set<Target>();
    /** Targets with a reading that is not q bad: their data is live (a sensor sending only errors stays stale). */
    const heard = new Set<Target>();
    const moved = new Map<string, Map<string, number>>();
    for (const r of rs) {
      const m = this.byInput.get(r.dev);
      if (!m) continue;
      const exact = m.get(r.metric);
      const any = m.get('*');
      if (!exact && !any) continue;
      // The hub found its ts outside its window (admission.ts): it says nothing about now.
      if (r.q === 'bad' && r.reason === 'clock_skew') continue;
      let cursors = this.cursors.get(r.dev);
      if (!cursors) this.cursors.set(r.dev, (cursors = new Map()));
      const cursor = cursors.get(r.metric) ?? -1;
      if (r.ts <= cursor) {
        // Older than what is judged: a backlog after the live lane, judged at its own time apart.
        // (A second reading of the same time says nothing new.)
        if (r.ts === cursor) continue;
        if (exact) for (const t of exact) this.backlog.reading(t, r, now, pending);
        if (any) for (const t of any) this.backlog.reading(t, r, now, pending);
        continue;
      }
      if (r.ts > now + this.maxFutureSkewMs) {
        if (now - this.futureWarned > 60_000) {
          this.futureWarned = now;
          this.log.warn({ dev: r.dev, metric: r.metric, ts: r.ts, now }, 'reading dated in the future: stored, not evaluated by alert rules (gateway clock?)');
        }
        continue;
      }
      cursors.set(r.metric, r.ts);
      let mv = moved.get(r.dev);
      if (!mv) moved.set(r.dev, (mv = new Map()));
      mv.set(r.metric, r.ts);
      const late = r.ts < now - this.lateAfterMs;
      if (exact) for (const t of exact) this.judge(t, r, now, late, judged, pending);
      if (any) for (const t of any) this.judge(t, r, now, late, judged, pending);
      if (r.q !== 'bad') {
        if (exact) for (const t of exact) heard.add(t);
        if (any) for (const t of any) heard.add(t);
      }
    }
    for (const [dev, mv] of moved) for (const [metric, ts] of mv) this.alerts.setCursor({ rule: ENGINE_CURSOR, dev, metric, lastTs: ts });
    for (const t of heard) {
      t.seenAt = now;
      if (t.stale && t.alertId !== null) {
        t.stale = false;
        this.alerts.update(t.alertId, { stale: false, updatedAt: now });
        pending.push(this.event(t, 'fresh', t.level, null, t.judgedTs));
      }
      // Live data while a late episode goes on: it is happening now; announce it with its start.
      if (t.late && t.alertId !== null && t.judgedTs >= now - this.lateAfterMs) this.announceLate(t, now, pending);
    }
  }

  private judge(t: Target, r: Reading, now: number, late: boolean, judged: Set<Target>, pending: PendingChange[]): void {
    if (!judged.has(t)) {
      this.touch(t);
      judged.add(t);
    }
    t.judgedTs = r.ts;
    const v = t.ev.reading(r);
    if (v) this.apply(t, v, now, late, pending);
  }

  /** Applies one verdict to the target's episode (inside the transaction). */
  private apply(t: Target, v: Verdict, now: number, late: boolean, pending: PendingChange[]): void {
    const level = Math.max(0, Math.min(v.level, t.rule.maxLevel));
    if (level === t.level) return;
    this.touch(t);
    // A late episode still going on when live data judges it: it is happening now.
    if (t.alertId !== null && t.late && !late) this.announceLate(t, now, pending);
    let kind: AlertEventKind;
    if (t.alertId === null) {
      if (level === 0) return;
      const flap = t.cleared && v.ts - t.cleared.ts <= this.flapWindowMs ? this.alerts.get(t.cleared.id, SYSTEM_SCOPE) : undefined;
      if (flap && flap.state === 'cleared' && !flap.missed) {
        kind = 'reopened';
        t.alertId = flap.id;
        t.maxLevel = Math.max(flap.maxLevel, level);
        this.alerts.update(flap.id, {
          level, maxLevel: t.maxLevel, active: true, state: flap.acknowledgedAt !== null ? 'acknowledged' : 'open', clearedAt: null,
          flaps: flap.flaps + 1, updatedAt: v.ts, lastValue: v.value, late, stale: false,
        });
      } else {
        kind = 'raised';
        t.maxLevel = level;
        t.alertId = this.alerts.insert({
          rule: t.rule.spec.id, kind: t.rule.spec.kind, category: t.rule.category, target: t.t.key, dev: t.t.dev, metric: t.t.metric, gw: t.t.gw,
          communeCode: t.t.area.communeCode, provinceCode: t.t.area.provinceCode, level, maxLevel: level, state: 'open', active: true,
          stale: false, late, missed: false, flaps: 0, exercise: t.rule.spec.exercise === true, openedAt: v.ts, updatedAt: v.ts, clearedAt: null,
          acknowledgedBy: null, acknowledgedAt: null, closedBy: null, closedAt: null, assignee: null,
          shelvedUntil: t.shelvedUntil > now ? t.shelvedUntil : null, shelvedBy: null, note: null, lastValue: v.value,
          riskLevel: null, riskConfirmedBy: null, riskConfirmedAt: null,
        });
      }
      t.late = late;
      t.cleared = null;
    } else if (level === 0) {
      kind = 'cleared';
      const missed = t.late;
      this.alerts.update(t.alertId, { level: 0, active: false, state: 'cleared', clearedAt: v.ts, updatedAt: v.ts, lastValue: v.value, late: false, stale: false, missed });
      t.cleared = missed ? null : { id: t.alertId, ts: v.ts, acknowledged: false };
    } else if (level > t.level) {
      kind = 'escalated';
      t.maxLevel = Math.max(t.maxLevel, level);
      // A worse level needs a person's eyes again: an acknowledged episode is open again.
      this.alerts.update(t.alertId, { level, maxLevel: t.maxLevel, updatedAt: v.ts, lastValue: v.value, state: 'open' });
    } else {
      kind = 'deescalated';
      this.alerts.update(t.alertId, { level, updatedAt: v.ts, lastValue: v.value });
    }
    const alertId = t.alertId;
    this.alerts.addEvent({ alertId, ts: v.ts, kind, level, value: v.value, by: null, note: null });
    const wasLate = t.late;
    t.level = level;
    if (kind === 'cleared') {
      t.alertId = null;
      t.maxLevel = 0;
      t.stale = false;
      if (wasLate) {
        // Began and ended while the data was late: a report of a missed episode, not an alarm.
        t.late = false;
        this.alerts.addEvent({ alertId, ts: now, kind: 'missed', level: 0, value: null, by: null, note: null });
        pending.push({ alertId, event: { ts: now, kind: 'missed', level: 0, value: null, by: null, note: null }, shelved: false });
        return;
      }
    }
    // Changes of an episode nobody has been told about stay quiet until it is announced.
    if (!wasLate) pending.push({ alertId, event: { ts: v.ts, kind, level, value: v.value, by: null, note: null }, shelved: t.shelvedUntil > now });
  }

  private event(t: Target, kind: AlertEventKind, level: number, value: number | null, ts: number): PendingChange {
    this.alerts.addEvent({ alertId: t.alertId!, ts, kind, level, value, by: null, note: null });
    return { alertId: t.alertId!, event: { ts, kind, level, value, by: null, note: null }, shelved: t.shelvedUntil > this.now() };
  }

  private announceLate(t: Target, now: number, pending: PendingChange[]): void {
    t.late = false;
    this.alerts.update(t.alertId!, { late: false });
    pending.push(this.event(t, 'announced', t.level, null, now));
  }

  /**
   * The clock: waiting periods and silence (rules with a tick), stale marks, late episodes whose
   * backlog ended. Runs in a transaction of its own; the hub calls it every `alerts.tickS`.
   */
  tick(): AlertChange[] {
    const now = this.now();
    const pending: PendingChange[] = [];
    const ctx = { now, gatewayOnline: this.gatewayOnline };
    this.alerts.transaction(() => {
      for (const t of this.ticking) {
        if (t.ev.tick) {
          const v = t.ev.tick(ctx);
          if (v) this.apply(t, v, now, false, pending);
        }
        if (t.alertId !== null && !t.stale && now - t.seenAt >= t.t.staleAfterMs) {
          t.stale = true;
          this.alerts.update(t.alertId, { stale: true });
          pending.push(this.event(t, 'stale', t.level, null, now));
        }
      }
      for (const t of this.targets.values()) {
        if (t.late && t.alertId !== null && now - t.seenAt >= this.lateHoldMs) this.announceLate(t, now, pending);
      }
      this.backlog.tick(now, pending);
    });
    return this.announce(pending);
  }

  /** A gateway's status or online flag changed (ingest, after storing it). */
  observeGateway(o: GatewayObservation): AlertChange[] {
    const targets = this.byGateway.get(o.gw);
    if (!targets) return [];
    const pending: PendingChange[] = [];
    this.alerts.transaction(() => {
      for (const t of targets) {
        const v = t.ev.gateway?.(o);
        if (v) this.apply(t, v, o.at, false, pending);
      }
    });
    return this.announce(pending);
  }

  /** Shelving of a target changed (./lifecycle.ts writes it). */
  setShelf(rule: string, target: string, until: number): void {
    const t = this.targets.get(targetKey(rule, target));
    if (t) t.shelvedUntil = until;
  }

  /** Emits committed changes; a failing listener or view must not undo them. */
  announce(pending: readonly PendingChange[]): AlertChange[] {
    const changes: AlertChange[] = [];
    for (const p of pending) {
      try {
        const alert = this.views.get(p.alertId, SYSTEM_SCOPE);
        if (!alert) continue;
        const change: AlertChange = { alert, event: p.event, message: this.views.changeMessage(alert, p.event), shelved: p.shelved };
        changes.push(change);
        this.log.info({ alert: alert.id, rule: alert.rule, target: alert.target, kind: p.event.kind, alertLevel: p.event.level, value: p.event.value, vi: change.message.vi }, change.message.en);
        this.emit('change', change);
      } catch (err) {
        this.log.error({ err, alert: p.alertId }, 'announcing a committed alert change failed');
      }
    }
    return changes;
  }

  /** Current level of a (rule, target), for tests and status. */
  levelOf(rule: string, target: string): number {
    return this.targets.get(targetKey(rule, target))?.level ?? 0;
  }
}
