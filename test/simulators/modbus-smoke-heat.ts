/**
 * A smoke/heat/CO detector on Modbus TCP, register map as in
 * firmware-configs/profiles/smoke-heat-detector.yaml:
 *   holding 0   temperature, 0.1 °C, int16 (-32768 = sensor open/short)
 *   holding 1   CO, ppm, uint16
 *   holding 2   status word: bit 0 smoke, bit 1 heat alarm, bit 2 CO alarm, bit 15 trouble
 *   coil 0      smoke alarm relay
 *   discrete 0  trouble input
 *
 * startFire() makes the room heat up at a steady rate, fills the smoke chamber after a delay and
 * raises CO, all computed from the time of each read (no timers to drift or to clean up).
 *
 * CLI: node --import tsx test/simulators/modbus-smoke-heat.ts --port 5021 [--fire-after-s N]
 */
import { argValue, illegalAddress, int16Word, isMain, ModbusSimulator, type SimStartOptions } from './modbus-sim-server.js';

/** Fixed-temperature heat alarm (EN 54-5 class A1 detectors alarm between 54 and 65 °C). */
export const HEAT_ALARM_C = 57;
export const CO_ALARM_PPM = 50;
export const SENSOR_OPEN = 0x8000;

export interface FireOptions {
  /** Temperature rise, °C per second (default 1: a flaming fire near the detector). */
  riseCPerS?: number;
  /** Where the temperature levels off (default 95 °C). */
  peakC?: number;
  /** Seconds until the smoke chamber alarms (default 3). */
  smokeAfterS?: number;
  /** CO rise, ppm per second (default 5), up to coPeakPpm (default 400). */
  coPpmPerS?: number;
  coPeakPpm?: number;
  /** Time runs this many times faster (default 1). */
  speed?: number;
}

interface Fire extends Required<FireOptions> {
  t0: number;
  startC: number;
  startCo: number;
}

export class SmokeHeatDetectorSimulator extends ModbusSimulator {
  private temperatureC = 28;
  private coPpm = 0;
  private smoke = false;
  private trouble = false;
  private sensorOpen = false;
  private fire: Fire | undefined;

  setTemperature(c: number): void {
    this.temperatureC = c;
  }

  setCo(ppm: number): void {
    this.coPpm = ppm;
  }

  setSmoke(on: boolean): void {
    this.smoke = on;
  }

  /** Trouble input (discrete 0) and status bit 15. */
  setTrouble(on: boolean): void {
    this.trouble = on;
  }

  /** Temperature sensor open circuit: holding 0 reads 0x8000. */
  setSensorOpen(on: boolean): void {
    this.sensorOpen = on;
  }

  startFire(opts: FireOptions = {}): void {
    this.fire = {
      riseCPerS: opts.riseCPerS ?? 1,
      peakC: opts.peakC ?? 95,
      smokeAfterS: opts.smokeAfterS ?? 3,
      coPpmPerS: opts.coPpmPerS ?? 5,
      coPeakPpm: opts.coPeakPpm ?? 400,
      speed: opts.speed ?? 1,
      t0: Date.now(),
      startC: this.temperatureC,
      startCo: this.coPpm,
    };
  }

  /** Fire out, room back to `ambientC`, smoke chamber clear, CO gone. */
  extinguish(ambientC = 28): void {
    this.fire = undefined;
    this.temperatureC = ambientC;
    this.coPpm = 0;
    this.smoke = false;
  }

  /** What the detector measures at time `ts`. */
  state(ts = Date.now()): { temperatureC: number; coPpm: number; smoke: boolean } {
    const f = this.fire;
    if (!f) return { temperatureC: this.temperatureC, coPpm: this.coPpm, smoke: this.smoke };
    const s = ((ts - f.t0) / 1000) * f.speed;
    return {
      temperatureC: Math.min(Math.max(f.peakC, f.startC), f.startC + f.riseCPerS * s),
      coPpm: Math.min(Math.max(f.coPeakPpm, f.startCo), f.startCo + f.coPpmPerS * s),
      smoke: this.smoke || s >= f.smokeAfterS,
    };
  }

  protected register(area: 'holding' | 'input', address: number, ts: number): number {
    if (area === 'holding') {
      const st = this.state(ts);
      switch (address) {
        case 0: return this.sensorOpen ? SENSOR_OPEN : int16Word(st.temperatureC * 10);
        case 1: return Math.round(st.coPpm) & 0xffff;
        case 2:
          return (st.smoke ? 1 : 0) | (st.temperatureC >= HEAT_ALARM_C ? 2 : 0) | (st.coPpm >= CO_ALARM_PPM ? 4 : 0) | (this.trouble ? 0x8000 : 0);
      }
    }
    throw illegalAddress(area, address);
  }

  protected override bit(area: 'coil' | 'discrete', address: number, ts: number): boolean {
    if (area === 'coil' && address === 0) return this.state(ts).smoke;
    if (area === 'discrete' && address === 0) return this.trouble;
    throw illegalAddress(area, address);
  }
}

if (isMain(import.meta.url)) {
  const sim = new SmokeHeatDetectorSimulator();
  sim.record = false;
  const opts: SimStartOptions = { port: Number(argValue('port') ?? 5021), unitId: Number(argValue('unit-id') ?? 1) };
  const host = argValue('host');
  if (host) opts.host = host;
  await sim.start(opts);
  const fireAfterS = argValue('fire-after-s');
  console.log(`smoke/heat detector (smoke-heat-detector) listening on ${sim.host}:${sim.port}, unit ${opts.unitId}` +
    (fireAfterS ? `; a fire starts in ${fireAfterS} s` : ''));
  if (fireAfterS) setTimeout(() => sim.startFire(), Number(fireAfterS) * 1000);
  const shutdown = (): void => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
