/**
 * Evaluator.wouldChange, the question ingest asks before a batch is judged (is it urgent?), per
 * rule kind that answers it: examples, then the promise the urgent lane rests on, checked on random
 * batches — whenever judging a batch changes the level, some reading of it was said to maybe
 * change it, asked before any of the batch was judged — and that asking moves no state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Reading } from '@ioc/shared';
import { DEFAULT_RULES } from '../src/alerts/defaults.js';
import { join } from 'node:path';
import type { ArrivingWith, CompiledRule, Evaluator, RuleTarget } from '../src/alerts/rule.js';
import { compileRule } from '../src/alerts/spec.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { alertStack, DETECTOR, FLOOD_RULE, KIM_LONG, tempDir, testConfig, type TestLike } from './helpers.js';

const T0 = 1_700_000_000_000;
const S = 1000;
const MIN = 60 * S;
const RAIN_GAUGE = 'rg-test';

const REGISTRY = (() => {
  const base = testConfig('/nonexistent/ioc-would-change');
  const gauge = { id: RAIN_GAUGE, gateway: base.registry.gateways![0]!.id, profile: 'rain-gauge', name: 'Gauge', communeCode: '19816', provinceCode: '46', lat: 16.4, lon: 107.5 };
  const cfg = { ...base, registry: { ...base.registry, devices: [...(base.registry.devices ?? []), gauge] } };
  return buildRegistry(resolveHubConfig(cfg, '/nonexistent').registry);
})();

const byId = (id: string) => DEFAULT_RULES.find((r) => r.id === id)!;

function evaluator(spec: Record<string, unknown>, key: string): Evaluator {
  const rule = compileRule(spec, REGISTRY);
  const target = rule.targets.find((t) => t.key === key);
  assert.ok(target, `${String(spec.id)} has target ${key}`);
  return rule.evaluator(target);
}

function arriving(batch: readonly Reading[]): ArrivingWith {
  return { of: (dev, metric) => batch.filter((r) => r.dev === dev && r.metric === metric) };
}

const reading = (dev: string, metric: string, value: Reading['value'], ts: number, q: Reading['q'] = 'good'): Reading => ({ dev, metric, value, unit: '', ts, q });
const water = (v: number, ts: number) => reading(KIM_LONG, 'water_level', v, ts);
const asks = (ev: Evaluator, r: Reading, batch: readonly Reading[] = [r]) => ev.wouldChange!(r, arriving(batch));

describe('wouldChange, by example', () => {
  test('flood-levels: a crossing of BĐ3 may change; a value within its level, or within the deadband, does not', () => {
    const ev = evaluator({ id: 'flood', kind: 'flood-levels' }, KIM_LONG);
    assert.equal(asks(ev, water(0.5, T0)), false);
    assert.equal(asks(ev, water(3.6, T0)), true);
    ev.reading(water(3.6, T0));
    assert.equal(asks(ev, water(3.7, T0 + S)), false, 'still BĐ3');
    assert.equal(asks(ev, water(3.47, T0 + S)), false, 'within the 0.05 m deadband below BĐ3');
    assert.equal(asks(ev, water(3.4, T0 + S)), true, 'below the deadband: down to BĐ2');
    assert.equal(asks(ev, { ...water(9, T0 + S), q: 'bad' }), false, 'a bad reading is not judged');
  });

  test('levels with forS: a rise may change from the reading that starts the hold (the rest may be in the same batch)', () => {
    const ev = evaluator({ id: 'l', kind: 'levels', metric: 'water_level', thresholds: [1, 2], forS: 60 }, KIM_LONG);
    assert.equal(asks(ev, water(1.5, T0)), true);
    assert.equal(ev.reading(water(1.5, T0))?.level, 0);
    assert.equal(asks(ev, water(0.5, T0 + S)), false, 'back below: the level stays 0');
  });

  test('no-data: a reading may change only a raised alert', () => {
    const ev = evaluator(byId('no-data'), KIM_LONG);
    assert.equal(asks(ev, water(1, T0)), false);
    ev.restore!(1);
    assert.equal(asks(ev, water(1, T0)), true);
  });

  test('suspect-sensor: a bad reading while not raised, or a good one while raised, may change', () => {
    const ev = evaluator(byId('suspect-sensor'), KIM_LONG);
    const bad = (ts: number) => ({ ...water(1, ts), q: 'bad' as const });
    assert.equal(asks(ev, water(1, T0)), false);
    assert.equal(asks(ev, bad(T0)), true);
    ev.restore!(1);
    assert.equal(asks(ev, bad(T0)), false);
    assert.equal(asks(ev, water(1, T0)), true);
  });

  test('composite (fire): heat alone does not; heat with smoke in the same batch may', () => {
    const ev = evaluator(byId('fire'), DETECTOR);
    const temp = reading(DETECTOR, 'temperature', 60, T0);
    const smoke = reading(DETECTOR, 'smoke', true, T0);
    assert.equal(asks(ev, temp), false, 'no smoke known or coming');
    assert.equal(asks(ev, temp, [smoke, temp]), true);
    const cool = reading(DETECTOR, 'temperature', 30, T0);
    assert.equal(asks(ev, cool, [reading(DETECTOR, 'smoke', false, T0), cool]), false, 'a routine poll: no smoke, cool');
    assert.equal(asks(ev, temp, [reading(DETECTOR, 'smoke', false, T0), temp]), false, 'hot, but the smoke coming is false');
  });

  test('rate: a steady level does not; with no history in the window, only readings of the same batch could make a rate', () => {
    const ev = evaluator(byId('water-rising'), KIM_LONG);
    assert.equal(asks(ev, water(1, T0)), false, 'nothing in the window yet: no rate');
    assert.equal(asks(ev, water(1, T0), [water(0, T0 - MIN), water(1, T0)]), true, 'the window may start in the same batch');
    ev.reading(water(1, T0));
    assert.equal(asks(ev, water(1, T0 + 20 * MIN)), false);
    assert.equal(asks(ev, water(2, T0 + 20 * MIN)), true, '3 m/h');
  });

  test('accumulation: light rain far below the bands does not; the rain of a whole batch is counted', () => {
    const ev = evaluator({ ...byId('heavy-rain'), input: 'interval' }, RAIN_GAUGE);
    const rain = (mm: number, ts: number) => reading(RAIN_GAUGE, 'rainfall', mm, ts);
    assert.equal(asks(ev, rain(5, T0)), false);
    const batch = [rain(40, T0), rain(40, T0 + MIN)];
    assert.equal(asks(ev, batch[0]!, batch), true, '80 mm in the batch: above 70');
  });
});

// ---------------------------------------------------------------------------------------------

interface Kind {
  name: string;
  spec: Record<string, unknown>;
  key: string;
  /** One reading at `ts` (random value, quality, metric as the kind needs). */
  reading: fc.Arbitrary<(ts: number) => Reading>;
}

