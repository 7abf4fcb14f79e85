/**
 * What alert rules cost on the ingest path (hub/src/alerts): the hub evaluates every stored reading
 * inside the telemetry group's transaction, so a rule set must be cheap per reading however many
 * rules are loaded (they are indexed by device and metric, never scanned).
 *
 * The field of the other benches (16 gateways × 21 devices: river stations, air stations, rain
 * gauges) with 1,000 rules loaded: one of every kind plus `levels` rules spread over every device
 * and metric, all without `select` or on one device each (thresholds the readings stay under, so
 * every reading is judged by several rules and none raises).
 *   A. Evaluation alone: CPU µs per reading in `stage().evaluate()` over batches of 500 readings,
 *      with 1,000 rules and with none (the loop, the index lookups and the cursor writes), not
 *      counting the commit (in the hub, the readings' own).
 *   B. The ingest write path as telemetry.ts runs it (store.writeBatches with the rules inside the
 *      transaction, synchronous = FULL): readings/s with 1,000 rules as a ratio to the same path
 *      with no rule, measured alternately in the same run.
 *
 * Run: npm run bench -- rules
 */
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import { AlertEngine } from '../../hub/src/alerts/engine.js';
import { DEFAULT_RULES } from '../../hub/src/alerts/defaults.js';
import { compileRules } from '../../hub/src/alerts/spec.js';
import { AlertViews } from '../../hub/src/alerts/views.js';
import { buildRegistry } from '../../hub/src/config/registry.js';
import { openSqliteStore, type SqliteStore } from '../../hub/src/store/sqlite.js';
import { createLogger } from '@ioc/shared';
import { Field, fmt, freshDir, GATEWAYS, heading, registry, removeDir, saveResults, seconds, table, verdict, warnIfBusy } from './lib/common.js';

console.log('# rules.bench — alert rules on the ingest path, 1,000 rules vs none');
await warnIfBusy();

const RULES = 1000;
const BATCH = 500;
const reg = buildRegistry(registry(GATEWAYS));
const fields = GATEWAYS.map((_, i) => new Field(i));
const logger = createLogger({ name: 'bench', level: 'silent' });

// Every (device, metric) the field emits, from one round of polls.
const pairs = new Map<string, { dev: string; metric: string }>();
for (const f of fields) for (const r of f.poll(64).readings) pairs.set(`${r.dev}\u0000${r.metric}`, { dev: r.dev, metric: r.metric });
const pairList = [...pairs.values()];
// One rule of every kind, with thresholds the field's random values never reach (a rule that kept
// raising and clearing would measure alert transitions, not rule evaluation), then `levels` rules.
const specs: unknown[] = [
  { id: 'flood', kind: 'flood-levels' },
  { id: 'rising', kind: 'rate', metric: 'water_level', perHour: [1000], windowMinutes: 30 },
  { id: 'rain', kind: 'accumulation', windows: [{ hours: 3, bands: [1e6] }, { hours: 24, bands: [2e6] }] },
  { id: 'fire', kind: 'composite', when: { all: [{ metric: 'smoke', is: true }, { any: [{ metric: 'temperature', gte: 1e6 }, { metric: 'temperature', risePerMin: 1e6 }] }] } },
  ...DEFAULT_RULES.filter((r) => ['no-data', 'gateway-offline', 'suspect-sensor', 'gateway-problem'].includes(r.kind)),
];
for (let i = specs.length; i < RULES; i++) {
  const p = pairList[i % pairList.length]!;
  specs.push({ id: `bench-${i}`, kind: 'levels', metric: p.metric, thresholds: [1e6 + i], select: { devices: [p.dev] } });
}

function engineFor(store: SqliteStore, withRules: boolean): AlertEngine {
  const rules = withRules ? compileRules(specs, reg) : [];
  const views = new AlertViews(store.alerts, reg);
  views.setRules(rules);
  const engine = new AlertEngine({ alerts: store.alerts, readings: store, registry: reg, rules, views, logger, lateAfterMs: 1e12, catchUpWindowMs: 0 });
  engine.start();
  return engine;
}

/** Batches of one gateway each, readings in time order, every batch later than the last. */
function batches(n: number, t0: number): Array<{ gw: string; readings: Reading[] }> {
  const out: Array<{ gw: string; readings: Reading[] }> = [];
  for (let b = 0; b < n; b++) {
    const g = b % GATEWAYS.length;
    out.push({ gw: GATEWAYS[g]!, readings: fields[g]!.poll(BATCH, t0 + b * 1000).readings });
  }
  return out;
}

