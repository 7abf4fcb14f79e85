/**
 * Each rule kind's judgement, driving its evaluator directly with readings in event time (no
 * engine, no database, no timers): flood alarm levels with deadband, tiers and the candidate
 * QĐ 18 risk level; ordered levels; rates; rain accumulation; composite fire; suspect sensors; no
 * data; gateways offline or in trouble; and the checks of rule specs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading, Status } from '@ioc/shared';
import { DEFAULT_RULES } from '../src/alerts/defaults.js';
import { candidateRiskLevel } from '../src/alerts/kinds/flood-risk.js';
import { RULE_KINDS } from '../src/alerts/kinds/index.js';
import { RuleSpecError, type CompiledRule, type Evaluator, type RuleSpec, type RuleTarget, type TickContext } from '../src/alerts/rule.js';
import { checkRuleSpec, compileRule, compileRules } from '../src/alerts/spec.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry, type Registry } from '../src/config/registry.js';
import type { DeviceEntry } from '../src/config/schema.js';
import { WRITE_FAILURE_CURRENT_MS } from '../src/health/gateway-problems.js';
import { DETECTOR, GW, GW2, KIM_LONG, LEVELS, testConfig } from './helpers.js';

const T0 = 1_700_000_000_000;
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

const RAIN_GAUGE = 'rg-aluoi';
const SMOKE_KHO = 'sd-kho-a';
const HEAT_KHO = 'th-kho-a';
const HEAT_KHO_2 = 'th-kho-a2';
/** Stations with LEVELS (BĐ3 = 3.5 m), a historical peak of 5.2 m and QĐ 18 zone n. */
const zoneStation = (zone: number) => `wl-zone${zone}`;

/** testConfig's registry (Kim Long: LEVELS, no zone, no peak) plus zoned stations, a rain gauge and a site. */
function registry(): Registry {
  const base = testConfig('/nonexistent/ioc-alert-kinds');
  const place = { communeCode: '19816', provinceCode: '46', lat: 16.46, lon: 107.56 };
  const extra: DeviceEntry[] = [
    ...[1, 2, 3, 4].map((zone) => ({
      id: zoneStation(zone), gateway: GW, profile: 'radar-water-level', name: `Trạm vùng ${zone}`, station: `Vùng ${zone}`, river: 'Bồ',
      ...place, alarmLevels: LEVELS, zone, historicPeakM: 5.2,
    })),
    { id: RAIN_GAUGE, gateway: GW2, profile: 'rain-gauge', name: 'A Lưới', ...place, intervalS: 600 },
    { id: SMOKE_KHO, gateway: GW, profile: 'smoke-heat-detector', name: 'Kho A khói', ...place, site: 'kho-a' },
    { id: HEAT_KHO, gateway: GW, profile: 'smoke-heat-detector', name: 'Kho A nhiệt', ...place, site: 'kho-a' },
    { id: HEAT_KHO_2, gateway: GW, profile: 'smoke-heat-detector', name: 'Kho A nhiệt 2', ...place, site: 'kho-a' },
  ];
  const cfg = { ...base, registry: { ...base.registry, devices: [...(base.registry.devices ?? []), ...extra] } };
  return buildRegistry(resolveHubConfig(cfg, '/nonexistent').registry);
}

const REGISTRY = registry();

function reading(dev: string, metric: string, value: Reading['value'], ts: number, q: Reading['q'] = 'good', reason?: string): Reading {
  return { dev, metric, value, unit: '', ts, q, ...(reason ? { reason } : {}) };
}
const water = (value: number, ts: number, dev = KIM_LONG) => reading(dev, 'water_level', value, ts);

interface Rig {
  rule: CompiledRule;
  target: RuleTarget;
  ev: Evaluator;
}

/** The rule compiled against REGISTRY and a fresh evaluator for its target `key`. */
function rig(spec: Record<string, unknown>, key: string): Rig {
  const rule = compileRule(spec, REGISTRY);
  const target = rule.targets.find((t) => t.key === key);
  assert.ok(target, `rule ${String(spec.id)} has a target ${key} (has: ${rule.targets.map((t) => t.key).join(', ')})`);
  return { rule, target, ev: rule.evaluator(target) };
}

/** The level of each verdict (undefined: no judgement). */
function levels(ev: Evaluator, readings: Reading[]): Array<number | undefined> {
  return readings.map((r) => ev.reading(r)?.level);
}

/** Water levels one poll (`stepMs`) apart from T0. */
function series(values: number[], stepMs = 5 * MIN, dev = KIM_LONG): Reading[] {
  return values.map((v, i) => water(v, T0 + i * stepMs, dev));
}

function defaultRule(id: string): RuleSpec {
  const r = DEFAULT_RULES.find((x) => x.id === id);
  assert.ok(r, `DEFAULT_RULES has ${id}`);
  return r;
}

function specError(fn: () => unknown): RuleSpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleSpecError) return err;
    throw err;
  }
  assert.fail('expected a RuleSpecError');
}

