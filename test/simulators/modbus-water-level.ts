/**
 * A river water-level station (radar level sensor) on Modbus TCP, register map as in
 * firmware-configs/profiles/radar-water-level.yaml:
 *   holding 0  level above gauge datum, cm, int16 (32767 = no echo / sensor fault)
 *   holding 1  battery voltage, 0.01 V, uint16
 *   holding 2  status word, bit 0 = sensor fault
 * Any other address answers Modbus exception 2 (illegal data address), as a real sensor does.
 *
 * CLI: node --import tsx test/simulators/modbus-water-level.ts --port 5020 [--speed N] [--unit-id 1]
 * replays the Kim Long 2020 flood over and over and prints the port it listens on.
 */
import { argValue, illegalAddress, int16Word, isMain, ModbusSimulator, type SimStartOptions } from './modbus-sim-server.js';

export interface HydrographPoint {
  /** Seconds from the start of the hydrograph. */
  tS: number;
  /** Water level above gauge datum, m. */
  levelM: number;
}

/** Raw value the sensor sends when it has no echo. */
export const NO_ECHO = 0x7fff;

/** Official flood alarm levels at Kim Long, Hương river, Huế (m; flood-alarm-levels-vn.csv). */
export const KIM_LONG_ALARM_LEVELS = { bd1: 1.0, bd2: 2.0, bd3: 3.5 } as const;

/**
 * The Hương river at Kim Long (Huế) in the flood of November 2020, as hours → metres, rising from
 * 0.6 m through the official alarm levels BĐ1 1.0 m (hour 4), BĐ2 2.0 m (hour 12) and BĐ3 3.5 m
 * (hour 24; KIM_LONG_ALARM_LEVELS), then falling slowly at first (about 0.25 m in
 * the 11 hours after the peak, as recorded) and back below BĐ1.
 * The real peak on 12 Nov 2020 was 3.15 m, below BĐ3. This demo shape peaks at 3.8 m on purpose,
 * so that all three alarm levels fire.
 */
export const KIM_LONG_2020_HOURS: ReadonlyArray<readonly [hours: number, levelM: number]> = [
  [0, 0.6], [2, 0.75], [4, 1.0], [8, 1.45], [12, 2.0], [16, 2.6], [20, 3.1], [24, 3.5], [28, 3.75],
  [30, 3.8], [34, 3.72], [41, 3.55], [48, 3.2], [56, 2.5], [64, 1.8], [72, 1.2], [80, 0.9],
];

/**
 * The flood wave of 12 Nov 2020 at Kim Long as it was: the river rose from 0.6 m through BĐ1
 * (1.0 m) and BĐ2 (2.0 m) to a peak of about 3.15 m, below BĐ3, and fell back below BĐ1 within
 * two days. Hours → metres; the shape (a rise of ~0.15 m/h, a slower fall) follows the station's
 * record, the hours are approximate.
 */
export const KIM_LONG_12_NOV_2020_HOURS: ReadonlyArray<readonly [hours: number, levelM: number]> = [
  [0, 0.6], [3, 0.8], [6, 1.15], [9, 1.7], [12, 2.2], [15, 2.7], [18, 3.05], [20, 3.15], [23, 3.05],
  [26, 2.75], [30, 2.3], [34, 1.85], [38, 1.4], [42, 0.95], [46, 0.75], [48, 0.7],
];

/** An hours → metres series as a hydrograph with every hour lasting `secondsPerHour`. */
export function compressHours(hours: ReadonlyArray<readonly [number, number]>, secondsPerHour: number): HydrographPoint[] {
  return hours.map(([h, levelM]) => ({ tS: h * secondsPerHour, levelM }));
}

/**
 * KIM_LONG_2020_HOURS with its 80 hours squeezed into `durationS` seconds. The default (600 s)
 * takes the river from BĐ1 to BĐ3 in 150 s at speed 1, so a demo shows every alarm level within
 * three minutes. `durationS: 80 * 3600` gives real time.
 */
