/**
 * A tipping-bucket rain gauge logger on Modbus TCP, register map as in
 * firmware-configs/profiles/rain-gauge-float.yaml (float32, CDAB word order: low word first):
 *   input 0-1  rain accumulated since the start of the observation day, mm
 *   input 2-3  logger battery voltage, V
 * Any other address answers Modbus exception 2 (illegal data address).
 *
 * The logger counts whole bucket tips (0.2 mm), so the total it reports is the rain so far rounded
 * down to a tip. replay() moves the day's total along a series (hours → mm, like a station's
 * hourly record) with time compressed, and resets it to 0 where the series says a new
 * observation day begins.
 *
 * CLI: node --import tsx test/simulators/modbus-rain-gauge.ts --port 5023 [--speed N]
 * replays RAIN_DAY_HOURS over and over and prints the port it listens on.
 */
import { argValue, illegalAddress, isMain, ModbusSimulator, type SimStartOptions } from './modbus-sim-server.js';

export const TIP_MM = 0.2;

/** One point of a rainfall series: the logger's running daily total at an hour. */
export interface RainPoint {
  hours: number;
  /** Rain since the start of the observation day, mm (a value below the previous one is the day's reset). */
  totalMm: number;
}

/**
 * A day of heavy rain in central Vietnam (a storm's rain band over Huế, as in October 2020),
 * hour by hour from the start of the observation day: light rain, then three hours at 25 mm/h,
 * three at 35 mm/h, three at 75 mm/h, easing off; 453 mm in the day. The next observation day
 * starts at hour 24 (the total resets to 0) and stays dry.
 */
export const HEAVY_RAIN_DAY: readonly RainPoint[] = [
  { hours: 0, totalMm: 0 }, { hours: 6, totalMm: 12 }, { hours: 9, totalMm: 87 }, { hours: 12, totalMm: 192 },
  { hours: 15, totalMm: 417 }, { hours: 18, totalMm: 447 }, { hours: 24, totalMm: 453 },
];

/** Rain accumulated at `hours` along the series (linear within an hour step; 0 after a reset point). */
export function totalAt(series: readonly RainPoint[], hours: number): number {
  const first = series[0];
  if (!first) throw new Error('empty rainfall series');
  if (hours <= first.hours) return first.totalMm;
  for (let i = 1; i < series.length; i++) {
    const b = series[i]!;
    if (hours <= b.hours) {
      const a = series[i - 1]!;
      // A drop is the logger's reset at the start of a day: the total restarts from 0.
      const from = b.totalMm < a.totalMm ? 0 : a.totalMm;
      return b.hours === a.hours ? b.totalMm : from + ((b.totalMm - from) * (hours - a.hours)) / (b.hours - a.hours);
    }
  }
  return series[series.length - 1]!.totalMm;
}

/** float32 → two registers in CDAB order (low word first). */
export function float32Cdab(v: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return [b.readUInt16BE(2), b.readUInt16BE(0)];
}

interface Replay {
  series: readonly RainPoint[];
  t0: number;
  /** Series hours per real second. */
  hoursPerS: number;
  /** Hour at which the replay ends and holds its last value. */
  endHours: number;
}

export class RainGaugeSimulator extends ModbusSimulator {
  private totalMm = 0;
  private batteryV = 12.6;
  private current: Replay | undefined;

  /** Sets the day's total (mm) and ends a replay in progress. */
  setTotal(mm: number): void {
    this.current = undefined;
    this.totalMm = mm;
  }

  setBattery(volts: number): void {
    this.batteryV = volts;
  }

  /**
   * Runs the series from its first hour, `hoursPerS` series hours per real second, then holds the
   * value at `untilHours` (default: the series' last hour). Returns at once; the total follows the
   * clock of each read.
   */
  replay(series: readonly RainPoint[], { hoursPerS, untilHours }: { hoursPerS: number; untilHours?: number }): void {
    if (!series.length) throw new Error('empty rainfall series');
    if (!(hoursPerS > 0)) throw new Error(`hoursPerS must be > 0, got ${hoursPerS}`);
    this.current = { series, t0: Date.now(), hoursPerS, endHours: untilHours ?? series[series.length - 1]!.hours };
  }

  /** Series hour of the replay at `ts` (null without a replay). */
  hourAt(ts = Date.now()): number | null {
    const r = this.current;
    return r ? Math.min(r.endHours, r.series[0]!.hours + ((ts - r.t0) / 1000) * r.hoursPerS) : null;
  }

  /** The total the logger reports at `ts`: whole bucket tips, mm. */
  total(ts = Date.now()): number {
    const r = this.current;
    const mm = r ? totalAt(r.series, this.hourAt(ts)!) : this.totalMm;
    // Whole tips (a small epsilon so 0.2 × 5 is 1.0 mm, not 0.8).
    return Math.round(Math.floor(mm / TIP_MM + 1e-9) * TIP_MM * 10) / 10;
  }

  protected override registers(area: 'holding' | 'input', address: number, count: number, ts: number): number[] {
    if (area !== 'input' || address < 0 || address + count > 4) throw illegalAddress(area, address + count - 1);
    const map = [...float32Cdab(this.total(ts)), ...float32Cdab(this.batteryV)];
    return map.slice(address, address + count);
  }

  protected register(area: 'holding' | 'input', address: number, ts: number): number {
    return this.registers(area, address, 1, ts)[0]!;
  }
}

if (isMain(import.meta.url)) {
  const sim = new RainGaugeSimulator();
  sim.record = false;
  const opts: SimStartOptions = { port: Number(argValue('port') ?? 5023), unitId: Number(argValue('unit-id') ?? 1) };
  const host = argValue('host');
  if (host) opts.host = host;
  const speed = Number(argValue('speed') ?? 1);
  await sim.start(opts);
  console.log(`rain gauge (rain-gauge-float) listening on ${sim.host}:${sim.port}, unit ${opts.unitId}; heavy rain day at speed ${speed}`);
  const shutdown = (): void => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const dayS = 24 * 3600;
  for (;;) {
    sim.replay(HEAVY_RAIN_DAY, { hoursPerS: speed / 3600 });
    await new Promise((r) => setTimeout(r, (dayS * 1000) / speed));
  }
}
