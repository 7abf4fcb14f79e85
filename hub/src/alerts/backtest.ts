/**
 * Backtest: what a compiled rule WOULD have raised over a past window of stored readings, before
 * it is saved. Each target gets a fresh evaluator (the kind's own, with its deadband and hold
 * time) fed its stored readings in event-time order, with a clock tick every `tickMs` of event
 * time (from the target's first reading) for kinds that judge silence; levels become episodes the way the engine makes them
 * (raised, escalated/de-escalated, cleared, reopened within the flap window).
 *
 * Data flows one way: this reads the store and nothing else. It never touches the running
 * engine, its cursors or the alerts table, and writes nothing, so it can run at any time.
 *
 * What it cannot replay: the gateways' status history (gateway-offline, gateway-problem targets
 * have no stored readings): those targets are counted as not replayed. During ticks every gateway
 * counts as online (its history is not stored either).
 */
import type { Reading } from '@ioc/shared';
import type { DeviceScope, Store } from '../store/types.js';
import { scopeHas } from '../store/types.js';
import type { CompiledRule, LocalizedText, RuleTarget, Severity, Verdict } from './rule.js';

export interface BacktestOptions {
  store: Pick<Store, 'queryReadings' | 'latest'>;
  /** Whose readings may be read (targets outside it are left out and counted). */
  scope: DeviceScope;
  from: number;
  to: number;
  /** Event-time step of the clock for kinds with a tick (no-data…). */
  tickMs?: number;
  /** A condition back within this long of clearing reopens its episode (the engine's flap window). */
  flapWindowMs?: number;
  /** At most this many readings are read; past it the window is cut short (`capped`). */
  maxReadings?: number;
  /** At most this many episodes are listed (the totals count all). */
  maxEpisodes?: number;
}

export interface BacktestEpisode {
  target: string;
  dev: string | null;
  metric: string | null;
  place: LocalizedText;
  start: number;
  /** null: still open at the end of the window. */
  end: number | null;
  maxLevel: number;
  maxLabel: LocalizedText;
  severity: Severity;
  /** Value that decided the peak level. */
  peakValue: number | null;
  /** Level changes while open (escalations and de-escalations). */
  changes: number;
  /** Times it cleared and came back within the flap window (one episode, as the engine keeps it). */
  reopened: number;
}