const waterReading = fc.record({ v: fc.double({ min: 0, max: 6, noNaN: true }), bad: fc.boolean() }).map(({ v, bad }) => (ts: number) => ({ ...water(v, ts), ...(bad ? { q: 'bad' as const } : {}) }));

const KINDS: Kind[] = [
  { name: 'flood-levels', spec: { id: 'flood', kind: 'flood-levels' }, key: KIM_LONG, reading: waterReading },
  { name: 'levels, below, with forS', spec: { id: 'low', kind: 'levels', metric: 'water_level', thresholds: [3, 2, 1], direction: 'below', forS: 120 }, key: KIM_LONG, reading: waterReading },
  { name: 'rate', spec: { ...byId('water-rising'), windowMinutes: 10 }, key: KIM_LONG, reading: waterReading },
  {
    name: 'accumulation (interval)',
    spec: { ...byId('heavy-rain'), input: 'interval', windows: [{ hours: 0.5, bands: [10, 20, 40] }] },
    key: RAIN_GAUGE,
    reading: fc.double({ min: -1, max: 15, noNaN: true }).map((mm) => (ts: number) => reading(RAIN_GAUGE, 'rainfall', mm, ts)),
  },
  {
    name: 'accumulation (running total)',
    spec: { ...byId('heavy-rain'), windows: [{ hours: 0.5, bands: [10, 20, 40] }] },
    key: RAIN_GAUGE,
    reading: fc.double({ min: 0, max: 60, noNaN: true }).map((mm) => (ts: number) => reading(RAIN_GAUGE, 'rainfall', mm, ts)),
  },
  {
    name: 'composite (fire)',
    spec: byId('fire'),
    key: DETECTOR,
    reading: fc.oneof(
      fc.boolean().map((on) => (ts: number) => reading(DETECTOR, 'smoke', on, ts)),
      fc.double({ min: 20, max: 80, noNaN: true }).map((c) => (ts: number) => reading(DETECTOR, 'temperature', c, ts)),
    ),
  },
  {
    name: 'suspect-sensor',
    spec: { ...byId('suspect-sensor'), badRun: 3, goodRun: 2 },
    key: KIM_LONG,
    reading: waterReading,
  },
  { name: 'no-data', spec: byId('no-data'), key: KIM_LONG, reading: waterReading },
];