describe('flood-levels', () => {
  const FLOOD = { id: 'flood', kind: 'flood-levels' };

  test('crossing BĐ1, BĐ2, BĐ3 up and down gives levels 1, 2, 3 and back, labelled Báo động I–III', () => {
    const { rule, target, ev } = rig(FLOOD, KIM_LONG);
    // LEVELS: BĐ1 1.0, BĐ2 2.0, BĐ3 3.5; default deadband 0.05 m on the way down.
    assert.deepEqual(levels(ev, series([0.5, 0.99, 1.0, 1.9, 2.0, 3.49, 3.5, 3.7, 3.0, 1.96, 1.5, 0.96, 0.94])), [0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 1, 1, 0]);
    assert.deepEqual(rule.levelLabel(1, target), { vi: 'Báo động I', en: 'Alarm level I' });
    assert.deepEqual(rule.levelLabel(2, target), { vi: 'Báo động II', en: 'Alarm level II' });
    assert.deepEqual(rule.levelLabel(3, target), { vi: 'Báo động III', en: 'Alarm level III' });
    assert.deepEqual([1, 2, 3].map((l) => rule.severity(l)), ['moderate', 'severe', 'extreme']);
    assert.equal(rule.category, 'flood');
  });

  test('deadband 0.05 m by default: a radar at 3.49/3.51 m around BĐ3 = 3.5 stays at BĐ3; with deadband 0 it flips each poll', () => {
    const hovering = [3.51, 3.49, 3.51, 3.49, 3.51, 3.49];
    const steady = rig(FLOOD, KIM_LONG).ev;
    assert.deepEqual(levels(steady, series([2.5, ...hovering, 3.44])), [2, 3, 3, 3, 3, 3, 3, 2], 'left only 0.05 m below BĐ3');
    const flipping = rig({ ...FLOOD, deadbandM: 0 }, KIM_LONG).ev;
    assert.deepEqual(levels(flipping, series([2.5, ...hovering])), [2, 3, 2, 3, 2, 3, 2]);
  });

  test('above BĐ3: tiers BĐ3 + 0.3 m and + 1.0 m and the historical peak are levels 4, 5, 6 with their labels', () => {
    const { rule, target, ev } = rig(FLOOD, zoneStation(2));
    assert.equal(rule.maxLevel, 6);
    assert.deepEqual(levels(ev, series([3.6, 3.79, 3.8, 4.49, 4.5, 5.19, 5.2, 5.6, 4.0])), [3, 3, 4, 4, 5, 5, 6, 6, 4]);
    assert.deepEqual(rule.levelLabel(4, target), { vi: 'Trên Báo động III 0.3 m', en: '0.3 m above alarm level III' });
    assert.deepEqual(rule.levelLabel(5, target), { vi: 'Trên Báo động III 1.0 m', en: '1.0 m above alarm level III' });
    assert.deepEqual(rule.levelLabel(6, target), { vi: 'Vượt lũ lịch sử', en: 'Above the historical flood' });
    assert.deepEqual([4, 5, 6].map((l) => rule.severity(l)), ['extreme', 'extreme', 'extreme']);
    const msg = rule.message(target, 6, 5.6);
    assert.match(msg.vi, /^Vượt lũ lịch sử — Trạm Vùng 2 \(sông Bồ\): 5\.60 m$/);
    assert.match(msg.en, /^Above the historical flood — Vùng 2 station \(Bồ river\): 5\.60 m$/);
    assert.match(rule.message(target, 0, 2.1, 6).vi, /^Hết báo động \(cao nhất: Vượt lũ lịch sử\)/);
  });

  test('configured tiers replace the defaults; a recorded peak below the top tier is no tier of its own', () => {
    const { rule, target, ev } = rig({ ...FLOOD, tiersAboveBd3M: [0.5] }, zoneStation(1));
    assert.equal(rule.maxLevel, 5);
    assert.deepEqual(levels(ev, series([3.99, 4.0, 5.2])), [3, 4, 5]);
    assert.deepEqual(rule.levelLabel(4, target), { vi: 'Trên Báo động III 0.5 m', en: '0.5 m above alarm level III' });

    const low = buildRegistry(
      resolveHubConfig(
        testConfig('/nonexistent', {
          registry: { gateways: [{ id: GW }], devices: [{ ...REGISTRY.devices.get(KIM_LONG)!, historicPeakM: 4.0 }] },
        }),
        '/nonexistent',
      ).registry,
    );
    const lowRule = compileRule(FLOOD, low);
    assert.equal(lowRule.maxLevel, 5, 'no station of the rule has a peak tier');
    const lowEv = lowRule.evaluator(lowRule.targets[0]!);
    // 4.6 m is BĐ3 + 1.1 m (level 5) and above the 4.0 m "record": still level 5, not a 6th.
    assert.deepEqual(levels(lowEv, series([4.6])), [5]);
  });

  test('forS: a rise is reported only after it held for the duration in event time; a short spike never is', () => {
    const held = rig({ ...FLOOD, forS: 600 }, KIM_LONG).ev;
    assert.equal(held.historyMs, 600 * S);
    // One reading a minute; 1.2 m (BĐ1) from minute 1.
    assert.deepEqual(levels(held, series([0.5, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2], MIN)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const spiky = rig({ ...FLOOD, forS: 600 }, KIM_LONG).ev;
    // A wave splash to 2.2 m for two minutes, then 0.5 m for the rest of the hour: nothing.
    const spike = [0.5, 2.2, 2.2, ...Array.from({ length: 57 }, () => 0.5)];
    assert.ok(levels(spiky, series(spike, MIN)).every((l) => l === 0), 'the spike was never reported');
    // Falling is reported at once.
    const falling = rig({ ...FLOOD, forS: 600 }, KIM_LONG).ev;
    falling.restore!(2);
    assert.deepEqual(levels(falling, series([2.1, 0.5], MIN)), [2, 0]);
  });

  test('forS: a rise that dips mid-wait is reported at the lowest level it held', () => {
    const ev = rig({ ...FLOOD, forS: 600 }, KIM_LONG).ev;
    // BĐ2 from minute 0, down to BĐ1 at minute 5, BĐ2 again: after 10 minutes BĐ1 held throughout.
    const l = levels(ev, series([2.2, 2.2, 2.2, 2.2, 2.2, 1.5, 2.2, 2.2, 2.2, 2.2, 2.2], MIN));
    assert.deepEqual(l, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  test('restore(level) continues from the restored level (the deadband holds it)', () => {
    const ev = rig(FLOOD, KIM_LONG).ev;
    ev.restore!(3);
    assert.deepEqual(levels(ev, series([3.47, 3.44])), [3, 2]);
  });

  test('readings of another metric, bad quality or without a number are no judgement', () => {
    const ev = rig(FLOOD, KIM_LONG).ev;
    assert.equal(ev.reading(reading(KIM_LONG, 'battery', 3.6, T0)), undefined);
    assert.equal(ev.reading(reading(KIM_LONG, 'water_level', 3.6, T0, 'bad', 'out_of_range')), undefined);
    assert.equal(ev.reading(reading(KIM_LONG, 'water_level', null, T0, 'bad', 'comm_error')), undefined);
    assert.equal(ev.reading(reading(KIM_LONG, 'water_level', true, T0)), undefined);
    assert.equal(ev.reading(water(3.6, T0))?.level, 3);
  });

  test('only stations with alarmLevels are targets; selecting one without them is refused', () => {
    const rule = compileRule(FLOOD, REGISTRY);
    assert.deepEqual(rule.targets.map((t) => t.key).sort(), [KIM_LONG, ...[1, 2, 3, 4].map(zoneStation)].sort());
    const err = specError(() => compileRule({ ...FLOOD, select: { devices: ['wl-other'] } }, REGISTRY));
    assert.equal(err.path, 'select.devices');
  });

  describe('candidate disaster-risk level (QĐ 18/2021, flood-risk.ts)', () => {
    // Rows: the level reached (1–3 BĐ, 4 BĐ3 + 0.3 m, 5 BĐ3 + 1.0 m, 6 historical peak); columns: zones 1–4.
    const TABLE: Record<number, number[]> = {
      1: [1, 1, 1, 2],
      2: [1, 2, 2, 3],
      3: [2, 2, 3, 3],
      4: [2, 2, 3, 4],
      5: [3, 3, 3, 4],
      6: [5, 5, 5, 5],
    };

    test('candidateRiskLevel by the table, and 0 below BĐ1 or outside zones 1–4', () => {
      const input = (level: number) => ({ bd: Math.min(level, 3), aboveBd3M: level === 4 ? 0.3 : level === 5 ? 1.0 : level === 6 ? 2.0 : 0, historic: level === 6 });
      for (const [level, row] of Object.entries(TABLE)) {
        for (let zone = 1; zone <= 4; zone++) assert.equal(candidateRiskLevel(zone, input(Number(level))), row[zone - 1], `level ${level}, zone ${zone}`);
      }
      assert.equal(candidateRiskLevel(4, { bd: 0, aboveBd3M: 0, historic: false }), 0);
      assert.equal(candidateRiskLevel(0, input(3)), 0);
      assert.equal(candidateRiskLevel(5, input(3)), 0);
      // Just under a tier is the row below.
      assert.equal(candidateRiskLevel(4, { bd: 3, aboveBd3M: 0.29, historic: false }), 3);
      assert.equal(candidateRiskLevel(1, { bd: 3, aboveBd3M: 0.99, historic: false }), 2);
    });

    for (const level of [1, 2, 3, 4, 5, 6]) {
      test(`facts(…).candidateRisk at level ${level} for zones 1–4`, () => {
        const rule = compileRule(FLOOD, REGISTRY);
        const got = [1, 2, 3, 4].map((zone) => {
          const t = rule.targets.find((x) => x.key === zoneStation(zone))!;
          return rule.facts!(t, level, level)?.candidateRisk;
        });
        assert.deepEqual(got, TABLE[level]);
      });
    }

    test('facts: no candidate below BĐ1 or at a station without a zone; the zone and thresholds are shown', () => {
      const rule = compileRule(FLOOD, REGISTRY);
      const z4 = rule.targets.find((x) => x.key === zoneStation(4))!;
      const f0 = rule.facts!(z4, 0, 0)!;
      assert.equal(f0.candidateRisk, undefined);
      assert.equal(f0.zone, 4);
      assert.deepEqual(f0.thresholds, [1.0, 2.0, 3.5, 3.8, 4.5, 5.2]);
      const kimLong = rule.targets.find((x) => x.key === KIM_LONG)!;
      assert.equal(rule.facts!(kimLong, 3, 3)?.candidateRisk, undefined);
      // A cleared episode keeps the candidate of its peak.
      assert.equal(rule.facts!(z4, 0, 6)?.candidateRisk, 5);
    });
  });
});

describe('levels', () => {
  const PM = { id: 'pm25', kind: 'levels', metric: 'pm25', thresholds: [50, 100, 150], select: { devices: [DETECTOR] } };

  test('above: level n at or above the n-th threshold; leaving a level waits for the deadband', () => {
    const { rule, target, ev } = rig({ ...PM, deadband: 5 }, DETECTOR);
    const pm = (v: number, i: number) => reading(DETECTOR, 'pm25', v, T0 + i * MIN);
    assert.deepEqual(levels(ev, [40, 50, 99, 100, 150, 146, 144, 96, 94, 46, 44].map(pm)), [0, 1, 1, 2, 3, 3, 2, 2, 1, 1, 0]);
    assert.equal(rule.maxLevel, 3);
    assert.deepEqual(rule.levelLabel(2, target), { vi: 'Cấp 2', en: 'Level 2' });
    assert.deepEqual([1, 2, 3].map((l) => rule.severity(l)), ['moderate', 'severe', 'extreme']);
    assert.equal(rule.category, 'environment');
  });

  test('the default deadband is 2 % of the first threshold', () => {
    const ev = rig(PM, DETECTOR).ev;
    const pm = (v: number, i: number) => reading(DETECTOR, 'pm25', v, T0 + i * MIN);
    // 2 % of 50 = 1: 149.5 holds level 3, 148.9 leaves it.
    assert.deepEqual(levels(ev, [150, 149.5, 148.9].map(pm)), [3, 3, 2]);
  });

  test('readings of another metric, bad quality or without a number are no judgement', () => {
    const ev = rig(PM, DETECTOR).ev;
    assert.equal(ev.reading(reading(DETECTOR, 'pm10', 200, T0)), undefined);
    assert.equal(ev.reading(reading(DETECTOR, 'pm25', 200, T0, 'bad', 'out_of_range')), undefined);
    assert.equal(ev.reading(reading(DETECTOR, 'pm25', true, T0)), undefined);
    assert.equal(ev.reading(reading(DETECTOR, 'pm25', 200, T0))?.level, 3);
  });

  test('below: level n at or below the n-th (descending) threshold, deadband upward', () => {
    const spec = { id: 'oxygen', kind: 'levels', metric: 'dissolved_oxygen', direction: 'below', thresholds: [5, 3, 2], deadband: 0.5, select: { devices: [KIM_LONG] } };
    const ev = rig(spec, KIM_LONG).ev;
    const o2 = (v: number, i: number) => reading(KIM_LONG, 'dissolved_oxygen', v, T0 + i * MIN);
    assert.deepEqual(levels(ev, [6, 5, 3.1, 3, 2, 2.4, 2.6, 3.4, 3.6, 5.4, 5.6].map(o2)), [0, 1, 1, 2, 3, 3, 2, 2, 1, 1, 0]);
  });

  test('thresholds that are not strictly ascending (descending for below) are refused, naming thresholds', () => {
    for (const bad of [
      { thresholds: [50, 50, 100] },
      { thresholds: [100, 50] },
      { thresholds: [2, 3], direction: 'below' },
    ]) {
      const err = specError(() => compileRule({ ...PM, ...bad }, REGISTRY));
      assert.equal(err.path, 'thresholds', JSON.stringify(bad));
      assert.match(err.message, /thresholds/);
    }
    assert.doesNotThrow(() => compileRule({ ...PM, thresholds: [100, 50, 10], direction: 'below' }, REGISTRY));
  });

  test('labels and severities from the spec', () => {
    const { rule, target } = rig({ ...PM, labels: [{ vi: 'Kém', en: 'Poor' }], severities: ['minor', 'severe', 'extreme'] }, DETECTOR);
    assert.deepEqual(rule.levelLabel(1, target), { vi: 'Kém', en: 'Poor' });
    assert.deepEqual(rule.levelLabel(3, target), { vi: 'Cấp 3', en: 'Level 3' });
    assert.deepEqual([1, 2, 3].map((l) => rule.severity(l)), ['minor', 'severe', 'extreme']);
  });
});

describe('rate', () => {
  const RISING = defaultRule('water-rising');

  test('0.6 m in 30 minutes is 1.2 m/h: level 2 of perHour [0.5, 1.0]; 0.3 m is 0.6 m/h: level 1', () => {
    const fast = rig(RISING, KIM_LONG).ev;
    assert.equal(fast.reading(water(2.0, T0))?.level, 0);
    const v = fast.reading(water(2.6, T0 + 30 * MIN));
    assert.equal(v?.level, 2);
    assert.equal(v?.value, 1.2);
    const slow = rig(RISING, KIM_LONG).ev;
    assert.deepEqual(levels(slow, [water(2.0, T0), water(2.3, T0 + 30 * MIN)]), [0, 1]);
  });

  test('a span shorter than half the window says nothing: no rise', () => {
    const ev = rig(RISING, KIM_LONG).ev;
    ev.reading(water(2.0, T0));
    // 0.6 m in 10 minutes would be 3.6 m/h.
    const v = ev.reading(water(2.6, T0 + 10 * MIN));
    assert.equal(v?.level, 0);
    assert.equal(v?.value, null);
    // From 15 minutes on it counts: 0.6 m in 15 minutes = 2.4 m/h.
    assert.equal(ev.reading(water(2.6, T0 + 15 * MIN))?.level, 2);
  });

  test('a level is left only below clearRatio (0.8) of its threshold', () => {
    const ev = rig(RISING, KIM_LONG).ev;
    // One reading per 30 minutes: each rate is between two readings (1.2, 0.9, 0.75, 0.45, 0.35 m/h).
    const l = levels(ev, series([2.0, 2.6, 3.05, 3.425, 3.65, 3.825], 30 * MIN));
    assert.deepEqual(l, [0, 2, 2, 1, 1, 0]);
  });

  test('direction fall: a drop is the rate', () => {
    const ev = rig({ ...RISING, id: 'draining', direction: 'fall' }, KIM_LONG).ev;
    assert.deepEqual(levels(ev, [water(3.0, T0), water(2.4, T0 + 30 * MIN)]), [0, 2]);
    const up = rig({ ...RISING, id: 'draining', direction: 'fall' }, KIM_LONG).ev;
    assert.deepEqual(levels(up, [water(2.4, T0), water(3.0, T0 + 30 * MIN)]), [0, 0]);
  });
});

describe('accumulation', () => {
  const RAIN = defaultRule('heavy-rain');
  const rain = (mm: number, ts: number) => reading(RAIN_GAUGE, 'rainfall', mm, ts);

  test("input 'interval': 3 h sums against 70 / 100 / 200 mm", () => {
    const ev = rig({ ...RAIN, input: 'interval' }, RAIN_GAUGE).ev;
    const mm = [25, 25, 25, 30, 50, 130];
    // 3 h sums: 25, 50, 75, 80, 105, 210.
    assert.deepEqual(levels(ev, mm.map((x, i) => rain(x, T0 + i * H))), [0, 0, 1, 1, 2, 3]);
  });

  test("input 'interval': a 24 h series crosses 100 / 200 / 400 mm (levels 1 → 2 → 3) and falls back as the window slides", () => {
    const ev = rig({ ...RAIN, input: 'interval' }, RAIN_GAUGE).ev;
    // 20 mm an hour for 20 hours (3 h sums of 60 mm stay below 70), then dry hours.
    const changes: Array<[number, number]> = [];
    let last = 0;
    for (let hour = 1; hour <= 48; hour++) {
      const v = ev.reading(rain(hour <= 20 ? 20 : 0, T0 + hour * H));
      assert.ok(v, `hour ${hour}: a verdict`);
      if (v.level !== last) changes.push([hour, v.level]);
      last = v.level;
    }
    // Up at 100, 200, 400 mm; down (10 % below a band) as the rainy hours leave the 24 h window:
    // 340 mm at hour 27, 160 mm at hour 36, 80 mm at hour 40.
    assert.deepEqual(changes, [
      [5, 1],
      [10, 2],
      [20, 3],
      [27, 2],
      [36, 1],
      [40, 0],
    ]);
  });

  test('default input (running total): the first total is the baseline, a drop is a daily reset and the new total is new rain', () => {
    const ev = rig(RAIN, RAIN_GAUGE).ev;
    const totals = [10, 40, 70, 100, 40, 45];
    const verdicts = totals.map((x, i) => ev.reading(rain(x, T0 + i * H)));
    // Rain per hour: 0 (baseline), 30, 30, 30, 40 (reset: 40 mm since), 5.
    // 3 h sums: 0, 30, 60, 90, 100, 75 (level 2 held within 10 %: 75 < 90, so level 1).
    assert.deepEqual(verdicts.map((v) => v?.level), [0, 0, 0, 1, 2, 1]);
    assert.equal(verdicts[4]?.value, 130, '24 h sum across the reset');
    const fresh = rig(RAIN, RAIN_GAUGE).ev;
    assert.equal(fresh.reading(rain(500, T0))?.level, 0, 'a large first total is yesterday’s rain, not a burst');
  });

  test('negative, bad or non-numeric rainfall is no judgement', () => {
    const ev = rig({ ...RAIN, input: 'interval' }, RAIN_GAUGE).ev;
    assert.equal(ev.reading(rain(-5, T0)), undefined);
    assert.equal(ev.reading(reading(RAIN_GAUGE, 'rainfall', 80, T0, 'bad', 'out_of_range')), undefined);
    assert.equal(ev.reading(reading(RAIN_GAUGE, 'rainfall', true, T0)), undefined);
    assert.equal(ev.reading(rain(80, T0 + H))?.level, 1);
  });

  test('windows and bands from the spec; bands not ascending are refused', () => {
    const ev = rig({ ...RAIN, input: 'interval', windows: [{ hours: 1, bands: [30, 50] }] }, RAIN_GAUGE).ev;
    assert.deepEqual(levels(ev, [rain(29, T0), rain(30, T0 + H), rain(50, T0 + 2 * H)]), [0, 1, 2]);
    const err = specError(() => compileRule({ ...RAIN, windows: [{ hours: 3, bands: [100, 70] }] }, REGISTRY));
    assert.equal(err.path, 'windows.0.bands');
  });
});

describe('composite (fire)', () => {
  const FIRE = { ...defaultRule('fire'), select: { devices: [DETECTOR] } };
  const smoke = (on: boolean, ts: number, dev = DETECTOR) => reading(dev, 'smoke', on, ts);
  const temp = (c: number, ts: number, dev = DETECTOR) => reading(dev, 'temperature', c, ts);

  test('smoke and temperature ≥ 57 °C is level 1; either alone is 0', () => {
    const { rule, target, ev } = rig(FIRE, DETECTOR);
    assert.deepEqual(levels(ev, [temp(60, T0), smoke(true, T0 + 10 * S)]), [0, 1]);
    assert.equal(rule.maxLevel, 1);
    assert.equal(rule.category, 'fire');
    assert.equal(rule.severity(1), 'extreme');
    assert.deepEqual(rule.levelLabel(1, target), { vi: 'Cháy', en: 'Fire' });
    const alone = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(alone, [smoke(true, T0), temp(35, T0 + 10 * S), smoke(true, T0 + 20 * S)]), [0, 0, 0]);
    const noSmoke = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(noSmoke, [smoke(false, T0), temp(80, T0 + 10 * S)]), [0, 0]);
  });

  test('smoke and a rise of ≥ 8 °C/min is level 1 below 57 °C; a slower rise is not', () => {
    const fast = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(fast, [temp(30, T0), smoke(true, T0 + 5 * S), temp(39, T0 + MIN)]), [0, 0, 1]);
    const slow = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(slow, [temp(30, T0), smoke(true, T0 + 5 * S), temp(36, T0 + MIN)]), [0, 0, 0]);
  });

  test('a reading older than holdS (120 s) stops counting', () => {
    const fresh = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(fresh, [smoke(true, T0), temp(60, T0 + 120 * S)]), [0, 1]);
    const old = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(old, [smoke(true, T0), temp(60, T0 + 121 * S)]), [0, 0]);
    const short = rig({ ...FIRE, holdS: 30 }, DETECTOR).ev;
    assert.deepEqual(levels(short, [smoke(true, T0), temp(60, T0 + 31 * S)]), [0, 0]);
  });

  test('the alarm clears when the condition is false again', () => {
    const ev = rig(FIRE, DETECTOR).ev;
    assert.deepEqual(levels(ev, [temp(60, T0), smoke(true, T0 + S), smoke(false, T0 + 2 * S)]), [0, 1, 0]);
  });

  test("per: 'site' joins the devices with the same registry site", () => {
    const rule = compileRule({ ...defaultRule('fire'), per: 'site' }, REGISTRY);
    assert.deepEqual(rule.targets.map((t) => t.key), ['site:kho-a']);
    const target = rule.targets[0]!;
    assert.deepEqual(new Set(target.inputs.map((i) => i.dev)), new Set([SMOKE_KHO, HEAT_KHO, HEAT_KHO_2]));
    const ev = rule.evaluator(target);
    assert.deepEqual(levels(ev, [smoke(true, T0, SMOKE_KHO), temp(60, T0 + 10 * S, HEAT_KHO)]), [0, 1]);
    // Per device (the default), each device of the site is fed only its own readings.
    const apart = compileRule(defaultRule('fire'), REGISTRY);
    const alone = apart.targets.find((t) => t.key === SMOKE_KHO)!;
    assert.deepEqual(new Set(alone.inputs.map((i) => i.dev)), new Set([SMOKE_KHO]));
  });

  test(
    "per: 'site': two heat detectors at different steady temperatures are no rise",
    () => {
      const rule = compileRule({ ...defaultRule('fire'), per: 'site' }, REGISTRY);
      const ev = rule.evaluator(rule.targets[0]!);
      const l = levels(ev, [temp(25, T0, HEAT_KHO), temp(40, T0 + 20 * S, HEAT_KHO_2), smoke(true, T0 + 30 * S, SMOKE_KHO), temp(25, T0 + 40 * S, HEAT_KHO), temp(40, T0 + 50 * S, HEAT_KHO_2)]);
      assert.deepEqual(l, [0, 0, 0, 0, 0]);
    },
  );

  test(
    'two temperature readings with the same event time are no rise',
    () => {
      const rule = compileRule({ ...defaultRule('fire'), per: 'site' }, REGISTRY);
      const ev = rule.evaluator(rule.targets[0]!);
      assert.deepEqual(levels(ev, [smoke(true, T0, SMOKE_KHO), temp(30, T0 + S, HEAT_KHO), temp(30, T0 + S, HEAT_KHO_2)]), [0, 0, 0]);
    },
  );

  test('a condition without is/gte/lte/risePerMin is refused, naming it', () => {
    const err = specError(() => compileRule({ id: 'odd', kind: 'composite', when: { all: [{ metric: 'smoke', is: true }, { metric: 'temperature' }] } }, REGISTRY));
    assert.match(err.path, /when \(condition 2 on temperature\)/);
  });
});