const dir = freshDir('rules');
const stores: Record<'with' | 'without', SqliteStore> = {
  with: openSqliteStore({ path: join(dir, 'with.db') }),
  without: openSqliteStore({ path: join(dir, 'without.db') }),
};
const engines = { with: engineFor(stores.with, true), without: engineFor(stores.without, false) };
const targets = engines.with.compiledRules.reduce((n, r) => n + r.targets.length, 0);
const seqs = { with: new Map<string, number>(), without: new Map<string, number>() };
let clock = Date.now() - 30 * 86_400_000;

// --- A. evaluation alone ------------------------------------------------------------------------
function evaluateOnly(which: 'with' | 'without', bs: Array<{ gw: string; readings: Reading[] }>): number {
  const store = stores[which];
  let us = 0;
  for (const b of bs) {
    // Timed: the evaluation and its writes; not the commit (in the hub it is the readings' own).
    store.db.transaction(() => {
      const s = engines[which].stage();
      const c0 = process.cpuUsage();
      s.evaluate(b.readings);
      const c = process.cpuUsage(c0);
      us += c.user + c.system;
      s.commit();
    })();
  }
  return us / (bs.length * BATCH);
}

// --- B. the write path --------------------------------------------------------------------------
function writePath(which: 'with' | 'without', bs: Array<{ gw: string; readings: Reading[] }>): number {
  const store = stores[which];
  const t0 = performance.now();
  for (const b of bs) {
    const first = (seqs[which].get(b.gw) ?? 0) + 1;
    seqs[which].set(b.gw, first + b.readings.length - 1);
    const staging = engines[which].stage();
    store.writeBatches([{ gw: b.gw, firstSeq: first, readings: b.readings }], (written) => staging.evaluate(written[0]!.fresh));
    staging.commit();
  }
  return (bs.length * BATCH) / ((performance.now() - t0) / 1000);
}

const nA = Math.max(20, Math.round(seconds(400)));
const nB = Math.max(10, Math.round(seconds(120)));
// Warm up.
for (const w of ['with', 'without'] as const) evaluateOnly(w, batches(10, (clock += 20_000)));
const evalUs: Record<'with' | 'without', number[]> = { with: [], without: [] };
const rate: Record<'with' | 'without', number[]> = { with: [], without: [] };
for (let round = 0; round < 5; round++) {
  for (const w of ['with', 'without'] as const) {
    const bs = batches(nA, clock);
    evalUs[w].push(evaluateOnly(w, bs));
  }
  clock += nA * 1000 + 1000;
  for (const w of ['without', 'with'] as const) {
    const bs = batches(nB, clock);
    rate[w].push(writePath(w, bs));
  }
  clock += nB * 1000 + 1000;
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const a = { with: med(evalUs.with), without: med(evalUs.without) };
const b = { with: med(rate.with), without: med(rate.without) };

heading(`A. evaluation alone: ${RULES} rules (${fmt(targets)} targets) over ${fmt(nA * BATCH)} readings per run, median of 5`);
table(['rules loaded', 'CPU µs / reading'], [
  [`${RULES}`, a.with.toFixed(2)],
  ['none', a.without.toFixed(2)],
  ['the rules\' cost', (a.with - a.without).toFixed(2)],
]);
heading(`B. ingest write path (store + rules in one transaction, synchronous = FULL), batches of ${BATCH}, median of 5`);
table(['rules loaded', 'readings / s', 'ratio to no rules'], [
  [`${RULES}`, fmt(b.with), (b.with / b.without).toFixed(2)],
  ['none', fmt(b.without), '1.00'],
]);
console.log('');
const targetsMet = [
  verdict({ name: `rule evaluation with ${RULES} rules, per reading`, value: a.with, bound: 5, kind: 'max', unit: 'µs' }),
  verdict({ name: `ingest write path with ${RULES} rules vs none`, value: b.with / b.without, bound: 0.9, kind: 'min', unit: '%' }),
];
saveResults('rules', { rules: RULES, ruleTargets: targets, batch: BATCH, evalUsPerReading: a, writePathReadingsPerS: b, ratio: b.with / b.without, targets: targetsMet });
for (const s of Object.values(stores)) s.close();
removeDir(dir);