/** Batches of 1–6 readings, event time rising by 1 s – 5 min from one reading to the next. */
const batches = (k: Kind) =>
  fc.array(fc.array(fc.tuple(k.reading, fc.integer({ min: S, max: 5 * MIN })), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 30 }).map((bs) => {
    let ts = T0;
    return bs.map((b) => b.map(([make, step]) => make((ts += step))));
  });

describe('wouldChange keeps the urgent lane’s promise', () => {
  for (const k of KINDS) {
    test(`${k.name}: a batch that changes the level has a reading said to maybe change it; asking moves nothing`, () => {
      fc.assert(
        fc.property(batches(k), fc.integer({ min: 0, max: 1 }), (bs, start) => {
          const ev = evaluator(k.spec, k.key);
          const twin = evaluator(k.spec, k.key);
          ev.restore?.(start);
          twin.restore?.(start);
          let level = start;
          for (const b of bs) {
            const said = b.map((r) => ev.wouldChange!(r, arriving(b)));
            let changed = false;
            for (const r of b) {
              const v = ev.reading(r);
              assert.deepEqual(v, twin.reading(r), 'the asked evaluator judges as the one never asked');
              if (v && v.level !== level) {
                changed = true;
                level = v.level;
              }
            }
            if (changed) assert.ok(said.some(Boolean), `a change in ${JSON.stringify(b)} with no reading said to maybe change it`);
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('AlertEngine.mayChange', () => {
  function engineRig(t: TestLike) {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const store = openSqliteStore({ path: join(dir, 'hub.db') });
    t.after(() => store.close());
    const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
    const asked: string[] = [];
    // Every evaluator records the targets asked, so the test sees which rules were looked at.
    const wrap = (rules: CompiledRule[]) =>
      rules.map((rule) => ({
        ...rule,
        evaluator: (target: RuleTarget) => {
          const ev = rule.evaluator(target);
          return ev.wouldChange ? { ...ev, wouldChange: (r: Reading, b: ArrivingWith) => (asked.push(`${rule.spec.id}:${target.key}`), ev.wouldChange!(r, b)) } : ev;
        },
      }));
    const { engine } = alertStack(store, registry, { rules: [...DEFAULT_RULES.filter((r) => r.id !== 'flood'), FLOOD_RULE], wrap, now: () => T0 + MIN });
    return { engine, asked };
  }

  test('a crossing may change, a routine value does not; only the targets indexed under the reading’s device and metric are asked', (t) => {
    const { engine, asked } = engineRig(t);
    assert.equal(engine.mayChange([water(0.5, T0), reading(DETECTOR, 'temperature', 25, T0)]), false);
    assert.deepEqual(new Set(asked), new Set([`flood:${KIM_LONG}`, `water-rising:${KIM_LONG}`, `no-data:${KIM_LONG}`, `suspect-sensor:${KIM_LONG}`, `fire:${DETECTOR}`, `no-data:${DETECTOR}`, `suspect-sensor:${DETECTOR}`]));
    assert.equal(engine.mayChange([water(0.5, T0 + S), water(3.6, T0 + S)]), true);
    assert.equal(engine.mayChange([reading('wl-nowhere', 'water_level', 9, T0)]), false, 'a device no rule watches');
  });

  test('readings judged apart or quietly change nothing announced now: older than the cursor, dated in the future', (t) => {
    const { engine } = engineRig(t);
    engine.evaluate([water(3.6, T0)]);
    assert.equal(engine.levelOf('flood', KIM_LONG), 3);
    assert.equal(engine.mayChange([water(3.7, T0 + S)]), false, 'still BĐ3');
    assert.equal(engine.mayChange([water(0.5, T0 + S)]), true, 'clears');
    assert.equal(engine.mayChange([water(0.5, T0 - S)]), false, 'older than the cursor: backlog, judged apart');
    assert.equal(engine.mayChange([water(0.5, T0 + 24 * 60 * MIN)]), false, 'dated in the future: not judged');
  });
});