describe('suspect-sensor', () => {
  const SUSPECT = defaultRule('suspect-sensor');
  const bad = (i: number, reason = 'out_of_range') => reading(KIM_LONG, 'water_level', null, T0 + i * MIN, 'bad', reason);
  const good = (i: number) => water(1.0, T0 + i * MIN);

  test('badRun (5) bad readings in a row raise it; goodRun (3) good ones clear it', () => {
    const { rule, ev } = rig(SUSPECT, KIM_LONG);
    assert.deepEqual(levels(ev, [bad(0), bad(1), bad(2), bad(3), bad(4), bad(5), good(6), good(7), good(8), good(9)]), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]);
    // Cleared, the count starts again: one bad reading is not a run.
    assert.deepEqual(levels(ev, [bad(10), bad(11)]), [0, 0]);
    assert.equal(rule.category, 'technical');
    assert.equal(rule.severity(1), 'minor');
  });

  test('readings marked clock_skew say nothing about the sensor: ignored', () => {
    const ev = rig(SUSPECT, KIM_LONG).ev;
    assert.deepEqual(levels(ev, [0, 1, 2, 3, 4, 5, 6].map((i) => bad(i, 'clock_skew'))), Array(7).fill(undefined));
    // Nor do they count towards or break a run.
    assert.deepEqual(levels(ev, [bad(7), bad(8), bad(9, 'clock_skew'), bad(10), bad(11), bad(12)]), [0, 0, undefined, 0, 0, 1]);
  });

  test(
    'bad readings interrupted by a good one are not a run',
    () => {
      const ev = rig(SUSPECT, KIM_LONG).ev;
      assert.deepEqual(levels(ev, [bad(0), bad(1), bad(2), bad(3), good(4), bad(5)]), [0, 0, 0, 0, 0, 0]);
    },
  );

  test('badRun and goodRun from the spec', () => {
    const ev = rig({ ...SUSPECT, badRun: 2, goodRun: 1 }, KIM_LONG).ev;
    assert.deepEqual(levels(ev, [bad(0), bad(1), good(2)]), [0, 1, 0]);
  });
});

