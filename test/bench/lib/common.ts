/**
 * Shared pieces of the benchmarks (test/bench/*.bench.ts): where they write, the simulated field
 * (devices registered at the hub, readings a poll emits), timing, tables and the JSON summary.
 *
 * Benches are standalone scripts in the style of pino's benchmarks/: each prints its numbers and
 * their ratio to a baseline measured in the same run, records them in results/latest.json, and
 * exits non-zero only when it crashes (a missed target prints MISSED, it does not fail the run).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePki, type PkiPaths, type Reading } from '@ioc/shared';
import type { DeviceEntry, GatewayEntry } from '../../../hub/src/config/schema.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/**
 * Scratch space on the repository's disk (not os.tmpdir(), which may be a tmpfs where fsync
 * costs nothing and synchronous=FULL could not be measured). `.data/` is git-ignored.
 */
export const DATA_DIR = join(ROOT, 'test/bench/.data');
export const RESULTS_FILE = join(ROOT, 'test/bench/results/latest.json');

/** Gateway ids the hub registry knows (one per run, so a reused hub never mixes two runs). */
export const GATEWAYS = Array.from({ length: 16 }, (_, i) => `gw-bench-${String(i + 1).padStart(2, '0')}`);
export const PROBE_DEV = 'bench-probe';

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes on one host. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Like sleep, but does not keep the process alive (for the losing side of a Promise.race). */
export const timeout = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function freshDir(name: string): string {
  const dir = join(DATA_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** One demo PKI for every bench run (RSA key generation is slow): CA, server cert, a client cert per gateway. */
export function benchPki(): PkiPaths {
  return ensurePki(join(DATA_DIR, 'pki'), { serverNames: ['localhost', '127.0.0.1'], clients: GATEWAYS });
}

// --- the simulated field ------------------------------------------------------------------------

interface Point {
  dev: string;
  metric: string;
  unit: string;
  lo: number;
  hi: number;
  alerting: boolean;
}

const CENTRE = { communeCode: '19816', provinceCode: '46', lat: 16.4637, lon: 107.5588 };
const pad = (i: number) => String(i).padStart(2, '0');

/**
 * 8 river stations (water level, with Báo động levels the values stay under, so the flood rule
 * evaluates every reading without raising), 8 air stations (PM2.5, temperature, humidity),
 * 4 rain gauges: 36 points, as a commune gateway might carry. A background load: the default
 * rules judge every reading and none raises an alert. Plus the probe device that the
 * benches use to time single readings end to end.
 */
const POINTS: Point[] = [
  ...Array.from({ length: 8 }, (_, i) => ({ dev: `bench-wl-${pad(i + 1)}`, metric: 'water_level', unit: 'm', lo: 0.2, hi: 0.95, alerting: true })),
  ...Array.from({ length: 8 }, (_, i) => [
    { dev: `bench-air-${pad(i + 1)}`, metric: 'pm2_5', unit: 'µg/m³', lo: 5, hi: 80, alerting: false },
    { dev: `bench-air-${pad(i + 1)}`, metric: 'temperature', unit: '°C', lo: 22, hi: 34, alerting: true },
    { dev: `bench-air-${pad(i + 1)}`, metric: 'humidity', unit: '%', lo: 55, hi: 98, alerting: false },
  ]).flat(),
  // Rain of one poll: at most 0.05 mm, torrential by the second, yet no band of the default rain rule is crossed within a run.
  ...Array.from({ length: 4 }, (_, i) => ({ dev: `bench-rain-${pad(i + 1)}`, metric: 'rainfall', unit: 'mm', lo: 0, hi: 0.05, alerting: true })),
];

/** Registry devices for every gateway id in `gateways` (device ids are suffixed per gateway after the first). */
export function registry(gateways: readonly string[] = GATEWAYS): { gateways: GatewayEntry[]; devices: DeviceEntry[] } {
  const devices: DeviceEntry[] = [];
  gateways.forEach((gw, gi) => {
    const seen = new Set<string>();
    for (const p of [...POINTS, { dev: PROBE_DEV, metric: 'counter' } as Point]) {
      if (seen.has(p.dev)) continue;
      seen.add(p.dev);
      const entry: DeviceEntry = {
        id: devId(p.dev, gi), gateway: gw, profile: 'bench', name: p.dev, ...CENTRE,
      };
      if (p.metric === 'water_level') Object.assign(entry, { station: p.dev, river: 'Hương', alarmLevels: { bd1: 1.0, bd2: 2.0, bd3: 3.5 } });
      devices.push(entry);
    }
  });
  return { gateways: gateways.map((id) => ({ id, name: id, communeCode: CENTRE.communeCode })), devices };
}

function devId(dev: string, gatewayIndex: number): string {
  return gatewayIndex === 0 ? dev : `${dev}.g${gatewayIndex}`;
}

/** Emits readings the way polls do: point after point, fresh objects, current timestamps. */
export class Field {
  private i = 0;
  private readonly points: Point[];
  readonly probeDev: string;

  constructor(gatewayIndex = 0) {
    this.points = POINTS.map((p) => ({ ...p, dev: devId(p.dev, gatewayIndex) }));
    this.probeDev = devId(PROBE_DEV, gatewayIndex);
  }

  /** `n` readings; `alerting` (same length) marks those that feed an alert rule. */
  poll(n: number, ts = Date.now()): { readings: Reading[]; alerting: boolean[] } {
    const readings: Reading[] = new Array(n);
    const alerting: boolean[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const p = this.points[this.i++ % this.points.length]!;
      const value = Math.round((p.lo + Math.random() * (p.hi - p.lo)) * 1000) / 1000;
      readings[k] = { dev: p.dev, metric: p.metric, value, unit: p.unit, ts, q: 'good' };
      alerting[k] = p.alerting;
    }
    return { readings, alerting };
  }

  probe(value: number, ts = Date.now()): Reading {
    return { dev: this.probeDev, metric: 'counter', value, unit: '', ts, q: 'good' };
  }
}

// --- numbers and tables -------------------------------------------------------------------------

export function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function pct(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${(n * 100).toFixed(digits)} %`;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Prints rows as an aligned text table (numbers right-aligned). */
export function table(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const right = headers.map((_, i) => cells.every((r) => /^[-—\d.,% ×µsx<>≈]*$/.test(r[i] ?? '')));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r));
}

export function heading(title: string): void {
  console.log(`\n## ${title}\n`);
}

export interface Target {
  name: string;
  /** Measured value and the bound it must meet. */
  value: number;
  bound: number;
  /** 'min': value >= bound passes; 'max': value <= bound passes. */
  kind: 'min' | 'max';
  unit: string;
}

/** Prints MET / MISSED for a target (never throws: a missed target is a finding, not a crash). */
export function verdict(t: Target): { name: string; value: number; bound: number; unit: string; met: boolean } {
  const met = t.kind === 'min' ? t.value >= t.bound : t.value <= t.bound;
  const rel = t.kind === 'min' ? '≥' : '≤';
  const show = (v: number) => (t.unit === '%' ? `${(v * 100).toFixed(1)} %` : `${fmt(v, Number.isInteger(v) || v >= 10 ? 0 : 2)} ${t.unit}`);
  console.log(`${met ? 'MET   ' : 'MISSED'}  ${t.name}: ${show(t.value)} (target ${rel} ${show(t.bound)})`);
  return { name: t.name, value: t.value, bound: t.bound, unit: t.unit, met };
}

/** Merges one bench's section into results/latest.json (read, replace the key, write). */
export function saveResults(bench: string, data: unknown): void {
  mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
  let all: Record<string, unknown> = {};
  if (existsSync(RESULTS_FILE)) {
    try {
      all = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
    } catch {
      all = {};
    }
  }
  all.machine = machine();
  all[bench] = { at: new Date().toISOString(), ...(data as object) };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`\nresults: ${RESULTS_FILE} (${bench})`);
}

export function machine() {
  const c = cpus();
  return { node: process.version, cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), platform: process.platform };
}