export interface BacktestResult {
  rule: string;
  kind: string;
  enabled: boolean;
  from: number;
  to: number;
  /** Where the judged window really ends (before `to` when capped). */
  coveredTo: number;
  tickMs: number;
  readings: number;
  capped: boolean;
  maxReadings: number;
  targets: number;
  /** Targets fed only by gateway status, which is not stored as history. */
  notReplayed: number;
  /** Targets outside the caller's scope. */
  outOfScope: number;
  episodes: BacktestEpisode[];
  episodesListed: number;
  totals: {
    episodes: number;
    open: number;
    targetsWithEpisodes: number;
    /** Episodes per peak level, e.g. {"1": 2, "3": 1}. */
    byMaxLevel: Record<string, number>;
    /** Time spent at a level above 0, summed over targets (ms). */
    alertMs: number;
  };
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export const BACKTEST_DEFAULTS = { tickMs: 60_000, flapWindowMs: 30 * 60_000, maxReadings: 200_000, maxEpisodes: 500 } as const;

interface InputRows {
  rows: Reading[];
  /** The budget ran out inside this input: rows stop at the last one read. */
  cut: boolean;
}

/** Reads each distinct input once, oldest first, within the budget. */
async function loadInputs(targets: readonly RuleTarget[], o: Required<Pick<BacktestOptions, 'store' | 'scope' | 'from' | 'to' | 'maxReadings'>>) {
  /** dev → metric → its rows */
  const byInput = new Map<string, Map<string, InputRows>>();
  let budget = o.maxReadings;
  let coveredTo = o.to;
  const pageSize = 5000;
  for (const t of targets) {
    for (const { dev, metric } of t.inputs) {
      // '*' = every metric of the device: the ones it has stored.
      const metrics = metric === '*' ? o.store.latest(dev, o.scope).map((l) => l.metric) : [metric];
      for (const m of metrics) {
        let ofDev = byInput.get(dev);
        if (!ofDev) byInput.set(dev, (ofDev = new Map()));
        if (ofDev.has(m)) continue;
        const entry: InputRows = { rows: [], cut: false };
        ofDev.set(m, entry);
        let from = o.from;
        for (;;) {
          if (budget === 0) {
            // Out of budget: if this input has more, the judged window ends where its rows stop.
            const probe = o.store.queryReadings({ dev, metric: m, from, to: o.to, limit: 1 }, o.scope);
            if (probe.kind === 'raw' && probe.rows.length) {
              entry.cut = true;
              coveredTo = Math.min(coveredTo, entry.rows.at(-1)?.ts ?? o.from);
            }
            break;
          }
          const limit = Math.min(pageSize, budget);
          const res = o.store.queryReadings({ dev, metric: m, from, to: o.to, limit }, o.scope);
          if (res.kind !== 'raw' || !res.rows.length) break;
          for (const r of res.rows) entry.rows.push({ dev, metric: m, value: r.value, unit: '', ts: r.ts, q: r.q, ...(r.reason ? { reason: r.reason } : {}) } as Reading);
          budget -= res.rows.length;
          // One page at a time: ingest and the live engine share this thread.
          await yieldToEventLoop();
          if (res.rows.length < limit) break;
          // Rows of the same time as the last one say nothing new (the engine skips them too).
          from = res.rows[res.rows.length - 1]!.ts + 1;
        }
      }
    }
  }
  const capped = [...byInput.values()].some((ofDev) => [...ofDev.values()].some((e) => e.cut));
  return { byInput, capped, coveredTo: capped ? coveredTo : o.to, read: o.maxReadings - budget };
}

/**
 * Runs one compiled rule over the stored readings of [from, to]. Reads only; yields to the event
 * loop between pages so a long window does not hold up ingest (200k readings take about 2 s).
 */
export async function backtestRule(rule: CompiledRule, opts: BacktestOptions): Promise<BacktestResult> {
  const tickMs = opts.tickMs ?? BACKTEST_DEFAULTS.tickMs;
  const flapWindowMs = opts.flapWindowMs ?? BACKTEST_DEFAULTS.flapWindowMs;
  const maxReadings = opts.maxReadings ?? BACKTEST_DEFAULTS.maxReadings;
  const maxEpisodes = opts.maxEpisodes ?? BACKTEST_DEFAULTS.maxEpisodes;
  const inScope = rule.targets.filter((t) => (t.dev === null ? true : scopeHas(opts.scope, t.dev)));
  const replayable = inScope.filter((t) => t.inputs.length > 0);
  const { byInput, capped, coveredTo, read } = await loadInputs(replayable, { store: opts.store, scope: opts.scope, from: opts.from, to: opts.to, maxReadings });

  const episodes: BacktestEpisode[] = [];
  let alertMs = 0;
  const ctx = { now: opts.from, gatewayOnline: () => true };
  for (const t of replayable) {
    const ev = rule.evaluator(t);
    const rows: Reading[] = [];
    const seen = new Set<InputRows>();
    for (const { dev, metric } of t.inputs) {
      const ofDev = byInput.get(dev);
      if (!ofDev) continue;
      for (const e of metric === '*' ? ofDev.values() : [ofDev.get(metric)]) {
        if (!e || seen.has(e)) continue;
        seen.add(e);
        for (const r of e.rows) if (r.ts <= coveredTo) rows.push(r);
      }
    }
    // Stable: equal times keep their order, as in the engine.
    rows.sort((a, b) => a.ts - b.ts);
    let level = 0;
    let open: BacktestEpisode | null = null;
    let last: BacktestEpisode | null = null;
    let openedAt = 0;
    const apply = (v: Verdict | undefined) => {
      if (!v) return;
      const l = Math.max(0, Math.min(v.level, rule.maxLevel));
      if (l === level) return;
      if (!open) {
        if (l === 0) return;
        if (last && last.end !== null && v.ts - last.end <= flapWindowMs) {
          open = last;
          open.end = null;
          open.reopened++;
        } else {
          open = { target: t.key, dev: t.dev, metric: t.metric, place: t.place, start: v.ts, end: null, maxLevel: 0, maxLabel: rule.levelLabel(l, t), severity: rule.severity(l), peakValue: v.value, changes: 0 , reopened: 0 };
          episodes.push(open);
        }
        openedAt = v.ts;
      } else if (l === 0) {
        open.end = v.ts;
        alertMs += v.ts - openedAt;
        last = open;
        open = null;
      } else {
        open.changes++;
      }
      if (open && l > open.maxLevel) {
        open.maxLevel = l;
        open.maxLabel = rule.levelLabel(l, t);
        open.severity = rule.severity(l);
        open.peakValue = v.value;
      }
      level = l;
    };
    const cursors = new Map<string, number>();
    // The clock starts with the target's first stored reading: silence before it is the store's
    // beginning (or the device's installation), not a device gone quiet.
    let nextTick = rows.length ? rows[0]!.ts + tickMs : Number.POSITIVE_INFINITY;
    const tickUntil = (ts: number) => {
      if (!ev.tick) return;
      for (; nextTick <= ts; nextTick += tickMs) {
        ctx.now = nextTick;
        apply(ev.tick(ctx));
      }
    };
    let n = 0;
    for (const r of rows) {
      if (++n % 20_000 === 0) await yieldToEventLoop();
      tickUntil(r.ts);
      // As the engine: a hub-flagged clock error says nothing; a second reading of the same time says nothing new.
      if (r.q === 'bad' && r.reason === 'clock_skew') continue;
      const k = `${r.dev}\u0000${r.metric}`;
      if (r.ts <= (cursors.get(k) ?? -1)) continue;
      cursors.set(k, r.ts);
      apply(ev.reading(r));
    }
    tickUntil(coveredTo);
    if (open) alertMs += coveredTo - openedAt;
  }

  episodes.sort((a, b) => a.start - b.start || a.target.localeCompare(b.target));
  const byMaxLevel: Record<string, number> = {};
  for (const e of episodes) byMaxLevel[String(e.maxLevel)] = (byMaxLevel[String(e.maxLevel)] ?? 0) + 1;
  return {
    rule: rule.spec.id,
    kind: rule.spec.kind,
    enabled: rule.spec.enabled !== false,
    from: opts.from,
    to: opts.to,
    coveredTo,
    tickMs,
    readings: read,
    capped,
    maxReadings,
    targets: rule.targets.length,
    notReplayed: inScope.length - replayable.length,
    outOfScope: rule.targets.length - inScope.length,
    episodes: episodes.slice(0, maxEpisodes),
    episodesListed: Math.min(episodes.length, maxEpisodes),
    totals: {
      episodes: episodes.length,
      open: episodes.filter((e) => e.end === null).length,
      targetsWithEpisodes: new Set(episodes.map((e) => e.target)).size,
      byMaxLevel,
      alertMs,
    },
  };
}