describe('no-data', () => {
  const NO_DATA = defaultRule('no-data'); // k 5 × 60 s = 300 s for devices without intervalS
  const online = (now: number): TickContext => ({ now, gatewayOnline: () => true });
  const offline = (now: number): TickContext => ({ now, gatewayOnline: () => false });
  const tick = (ev: Evaluator, ctx: TickContext) => ev.tick!(ctx)?.level;

  test('silent for k × interval (hub clock) is level 1; a reading clears it', () => {
    const { rule, ev } = rig(NO_DATA, KIM_LONG);
    assert.equal(tick(ev, online(T0)), undefined);
    assert.equal(tick(ev, online(T0 + 299 * S)), undefined);
    const v = ev.tick!(online(T0 + 300 * S));
    assert.equal(v?.level, 1);
    assert.equal(v?.value, 300);
    assert.equal(tick(ev, online(T0 + 400 * S)), undefined, 'raised once');
    assert.equal(ev.reading(water(1.0, T0 - 3 * H))?.level, 0, 'any reading, even from a backlog, is data');
    assert.equal(rule.maxLevel, 1);
  });

  test("a device's own intervalS is its interval", () => {
    const ev = rig(NO_DATA, RAIN_GAUGE).ev; // intervalS 600: 3000 s
    assert.equal(tick(ev, online(T0)), undefined);
    assert.equal(tick(ev, online(T0 + 2999 * S)), undefined);
    assert.equal(tick(ev, online(T0 + 3000 * S)), 1);
  });

  test('not while the gateway is offline: silence counts from its return', () => {
    const ev = rig(NO_DATA, KIM_LONG).ev;
    assert.equal(tick(ev, online(T0)), undefined);
    assert.equal(tick(ev, offline(T0 + 200 * S)), undefined);
    assert.equal(tick(ev, offline(T0 + 400 * S)), undefined);
    assert.equal(tick(ev, online(T0 + 699 * S)), undefined);
    assert.equal(tick(ev, online(T0 + 700 * S)), 1);
  });

  test('a reading restarts the silence', () => {
    const ev = rig(NO_DATA, KIM_LONG).ev;
    assert.equal(tick(ev, online(T0)), undefined);
    assert.equal(ev.reading(water(1.0, T0 + 100 * S)), undefined, 'nothing to clear');
    assert.equal(tick(ev, online(T0 + 200 * S)), undefined);
    assert.equal(tick(ev, online(T0 + 499 * S)), undefined);
    assert.equal(tick(ev, online(T0 + 500 * S)), 1);
  });

  test('restore(1): the next reading clears it', () => {
    const ev = rig(NO_DATA, KIM_LONG).ev;
    ev.restore!(1);
    assert.equal(ev.reading(water(1.0, T0))?.level, 0);
  });
});