export function kimLong2020Hydrograph({ durationS = 600 }: { durationS?: number } = {}): HydrographPoint[] {
  const last = KIM_LONG_2020_HOURS[KIM_LONG_2020_HOURS.length - 1]![0];
  return KIM_LONG_2020_HOURS.map(([h, levelM]) => ({ tS: (h / last) * durationS, levelM }));
}

/** Linear interpolation; holds the end values outside the hydrograph. */
export function levelAt(hydrograph: readonly HydrographPoint[], tS: number): number {
  const first = hydrograph[0];
  if (!first) throw new Error('empty hydrograph');
  if (tS <= first.tS) return first.levelM;
  for (let i = 1; i < hydrograph.length; i++) {
    const b = hydrograph[i]!;
    if (tS <= b.tS) {
      const a = hydrograph[i - 1]!;
      return b.tS === a.tS ? b.levelM : a.levelM + ((b.levelM - a.levelM) * (tS - a.tS)) / (b.tS - a.tS);
    }
  }
  return hydrograph[hydrograph.length - 1]!.levelM;
}

interface Replay {
  hydrograph: HydrographPoint[];
  t0: number;
  speed: number;
  timer: NodeJS.Timeout;
  done: () => void;
}

export class WaterLevelStationSimulator extends ModbusSimulator {
  private levelM = 0.6;
  private batteryV = 12.8;
  private sensorFault = false;
  private current: Replay | undefined;

  /** Sets the level (m) and ends a replay in progress. */
  setLevel(m: number): void {
    this.stopReplay();
    this.levelM = m;
  }

  setBattery(volts: number): void {
    this.batteryV = volts;
  }

  /** No echo: the level register reads 0x7FFF and status bit 0 is set. */
  setSensorFault(on: boolean): void {
    this.sensorFault = on;
  }

  /** The level the station reports at time `ts` (m). */
  level(ts = Date.now()): number {
    const r = this.current;
    return r ? levelAt(r.hydrograph, ((ts - r.t0) / 1000) * r.speed) : this.levelM;
  }

  /**
   * Moves the level along `hydrograph` in real time divided by `speed`; resolves at its end (or
   * when stopReplay()/stop() ends it), leaving the level at the last value reached.
   */
  replay(hydrograph: readonly HydrographPoint[], { speed = 1 }: { speed?: number } = {}): Promise<void> {
    if (hydrograph.length === 0) throw new Error('empty hydrograph');
    if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
    this.stopReplay();
    const sorted = [...hydrograph].sort((a, b) => a.tS - b.tS);
    const durationMs = (Math.max(0, sorted[sorted.length - 1]!.tS) * 1000) / speed;
    return new Promise((resolve) => {
      const r: Replay = {
        hydrograph: sorted,
        t0: Date.now(),
        speed,
        timer: setTimeout(() => this.stopReplay(), durationMs),
        done: resolve,
      };
      this.current = r;
    });
  }

  stopReplay(): void {
    const r = this.current;
    if (!r) return;
    this.levelM = this.level();
    this.current = undefined;
    clearTimeout(r.timer);
    r.done();
  }

  override async stop(): Promise<void> {
    this.stopReplay();
    await super.stop();
  }

  protected register(area: 'holding' | 'input', address: number, ts: number): number {
    if (area === 'holding') {
      switch (address) {
        case 0: return this.sensorFault ? NO_ECHO : int16Word(this.level(ts) * 100);
        case 1: return Math.round(this.batteryV * 100) & 0xffff;
        case 2: return this.sensorFault ? 0x0001 : 0x0000;
      }
    }
    throw illegalAddress(area, address);
  }
}

if (isMain(import.meta.url)) {
  const sim = new WaterLevelStationSimulator();
  sim.record = false;
  const opts: SimStartOptions = { port: Number(argValue('port') ?? 5020), unitId: Number(argValue('unit-id') ?? 1) };
  const host = argValue('host');
  if (host) opts.host = host;
  const speed = Number(argValue('speed') ?? 1);
  await sim.start(opts);
  console.log(`water-level station (radar-water-level) listening on ${sim.host}:${sim.port}, unit ${opts.unitId}; Kim Long 2020 replay at speed ${speed}`);
  const shutdown = (): void => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  for (;;) await sim.replay(kimLong2020Hydrograph(), { speed });
}
