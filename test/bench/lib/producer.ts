/**
 * Drivers stand-in for the benches: appends polls to the outbox the way Gateway.append does
 * (outbox.append with the alerting flags, then uplink.notify), either
 *  - "saturate": as fast as the pipeline takes them, keeping at most `highWater` unacknowledged
 *    rows (so a steady run measures flow, not a growing backlog), or
 *  - "rate": one poll of `chunk` readings every `everyMs`, recording each poll's append → ack latency.
 * It also meters the outbox: wall and CPU time inside append, and wall time inside the uplink's
 * readRun / ack calls (all synchronous SQLite work on the main thread).
 */
import type { BenchGateway } from './gateway.js';
import { wallNow, type Field } from './common.js';

export type ProducerMode =
  | { mode: 'saturate'; chunk: number; highWater: number }
  | { mode: 'rate'; chunk: number; everyMs: number };

export interface OutboxMeter {
  appends: number;
  readings: number;
  appendWallMs: number;
  appendCpuMs: number;
  readRunWallMs: number;
  readRunCpuMs: number;
  ackWallMs: number;
  ackCpuMs: number;
}

const ZERO: OutboxMeter = { appends: 0, readings: 0, appendWallMs: 0, appendCpuMs: 0, readRunWallMs: 0, readRunCpuMs: 0, ackWallMs: 0, ackCpuMs: 0 };

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

export class Producer {
  readonly meter: OutboxMeter = { ...ZERO };
  /** Append → ack latencies (ms) of polls acknowledged since the last reset (rate mode). */
  latencies: number[] = [];
  private readonly pending: Array<{ last: number; t: number }> = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly onAck = (upTo: number) => {
    const now = wallNow();
    while (this.pending.length && this.pending[0]!.last <= upTo) this.latencies.push(now - this.pending.shift()!.t);
    if (this.waiting && this.running) {
      this.waiting = false;
      setImmediate(this.tick);
    }
  };
  private waiting = false;

  constructor(
    private readonly gw: BenchGateway,
    private readonly field: Field,
    private readonly opts: ProducerMode,
    /** Also take process.cpuUsage() around every append (one getrusage call each). */
    private readonly cpuPerAppend = true,
  ) {
    const ob = gw.outbox;
    const readRun = ob.readRun.bind(ob);
    const ack = ob.ack.bind(ob);
    const m = this.meter;
    ob.readRun = (...a: Parameters<typeof readRun>) => {
      const c = process.cpuUsage();
      const t = performance.now();
      try {
        return readRun(...a);
      } finally {
        m.readRunWallMs += performance.now() - t;
        m.readRunCpuMs += cpuMs(process.cpuUsage(c));
      }
    };
    ob.ack = (upTo: number) => {
      const c = process.cpuUsage();
      const t = performance.now();
      try {
        return ack(upTo);
      } finally {
        m.ackWallMs += performance.now() - t;
        m.ackCpuMs += cpuMs(process.cpuUsage(c));
      }
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.gw.uplink.on('ack', this.onAck);
    if (this.opts.mode === 'rate') this.timer = setInterval(() => this.appendOne(), this.opts.everyMs);
    else setImmediate(this.tick);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.gw.uplink.off('ack', this.onAck);
  }

  resetMeter(): void {
    Object.assign(this.meter, ZERO);
    this.latencies = [];
  }

  private readonly tick = (): void => {
    if (!this.running || this.opts.mode !== 'saturate') return;
    if (this.gw.outbox.depth >= this.opts.highWater) {
      this.waiting = true; // resumed by the next ack
      return;
    }
    this.appendOne();
    setImmediate(this.tick);
  };

  private appendOne(): void {
    const { readings, alerting } = this.field.poll(this.opts.chunk);
    const c0 = this.cpuPerAppend ? process.cpuUsage() : undefined;
    const t0 = performance.now();
    const r = this.gw.outbox.append(readings, alerting);
    const t1 = performance.now();
    if (c0) this.meter.appendCpuMs += cpuMs(process.cpuUsage(c0));
    this.meter.appendWallMs += t1 - t0;
    this.meter.appends++;
    this.meter.readings += readings.length;
    if (r && this.opts.mode === 'rate') this.pending.push({ last: r.last, t: wallNow() - (t1 - t0) });
    this.gw.uplink.notify();
  }
}
