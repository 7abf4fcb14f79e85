/**
 * Judging a gateway's backlog at its own time. After an outage the gateway sends its newest
 * readings first (the live lane) and the backlog behind them, so the engine's cursors have moved
 * past the backlog when it arrives. Those older readings go here instead, to a second evaluator
 * per target that walks the gap in time order, apart from the live state:
 * - an episode that begins and ends inside the gap is recorded as one "missed while offline"
 *   report (an alert with `missed`, cleared, its levels in its history) — never rung;
 * - an episode still going on where the gap ends is the live episode seen earlier: the live
 *   alert's start moves back to the true start.
 * A gap ends when its target has had no backlog reading for `quietMs` (the tick closes it).
 */
import type { Reading } from '@ioc/shared';
import { SYSTEM_SCOPE, type AlertEventKind, type AlertStore, type Store } from '../store/types.js';
import type { CompiledRule, Evaluator, RuleTarget, Verdict } from './rule.js';

export interface BacklogTarget {
  rule: CompiledRule;
  t: RuleTarget;
  /** The live episode (null: none). */
  alertId: number | null;
  level: number;
}

/** An alert change to announce (the engine's PendingChange). */
export interface BacklogChange {
  alertId: number;
  event: { ts: number; kind: AlertEventKind; level: number; value: number | null; by: null; note: string | null };
  shelved: boolean;
}

interface Gap {
  ev: Evaluator;
  level: number;
  /** The episode inside the gap so far (null: the condition is absent). */
  episode: { start: number; maxLevel: number; steps: Array<{ ts: number; kind: AlertEventKind; level: number; value: number | null }> } | null;
  lastTs: number;
  /** Hub time of the last backlog reading. */
  seenAt: number;
}

export class BacklogJudge {
  private readonly gaps = new Map<BacklogTarget, Gap>();

  constructor(
    private readonly alerts: AlertStore,
    private readonly readings: Pick<Store, 'queryReadings'>,
    private readonly quietMs: number,
  ) {}

  /** An older reading than the live cursor of its input (inside the caller's transaction). */
  reading(target: BacklogTarget, r: Reading, now: number, out: { push(c: BacklogChange): unknown }): void {
    let gap = this.gaps.get(target);
    if (!gap) this.gaps.set(target, (gap = this.open(target, r.ts, now)));
    if (r.ts <= gap.lastTs) return;
    gap.lastTs = r.ts;
    gap.seenAt = now;
    const v = gap.ev.reading(r);
    if (v) this.step(target, gap, v, now, out);
  }

  /** Gaps with no backlog reading for a while are over (inside the caller's transaction). */
  tick(now: number, out: { push(c: BacklogChange): unknown }): void {
    for (const [target, gap] of this.gaps) if (now - gap.seenAt >= this.quietMs) this.close(target, gap, now, out);
  }

  /** A fresh evaluator, warmed up on what is stored just before the gap's first reading. */
  private open(target: BacklogTarget, ts: number, now: number): Gap {
    const ev = target.rule.evaluator(target.t);
    const before: Reading[] = [];
    // Enough history for the rule, and at least the readings just before (a deadband needs them).
    const from = ts - Math.max(ev.historyMs, 15 * 60_000);
    for (const { dev, metric } of target.t.inputs) {
      if (metric === '*') continue;
      const res = this.readings.queryReadings({ dev, metric, from, to: ts - 1, limit: 10_000 }, SYSTEM_SCOPE);
      if (res.kind === 'raw') for (const x of res.rows) before.push({ dev, metric, value: x.value, unit: '', ts: x.ts, q: x.q, ...(x.reason ? { reason: x.reason } : {}) } as Reading);
    }
    before.sort((a, b) => a.ts - b.ts);
    let level = 0;
    for (const x of before) {
      if (x.q === 'bad' && x.reason === 'clock_skew') continue;
      const v = ev.reading(x);
      if (v) level = v.level;
    }
    // A condition already present before the gap belongs to the live episode, not to the gap.
    return { ev, level, episode: null, lastTs: ts - 1, seenAt: now };
  }

  private step(target: BacklogTarget, gap: Gap, v: Verdict, now: number, out: { push(c: BacklogChange): unknown }): void {
    const level = Math.max(0, Math.min(v.level, target.rule.maxLevel));
    if (level === gap.level) return;
    const prev = gap.level;
    gap.level = level;
    if (prev === 0 && level > 0 && !gap.episode) {
      gap.episode = { start: v.ts, maxLevel: level, steps: [{ ts: v.ts, kind: 'raised', level, value: v.value }] };
      return;
    }
    if (!gap.episode) return;
    if (level === 0) {
      gap.episode.steps.push({ ts: v.ts, kind: 'cleared', level: 0, value: v.value });
      this.recordMissed(target, gap.episode, v.ts, now, out);
      gap.episode = null;
      return;
    }
    gap.episode.maxLevel = Math.max(gap.episode.maxLevel, level);
    gap.episode.steps.push({ ts: v.ts, kind: level > prev ? 'escalated' : 'deescalated', level, value: v.value });
  }

  private close(target: BacklogTarget, gap: Gap, now: number, out: { push(c: BacklogChange): unknown }): void {
    this.gaps.delete(target);
    const ep = gap.episode;
    if (!ep) return;
    const live = target.alertId !== null ? this.alerts.get(target.alertId, SYSTEM_SCOPE) : undefined;
    if (live && live.active && live.openedAt > ep.start) {
      // Still going on where the gap ends: the live episode began earlier than the live data says.
      this.alerts.update(live.id, { openedAt: ep.start, maxLevel: Math.max(live.maxLevel, ep.maxLevel) });
      return;
    }
    // Over by the time live data came: it ended somewhere between the gap and the present.
    ep.steps.push({ ts: gap.lastTs, kind: 'cleared', level: 0, value: null });
    this.recordMissed(target, ep, gap.lastTs, now, out);
  }

  private recordMissed(target: BacklogTarget, ep: NonNullable<Gap['episode']>, end: number, now: number, out: { push(c: BacklogChange): unknown }): void {
    const { rule, t } = target;
    const last = ep.steps[ep.steps.length - 1]!;
    const id = this.alerts.insert({
      rule: rule.spec.id, kind: rule.spec.kind, category: rule.category, target: t.key, dev: t.dev, metric: t.metric, gw: t.gw,
      communeCode: t.area.communeCode, provinceCode: t.area.provinceCode, level: 0, maxLevel: ep.maxLevel, state: 'cleared', active: false,
      stale: false, late: false, missed: true, flaps: 0, exercise: rule.spec.exercise === true, openedAt: ep.start, updatedAt: end, clearedAt: end,
      acknowledgedBy: null, acknowledgedAt: null, closedBy: null, closedAt: null, assignee: null, shelvedUntil: null, shelvedBy: null,
      note: null, lastValue: last.value, riskLevel: null, riskConfirmedBy: null, riskConfirmedAt: null,
    });
    for (const s of ep.steps) this.alerts.addEvent({ alertId: id, ts: s.ts, kind: s.kind, level: s.level, value: s.value, by: null, note: null });
    const event = { ts: now, kind: 'missed' as const, level: 0, value: null, by: null, note: null };
    this.alerts.addEvent({ alertId: id, ...event });
    out.push({ alertId: id, event, shelved: false });
  }
}
