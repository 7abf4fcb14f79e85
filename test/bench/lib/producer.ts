/**
 * Drivers stand-in for the benches: hands polls to the outbox the way Gateway does (through the
 * OutboxGroupWriter, which commits the polls of one event-loop turn together and wakes the uplink),
 * either
 *  - "saturate": `drivers` independent pollers, each handing over its next poll as soon as the
 *    previous one is committed, as fast as the pipeline takes them, keeping at most `highWater`
 *    unacknowledged rows (so a steady run measures flow, not a growing backlog), or
 *  - "rate": one poll of `chunk` readings every `everyMs`, recording each poll's hand-over → ack latency.
 * It also meters the outbox: wall and CPU time inside append (one per group commit), and wall time
 * inside the uplink's readRun / ack calls (all synchronous SQLite work on the main thread).
 */
import { OutboxGroupWriter } from '../../../edge/src/outbox/index.js';
import type { BenchGateway } from './gateway.js';
import { wallNow, type Field } from './common.js';

export type ProducerMode =
  | { mode: 'saturate'; chunk: number; highWater: number; drivers?: number }
  | { mode: 'rate'; chunk: number; everyMs: number };

export interface OutboxMeter {
  /** Polls handed over, and group commits (outbox transactions) that wrote them. */
  polls: number;
  appends: number;
  readings: number;
  appendWallMs: number;
  appendCpuMs: number;
  readRunWallMs: number;
  readRunCpuMs: number;
  ackWallMs: number;
  ackCpuMs: number;
}

const ZERO: OutboxMeter = { polls: 0, appends: 0, readings: 0, appendWallMs: 0, appendCpuMs: 0, readRunWallMs: 0, readRunCpuMs: 0, ackWallMs: 0, ackCpuMs: 0 };

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
    for (const w of this.waiters.splice(0)) w();
  };

  private readonly writer: OutboxGroupWriter;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly gw: BenchGateway,
    private readonly field: Field,
    private readonly opts: ProducerMode,
    /** Also take process.cpuUsage() around every append (one getrusage call each). */
    private readonly cpuPerAppend = true,
  ) {
    const ob = gw.outbox;
    const append = ob.append.bind(ob);
    const readRun = ob.readRun.bind(ob);
    const ack = ob.ack.bind(ob);
    const m = this.meter;
    ob.append = (...a: Parameters<typeof append>) => {
      const c = this.cpuPerAppend ? process.cpuUsage() : undefined;
      const t = performance.now();
      try {
        return append(...a);
      } finally {
        m.appendWallMs += performance.now() - t;
        if (c) m.appendCpuMs += cpuMs(process.cpuUsage(c));
        m.appends++;
        m.readings += a[0].length;
      }
    };
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
    this.writer = new OutboxGroupWriter(ob, { onCommit: () => gw.uplink.notify() });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.gw.uplink.on('ack', this.onAck);
    if (this.opts.mode === 'rate') this.timer = setInterval(() => void this.handOver(), this.opts.everyMs);
    else for (let d = 0; d < (this.opts.drivers ?? 1); d++) void this.driverLoop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.gw.uplink.off('ack', this.onAck);
    for (const w of this.waiters.splice(0)) w();
  }

  resetMeter(): void {
    Object.assign(this.meter, ZERO);
    this.latencies = [];
  }

  /** One emulated driver: next poll as soon as the last one is committed, paused above highWater. */
  private async driverLoop(): Promise<void> {
    if (this.opts.mode !== 'saturate') return;
    const { highWater } = this.opts;
    while (this.running) {
      if (this.gw.outbox.depth >= highWater) {
        await new Promise<void>((r) => this.waiters.push(r)); // resumed by the next ack
        continue;
      }
      await this.handOver();
    }
  }

  private async handOver(): Promise<void> {
    const { readings, alerting } = this.field.poll(this.opts.chunk);
    const t = wallNow();
    this.meter.polls++;
    const r = await this.writer.write(readings, alerting);
    if (r && this.opts.mode === 'rate') this.pending.push({ last: r.last, t });
  }
}