/** CPU time (user + system, ms) of this process since `from`. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** Busy CPU time of the whole machine, all cores (ms, from the kernel's per-CPU counters). */
export function machineBusyMs(): number {
  let busy = 0;
  for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/** Fraction of all cores busy over the next `ms` (from the kernel's per-CPU counters). */
export async function cpuBusy(ms = 500): Promise<number> {
  const snap = () => cpus().map((c) => ({ idle: c.times.idle, total: Object.values(c.times).reduce((a, b) => a + b, 0) }));
  const a = snap();
  await sleep(ms);
  const b = snap();
  let idle = 0;
  let total = 0;
  b.forEach((x, i) => {
    idle += x.idle - a[i]!.idle;
    total += x.total - a[i]!.total;
  });
  return total > 0 ? 1 - idle / total : 0;
}

/**
 * Every figure here assumes the benches have the cores to themselves: waits up to
 * BENCH_IDLE_WAIT_S (default 60) seconds for other processes to quiet down, then warns if not.
 */
export async function warnIfBusy(): Promise<void> {
  const waitS = Number(process.env.BENCH_IDLE_WAIT_S ?? 60);
  const deadline = Date.now() + waitS * 1000;
  let busy = await cpuBusy();
  if (busy > 0.2 && waitS > 0) {
    console.log(`${pct(busy)} of the ${cpus().length} cores are busy with other processes: waiting up to ${waitS} s for them to quiet down…`);
    while (busy > 0.2 && Date.now() < deadline) busy = await cpuBusy(1000);
  }
  if (busy > 0.2) {
    console.log(`WARNING: ${pct(busy)} of the ${cpus().length} cores were busy before this bench started (other processes): ` +
      'the figures below will be low and noisy. Run the benches on an otherwise idle machine.');
  }
}

/** Environment knob: BENCH_QUICK=1 shortens every measured window (for a smoke run). */
export const QUICK = process.env.BENCH_QUICK === '1';
export function seconds(full: number): number {
  return QUICK ? Math.max(0.5, full / 4) : full;
}