describe('gateway-offline', () => {
  const OFFLINE = defaultRule('gateway-offline'); // graceS 120
  const obs = (online: boolean, at: number) => ({ gw: GW, online, status: null, at });

  test('offline longer than graceS (hub clock) is level 1; back online is 0', () => {
    const { rule, target, ev } = rig(OFFLINE, `gw:${GW}`);
    assert.equal(target.gateway, GW);
    assert.equal(ev.gateway!(obs(false, T0)), undefined);
    assert.equal(ev.tick!({ now: T0 + 119 * S, gatewayOnline: () => false }), undefined);
    const v = ev.tick!({ now: T0 + 120 * S, gatewayOnline: () => false });
    assert.equal(v?.level, 1);
    assert.equal(v?.ts, T0, 'dated when it went offline');
    assert.equal(ev.gateway!(obs(false, T0 + 130 * S)), undefined, 'still offline: nothing new');
    assert.equal(ev.gateway!(obs(true, T0 + 200 * S))?.level, 0);
    assert.equal(rule.maxLevel, 1);
  });

  test('a short reconnect is nothing', () => {
    const ev = rig(OFFLINE, `gw:${GW}`).ev;
    assert.equal(ev.gateway!(obs(false, T0)), undefined);
    assert.equal(ev.gateway!(obs(true, T0 + 60 * S)), undefined);
    assert.equal(ev.tick!({ now: T0 + 600 * S, gatewayOnline: () => true }), undefined);
  });

  test('restore(1), then online: 0', () => {
    const ev = rig(OFFLINE, `gw:${GW}`).ev;
    ev.restore!(1);
    assert.equal(ev.gateway!(obs(true, T0))?.level, 0);
  });

  test(
    'a gateway enrolled without devices still has an area from its commune',
    { todo: 'common.ts gatewayTargets(): with no device and no registry.communes entry, area.provinceCode is "" and lat/lon 0, 0 (the map shows it in the Gulf of Guinea; a province scope cannot see it)' },
    () => {
      const reg = registry();
      reg.addGateway({ id: 'gw-enrolled-09', communeCode: '19816' });
      const t = compileRule(OFFLINE, reg).targets.find((x) => x.key === 'gw:gw-enrolled-09')!;
      assert.equal(t.area.communeCode, '19816');
      assert.equal(t.area.provinceCode, '46');
    },
  );
});

