import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KIM_LONG_ALARM_LEVELS, kimLong2020Hydrograph, levelAt, WaterLevelStationSimulator } from './modbus-water-level.js';
import { counterWord } from './modbus-counter.js';
import { float32Cdab, HEAVY_RAIN_DAY, RainGaugeSimulator, totalAt } from './modbus-rain-gauge.js';

/** First time (s) the hydrograph reaches `level`, sampled every 0.1 s. */
function firstCrossing(h: ReturnType<typeof kimLong2020Hydrograph>, level: number): number {
  const end = h[h.length - 1]!.tS;
  for (let t = 0; t <= end; t += 0.1) if (levelAt(h, t) >= level) return t;
  return Infinity;
}

test('Kim Long 2020 demo flood: BĐ1 → BĐ2 → BĐ3 within three minutes at speed 1, then falls below BĐ1', () => {
  const { bd1, bd2, bd3 } = KIM_LONG_ALARM_LEVELS;
  // The official levels (flood-alarm-levels-vn.csv: Kim Long, Hương, 1.00 / 2.00 / 3.50 m).
  assert.deepEqual([bd1, bd2, bd3], [1.0, 2.0, 3.5]);
  const h = kimLong2020Hydrograph();
  const t1 = firstCrossing(h, bd1);
  const t2 = firstCrossing(h, bd2);
  const t3 = firstCrossing(h, bd3);
  assert.ok(t1 < t2 && t2 < t3, `${t1} < ${t2} < ${t3}`);
  assert.ok(t3 - t1 <= 180, `BĐ1 → BĐ3 takes ${t3 - t1} s`);
  assert.ok(Math.max(...h.map((p) => p.levelM)) > bd3);
  assert.ok(h[0]!.levelM < bd1 && h[h.length - 1]!.levelM < bd1);
  // Real time: 80 hours.
  assert.equal(kimLong2020Hydrograph({ durationS: 80 * 3600 }).at(-1)!.tS, 80 * 3600);
});

test('levelAt interpolates and holds the ends', () => {
  const h = [{ tS: 0, levelM: 1 }, { tS: 10, levelM: 3 }];
  assert.equal(levelAt(h, -5), 1);
  assert.equal(levelAt(h, 5), 2);
  assert.equal(levelAt(h, 50), 3);
});

test('replay moves the level with time and resolves at its end', async () => {
  const sim = new WaterLevelStationSimulator();
  const t0 = Date.now();
  const done = sim.replay([{ tS: 0, levelM: 1 }, { tS: 10, levelM: 2 }], { speed: 100 }); // 100 ms
  const mid = sim.level(t0 + 50);
  assert.ok(mid > 1.3 && mid < 1.7, `level halfway: ${mid}`);
  await done;
  assert.equal(sim.level(), 2);
  sim.setLevel(0.5);
  assert.equal(sim.level(), 0.5);
});

test('counter words: a uint32 at any even address is the request number', () => {
  const n = 0x0001_2345;
  assert.deepEqual([counterWord(n, 0), counterWord(n, 1), counterWord(n, 48), counterWord(n, 49)], [0x0001, 0x2345, 0x0001, 0x2345]);
});

test('rain gauge: CDAB float32 words, whole 0.2 mm tips, a drop in the series is the day reset', () => {
  // 12.5 = 0x41480000: low word first.
  assert.deepEqual(float32Cdab(12.5), [0x0000, 0x4148]);
  assert.equal(totalAt(HEAVY_RAIN_DAY, 7.5), 49.5);
  assert.equal(totalAt([{ hours: 0, totalMm: 0 }, { hours: 24, totalMm: 453 }, { hours: 26, totalMm: 4 }], 25), 2, 'from 0 after the reset');
  const sim = new RainGaugeSimulator();
  sim.setTotal(1.0);
  assert.equal(sim.total(), 1.0, '5 tips are 1.0 mm');
  sim.setTotal(1.39);
  assert.equal(sim.total(), 1.2, 'a tip not yet complete is not counted');
  const t0 = Date.now();
  sim.replay(HEAVY_RAIN_DAY, { hoursPerS: 2 });
  // Just past hour 24 (the replay starts a little after t0 on a busy machine).
  assert.equal(sim.total(t0 + 12_500), 453, 'the day total at hour 24');
  assert.equal(sim.total(t0 + 60_000), 453, 'held after the series');
});
