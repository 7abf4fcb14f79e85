/**
 * Shared by the chaos tests (test/chaos/): one hub and one gateway as real processes in a temp
 * dir, counter devices on one CounterDeviceSimulator, seeded randomness, and the reading-by-reading
 * accounting that ends every test (what the devices served against what the hub's SQLite holds).
 *
 * The run's end is always the same: the gateway is stopped gracefully (its drivers finish the poll
 * in flight), then started again with the same outbox and no devices — a gateway that only
 * forwards — until the hub's upTo equals the outbox's lastSeq. Then nothing can still be on its way
 * and the comparison is exact.
 */
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { CounterDeviceSimulator } from '../simulators/modbus-counter.js';
import { EDGE_MAIN, ROOT, getJson, startEdgeProc, startHubProc, type Proc } from './procs.js';
import { writeEdgeConfig, writeHubConfig, type EdgeExtras, type SiteDevice } from './sites.js';
import { hubClient } from './hub-client.js';
import { until } from './until.js';

// --- randomness -------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CHAOS_SEED from the environment, else the test's fixed default (so a failing run can be replayed). */
export function chaosSeed(defaultSeed: number): number {
  const env = process.env.CHAOS_SEED;
  return env !== undefined && env !== '' ? Number(env) >>> 0 : defaultSeed;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- devices ------------------------------------------------------------------------------------

export interface CounterDevice extends SiteDevice {
  unitId: number;
}

/** `n` test-counter devices on one simulator, unit ids 1..n. */
export function counterDevices(n: number, port: number, pollIntervalMs: number): CounterDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `cnt-${String(i + 1).padStart(2, '0')}`,
    profile: 'test-counter',
    port,
    unitId: i + 1,
    pollIntervalMs,
    // Generous: a chaos test is about the link and the processes, not about slow devices.
    timeoutMs: 5000,
    name: `Counter ${i + 1}`,
  }));
}

// --- processes --------------------------------------------------------------------------------

interface HubReady {
  mqttPort: number;
  httpPort: number;
  pkiDir: string;
  dataDir: string;
}

export interface ChaosSiteOptions {
  /** Short name for the temp dir and the log files. */
  name: string;
  gatewayId: string;
  devices: SiteDevice[];
  hubLogLevel?: string;
  edgeLogLevel?: string;
  edge?: EdgeExtras;
}

/**
 * One hub and one gateway for a chaos test. The hub's first start picks free ports; hub.yaml is
 * then rewritten with them so a restarted hub comes back where the gateway (or a proxy) expects it.
 * Every process's output goes to {dir}/{hub,edge}-N.log; CHAOS_KEEP=1 keeps the dir for a post-mortem.
 */
export class ChaosSite {
  readonly dir: string;
  hub: Proc | undefined;
  edge: Proc | undefined;
  hubReady: HubReady | undefined;
  hubConfig = '';
  edgeConfig = '';
  /** Same gateway id and outbox, no devices: forwards what is buffered and reads nothing new. */
  drainConfig = '';
  private readonly procs: Proc[] = [];
  private readonly logs: WriteStream[] = [];
  private hubStarts = 0;
  private edgeStarts = 0;