describe('gateway-problem', () => {
  const PROBLEM = defaultRule('gateway-problem');
  const OUTBOX = { depth: 12, oldestUnsentAgeS: 3, bytes: 4000, dropped: 0, lastSeq: 40, ackedUpTo: 0, lastAckTs: null };
  const obs = (status: Status | null, at = T0) => ({ gw: GW, online: true, status, at });
  const status = (outbox: Record<string, unknown>, ts = T0): Status => ({ v: 1, online: true, ts, outbox: { ...OUTBOX, ...outbox } });
  const overCap = { overCap: { rows: 5000, bytes: 9_000_000, maxRows: 4000, maxBytes: 8_000_000 } };
  const failing = (lastTs: number) => ({ writeFailures: 3, writeFailedReadings: 12, lastWriteError: { ts: lastTs, message: 'database or disk is full', code: 'SQLITE_FULL' } });

  test('an outbox over its cap is level 1; write failures with a recent error are level 2; healthy is 0', () => {
    const { rule, target, ev } = rig(PROBLEM, `gw:${GW}`);
    assert.equal(ev.gateway!(obs(status({})))?.level, 0);
    assert.equal(ev.gateway!(obs(status(overCap)))?.level, 1);
    const v = ev.gateway!(obs(status(failing(T0 - MIN))));
    assert.equal(v?.level, 2);
    assert.equal(v?.value, 3);
    assert.equal(ev.gateway!(obs(status({ ...overCap, ...failing(T0) })))?.level, 2, 'the worse problem wins');
    assert.equal(ev.gateway!(obs(status({})))?.level, 0);
    assert.equal(rule.maxLevel, 2);
    assert.deepEqual(rule.levelLabel(2, target), { vi: 'Gateway không ghi được dữ liệu', en: 'Gateway failing to store readings' });
  });

  test('a write failure older than WRITE_FAILURE_CURRENT_MS is over', () => {
    const ev = rig(PROBLEM, `gw:${GW}`).ev;
    assert.equal(ev.gateway!(obs(status(failing(T0 - WRITE_FAILURE_CURRENT_MS))))?.level, 0);
    assert.equal(ev.gateway!(obs(status(failing(T0 - WRITE_FAILURE_CURRENT_MS + 1))))?.level, 2);
  });

  test('no status (a last will) is no judgement; the verdict is dated by the status', () => {
    const ev = rig(PROBLEM, `gw:${GW}`).ev;
    assert.equal(ev.gateway!({ gw: GW, online: false, status: null, at: T0 }), undefined);
    assert.equal(ev.gateway!(obs(status(overCap, T0 - 5 * S), T0))?.ts, T0 - 5 * S);
    assert.equal(ev.reading(water(1, T0)), undefined);
  });
});

describe('rule specs', () => {
  test('an unknown kind is refused, naming the known kinds', () => {
    const err = specError(() => checkRuleSpec({ id: 'x', kind: 'flood-level' }));
    assert.equal(err.path, 'kind');
    assert.match(err.message, /flood-level"/);
    for (const k of RULE_KINDS.keys()) assert.ok(err.message.includes(k), `names ${k}: ${err.message}`);
  });

  test('a missing required key and a wrong type are refused, naming the key', () => {
    assert.match(specError(() => checkRuleSpec({ id: 'pm', kind: 'levels', metric: 'pm25' })).message, /thresholds/);
    assert.match(specError(() => checkRuleSpec({ id: 'pm', kind: 'levels', metric: 'pm25', thresholds: ['high'] })).message, /thresholds/);
    assert.match(specError(() => checkRuleSpec({ id: 'Bad Id', kind: 'no-data' })).message, /id/);
  });

  test('compileRules refuses duplicate ids, naming the rule and its place', () => {
    const err = specError(() => compileRules([{ id: 'a', kind: 'no-data' }, { id: 'b', kind: 'no-data' }, { id: 'a', kind: 'gateway-offline' }], REGISTRY));
    assert.equal(err.ruleId, 'a');
    assert.match(err.message, /alerts\.rules\.2/);
    assert.match(err.message, /duplicate rule id/);
  });

  test(
    'compileRules names a problem once, with its place, when the path has spaces',
    () => {
      const err = specError(() => compileRules([{ id: 'odd', kind: 'composite', when: { all: [{ metric: 'smoke', is: true }, { metric: 'temperature' }] } }], REGISTRY));
      assert.equal(err.message, 'rule "odd" (alerts.rules.0) when (condition 2 on temperature): needs one of is, gte, lte, risePerMin');
    },
  );

  test('DEFAULT_RULES all compile against the registry, each with targets', () => {
    const rules = compileRules(DEFAULT_RULES, REGISTRY);
    assert.deepEqual(rules.map((r) => r.spec.id), DEFAULT_RULES.map((r) => r.id));
    for (const r of rules) assert.ok(r.targets.length > 0, `${r.spec.id} watches something`);
    // Each default is one of the kinds, and the defaults cover every category a province needs first.
    assert.deepEqual([...new Set(rules.map((r) => r.category))].sort(), ['fire', 'flood', 'rain', 'technical']);
  });

  test('compiling does not change the spec it was given', () => {
    const spec = { id: 'flood', kind: 'flood-levels' };
    compileRule(spec, REGISTRY);
    assert.deepEqual(spec, { id: 'flood', kind: 'flood-levels' });
  });
});