  private constructor(readonly opts: ChaosSiteOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `ioc-chaos-${opts.name}-`));
  }

  /** Creates the site and registers its cleanup (processes killed, temp dir removed) on `t`. */
  static create(t: TestContext, opts: ChaosSiteOptions): ChaosSite {
    const site = new ChaosSite(opts);
    t.after(() => site.cleanup());
    return site;
  }

  get api() {
    if (!this.hubReady) throw new Error('hub not started');
    return hubClient(`http://127.0.0.1:${this.hubReady.httpPort}`);
  }

  get dataDir(): string {
    if (!this.hubReady) throw new Error('hub not started');
    return this.hubReady.dataDir;
  }

  private logFile(name: string): (line: string) => void {
    const out = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
    this.logs.push(out);
    return (line) => out.write(line + '\n');
  }

  async startHub(): Promise<Proc> {
    const site = {
      dir: this.dir, gatewayId: this.opts.gatewayId, devices: this.opts.devices,
      ...(this.opts.hubLogLevel ? { logLevel: this.opts.hubLogLevel } : {}),
      ...(this.hubReady ? { mqttPort: this.hubReady.mqttPort, httpPort: this.hubReady.httpPort } : {}),
    };
    this.hubConfig = writeHubConfig(site);
    const hub = startHubProc(this.hubConfig, { onLine: this.logFile(`hub-${++this.hubStarts}`) });
    this.procs.push(hub);
    this.hub = hub;
    const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
    const r: HubReady = { mqttPort: Number(ready.mqttPort), httpPort: Number(ready.httpPort), pkiDir: String(ready.pkiDir), dataDir: String(ready.dataDir) };
    if (this.hubReady && (r.mqttPort !== this.hubReady.mqttPort || r.httpPort !== this.hubReady.httpPort)) {
      throw new Error(`hub came back on other ports: ${JSON.stringify(r)} vs ${JSON.stringify(this.hubReady)}`);
    }
    this.hubReady = r;
    return hub;
  }

  /**
   * Writes edge.yaml (and the drain config); `uplinkPort` is the hub's MQTT port unless the
   * gateway should go through a proxy.
   */
  writeEdgeConfigs(uplinkPort?: number): void {
    if (!this.hubReady) throw new Error('start the hub first');
    const base = {
      dir: this.dir, gatewayId: this.opts.gatewayId, devices: this.opts.devices,
      mqttPort: uplinkPort ?? this.hubReady.mqttPort, pkiDir: this.hubReady.pkiDir,
      logLevel: this.opts.edgeLogLevel ?? 'info',
    };
    this.edgeConfig = writeEdgeConfig(base, { ...this.opts.edge });
    this.drainConfig = writeEdgeConfig({ ...base, devices: [] }, { ...this.opts.edge, file: 'edge-drain.yaml' });
  }

  async startEdge(config = this.edgeConfig): Promise<Proc> {
    if (!config) throw new Error('writeEdgeConfigs() first');
    const edge = startEdgeProc(config, { onLine: this.logFile(`edge-${++this.edgeStarts}`) });
    this.procs.push(edge);
    this.edge = edge;
    await edge.waitFor((l) => l.msg === 'gateway started', 60_000);
    return edge;
  }

  /** `ioc-edge status --json` for this gateway: reads outbox.db itself, running or not. */
  edgeStatus(): EdgeStatusReport {
    const r = spawnSync(process.execPath, ['--conditions=ioc-source', '--import', 'tsx', EDGE_MAIN, 'status', '--json', '--config', this.edgeConfig], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(`ioc-edge status failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as EdgeStatusReport;
  }

  async gateway(): Promise<GatewayView> {
    const g = (await getJson<{ gateways: GatewayView[] }>(`${this.api.base}/api/v1/gateways`)).gateways.find((x) => x.id === this.opts.gatewayId);
    if (!g) throw new Error(`gateway ${this.opts.gatewayId} not in /api/v1/gateways`);
    return g;
  }

  /**
   * Waits until the hub's upTo reaches `target`. Fails at once, naming the contract, if the outbox
   * ever holds an ack beyond what the hub has accounted: rows were deleted that the hub never
   * stored (e.g. deleted on the broker's PUBACK instead of the hub's ack).
   */
  async waitUpTo(target: number, what: string, timeoutMs = 60_000): Promise<GatewayView> {
    const deadline = Date.now() + timeoutMs;
    let last: GatewayView | undefined;
    for (;;) {
      // Outbox first, hub second: an ack the outbox holds was sent for an upTo the hub had then.
      let ob: OutboxSnapshot | undefined;
      try { ob = outboxSnapshot(this.dir); } catch { ob = undefined; }
      try { last = await this.gateway(); } catch { last = undefined; }
      if (ob && last && ob.ackedUpTo > last.upTo) {
        throw new Error(`the gateway deleted rows up to ${ob.ackedUpTo} but the hub has accounted only up to ${last.upTo}: acknowledged without being stored`);
      }
      if (last && last.upTo >= target) return last;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: hub upTo ${last?.upTo}, accounted ${JSON.stringify(last?.accountedRanges.slice(0, 5))}; outbox ${JSON.stringify(ob)}`);
      }
      await sleep(100);
    }
  }

  /**
   * Ends the run: stops the reading gateway gracefully, starts the forwarding-only one, waits until
   * the hub has accounted every seq the outbox ever assigned, stops it. Returns the final outbox.
   */
  async finish(timeoutMs = 90_000): Promise<FinishReport> {
    const stopped = await this.edge?.stop('SIGTERM');
    if (stopped && stopped.code !== 0) throw new Error(`gateway exited with ${stopped.code ?? stopped.signal} on SIGTERM`);
    const before = this.edgeStatus();
    if (!before.outbox) throw new Error('no outbox after the run');
    const lastSeq = before.outbox.lastSeq;
    await this.startEdge(this.drainConfig);
    await this.waitUpTo(lastSeq, `hub upTo to reach the outbox lastSeq ${lastSeq}`, timeoutMs);
    // The ack reaches the outbox a moment after the hub commits.
    await until(() => outboxSnapshot(this.dir).ackedUpTo === lastSeq, 'the outbox to see the final ack', 20_000, 100);
    const drained = await this.edge!.stop('SIGTERM');
    if (drained.code !== 0) throw new Error(`forwarding gateway exited with ${drained.code ?? drained.signal} on SIGTERM`);
    const after = this.edgeStatus();
    if (after.outbox?.lastSeq !== lastSeq) throw new Error(`the forwarding gateway assigned seqs: ${before.outbox.lastSeq} → ${after.outbox?.lastSeq}`);
    return { lastSeq, run: before, final: after };
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.procs.map((p) => p.stop('SIGKILL')));
    await Promise.allSettled(this.logs.map((s) => new Promise<void>((r) => s.end(() => r()))));
    if (process.env.CHAOS_KEEP) console.error(`# chaos ${this.opts.name}: kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface FinishReport {
  /** The outbox's last assigned seq; the hub's upTo reached it. */
  lastSeq: number;
  /** `ioc-edge status` right after the reading gateway stopped (its last status: counters). */
  run: EdgeStatusReport;
  /** … and after the forwarding gateway drained the outbox. */
  final: EdgeStatusReport;
}

export interface EdgeStatusReport {
  gateway: string;
  outbox: { depth: number; lastSeq: number; ackedUpTo: number; dropped: number; bytes: number } | null;
  lastStatus: { counters?: Record<string, number>; outbox?: { dropped: number; lastSeq: number } } | null;
}

export interface GatewayView {
  id: string;
  online: boolean;
  upTo: number;
  stored: number;
  duplicates: number;
  dropped: number;
  quarantined: number;
  accountedRanges: Array<[number, number]>;
  outbox: { depth: number; lastSeq: number; ackedUpTo: number; dropped: number } | null;
}

// --- the hub's database -----------------------------------------------------------------------

export interface HubRow {
  seq: number;
  dev: string;
  metric: string;
  value: number | null;
  q: string;
  reason: string | null;
}

export interface HubRecord {
  /** Every stored reading of the gateway, by seq. */
  rows: HubRow[];
  quarantineSeqs: number[];
  /** Seq ranges the gateway reported dropped (as the hub recorded them). */
  dropped: Array<[number, number]>;
  stats: { stored: number; duplicates: number; dropped: number; quarantined: number };
}

/** Reads the hub's SQLite file directly (read-only; the hub may be stopped or running). */
export function readHubDb(dataDir: string, gw: string): HubRecord {
  const db = new Database(join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT seq, dev, metric, value, q, reason FROM readings WHERE gw = ? ORDER BY seq').all(gw) as HubRow[];
    const quarantineSeqs = db.prepare('SELECT seq FROM quarantine WHERE gw = ? ORDER BY seq').pluck().all(gw) as number[];
    const dropped = (db.prepare('SELECT first, last FROM dropped WHERE gw = ? ORDER BY first').raw().all(gw) as Array<[number, number]>);
    const stats = (db.prepare('SELECT stored, duplicates, dropped, quarantined FROM gw_stats WHERE gw = ?').get(gw) as HubRecord['stats'] | undefined)
      ?? { stored: 0, duplicates: 0, dropped: 0, quarantined: 0 };
    return { rows, quarantineSeqs, dropped, stats };
  } finally {
    db.close();
  }
}

/**
 * Problems with the gateway's seq space at the hub: stored ∪ quarantined ∪ reported-dropped must be
 * exactly 1..lastSeq, each seq once.
 */
export function seqProblems(rec: HubRecord, lastSeq: number): string[] {
  const problems: string[] = [];
  const seen = new Uint8Array(lastSeq + 2);
  const mark = (seq: number, what: string) => {
    if (!(Number.isInteger(seq) && seq >= 1 && seq <= lastSeq)) problems.push(`${what} seq ${seq} outside 1..${lastSeq}`);
    else if (seen[seq]) problems.push(`seq ${seq} accounted twice (${what})`);
    else seen[seq] = 1;
  };
  for (const r of rec.rows) mark(r.seq, 'reading');
  for (const s of rec.quarantineSeqs) mark(s, 'quarantine');
  for (const [a, b] of rec.dropped) for (let s = a; s <= b; s++) mark(s, 'dropped');
  let missing = 0;
  let firstMissing = 0;
  for (let s = 1; s <= lastSeq; s++) if (!seen[s]) { if (!missing) firstMissing = s; missing++; }
  if (missing) problems.push(`${missing} seq(s) in 1..${lastSeq} neither stored, quarantined nor dropped (first ${firstMissing})`);
  return problems.slice(0, 20);
}

// --- reading-by-reading accounting of counter devices ----------------------------------------

export interface CounterAccount {
  served: number;
  stored: number;
  /** Per device: served values missing at the hub. */
  missing: Map<string, number[]>;
  problems: string[];
}

/**
 * Compares, per counter device, the values its unit served with the hub's `counter` readings:
 * in seq order the stored values must rise strictly (so: no value twice, and in the order served),
 * every stored value must have been served, no comm_error reading may appear, and every served
 * value missing at the hub must be accepted by `mayMiss` (default: none may be missing).
 */
export function accountCounters(
  sim: CounterDeviceSimulator,
  devices: readonly CounterDevice[],
  rows: readonly HubRow[],
  mayMiss: (dev: CounterDevice, n: number, prevSeq: number, nextSeq: number) => string | null = () => 'missing',
): CounterAccount {
  const problems: string[] = [];
  const missing = new Map<string, number[]>();
  const byDev = new Map<string, HubRow[]>();
  for (const r of rows) {
    let list = byDev.get(r.dev);
    if (!list) byDev.set(r.dev, (list = []));
    list.push(r);
  }
  let served = 0;
  let stored = 0;
  for (const d of devices) {
    const values = sim.servedCounts(d.unitId);
    served += values.length;
    const m = values.length;
    // The simulator numbers each unit's requests 1, 2, 3, …: served is exactly 1..m.
    if (values.some((v, i) => v !== i + 1)) problems.push(`${d.id}: simulator served list is not 1..${m}`);
    const mine = (byDev.get(d.id) ?? []).filter((r) => r.metric === 'counter');
    const seqOf = new Map<number, number>();
    let prev = 0;
    for (const r of mine) {
      if (r.value === null || r.q !== 'good') {
        problems.push(`${d.id}: seq ${r.seq} is q=${r.q} reason=${r.reason ?? ''} value=${r.value}`);
        continue;
      }
      const v = r.value;
      if (!Number.isInteger(v) || v < 1 || v > m) problems.push(`${d.id}: seq ${r.seq} value ${v} was never served (served 1..${m})`);
      else if (v <= prev) problems.push(`${d.id}: seq ${r.seq} value ${v} after ${prev}: ${v === prev ? 'duplicated' : 'out of order'}`);
      else seqOf.set(v, r.seq);
      prev = Math.max(prev, v);
      stored++;
    }
    // Seq of the next stored value above n, for every n (one backward pass).
    const nextSeqOf = new Array<number>(m + 2).fill(Number.POSITIVE_INFINITY);
    for (let n = m; n >= 1; n--) nextSeqOf[n] = seqOf.get(n + 1) ?? nextSeqOf[n + 1]!;
    const miss: number[] = [];
    let prevSeq = 0;
    for (let n = 1; n <= m; n++) {
      const s = seqOf.get(n);
      if (s !== undefined) { prevSeq = s; continue; }
      miss.push(n);
      const why = mayMiss(d, n, prevSeq, nextSeqOf[n]!);
      if (why) problems.push(`${d.id}: served value ${n} is not at the hub (${why})`);
    }
    if (miss.length) missing.set(d.id, miss);
  }
  return { served, stored, missing, problems };
}

/** First few problems as one assertion message. */
export function report(problems: readonly string[], max = 15): string {
  return problems.length <= max ? problems.join('\n') : `${problems.slice(0, max).join('\n')}\n… and ${problems.length - max} more`;
}

// --- the gateway's outbox, read from outside ----------------------------------------------------

export interface OutboxSnapshot {
  depth: number;
  lastSeq: number;
  ackedUpTo: number;
  dropped: number;
}

/** Reads {dir}/edge-data/outbox.db read-only (e.g. right after a kill -9, before the restart). */
export function outboxSnapshot(dir: string): OutboxSnapshot {
  const db = new Database(join(dir, 'edge-data', 'outbox.db'), { readonly: true, fileMustExist: true });
  try {
    // One read transaction: a consistent snapshot while the gateway keeps writing.
    return db.transaction((): OutboxSnapshot => {
      const agg = db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS maxSeq FROM outbox').get() as { n: number; maxSeq: number };
      const meta = new Map((db.prepare('SELECT k, v FROM meta').all() as Array<{ k: string; v: number }>).map((r) => [r.k, r.v]));
      return {
        depth: agg.n,
        lastSeq: Math.max(agg.maxSeq, meta.get('last_seq') ?? 0),
        ackedUpTo: meta.get('acked_up_to') ?? 0,
        dropped: meta.get('dropped_total') ?? 0,
      };
    })();
  } finally {
    db.close();
  }
}
