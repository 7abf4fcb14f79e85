/**
 * Modbus TCP driver: polls one device per its profile and hands normalized readings to the gateway.
 *
 * One poll = the planned block reads, then one emit() with one reading per point, all stamped with
 * the time the poll started. Polls never overlap (each schedules the next with setTimeout when it
 * is done). When the device stops answering, each point gets one q "bad" comm_error reading at the
 * moment it goes down — not one per failed poll — and the driver reconnects with capped backoff.
 */
import { Backoff, type ByteOrder, type DeviceProfile, type DriverHealth, type Logger, type ModbusPoint, type Reading } from '@ioc/shared';
import type { DeviceConfig } from '../../config/schema.js';
import { profileProblems } from '../../config/profiles.js';
import { decodeRegisters } from '../../normalize/decode.js';
import { createPointNormalizer, normalizeComError, type PointNormalizer } from '../../normalize/normalize.js';
import type { Driver, DriverContext, DriverFactory } from '../types.js';
import { ModbusError, ModbusTcpConnection } from './connection.js';
import { planReads, type ReadBlock } from './plan.js';

export { ModbusError, ModbusTcpConnection } from './connection.js';
export { planReads, type ReadBlock } from './plan.js';

const MAX_ERROR_LENGTH = 512;
/** Exceptions a device may answer to a multi-point read across a hole in its register map. */
const ILLEGAL_ADDRESS = 2;
const ILLEGAL_VALUE = 3;
/**
 * How long stop() lets a poll in flight finish. The device may already have answered (the value is
 * given out): that reading must still reach the outbox, not be thrown away with the connection.
 */
const STOP_GRACE_MS = 250;

export interface ModbusDriverOptions {
  /** Reconnect backoff; defaults: min(poll interval, 1 s) doubling up to max(poll interval, 30 s). */
  backoff?: { initialMs: number; maxMs: number };
}

class BlockError extends ModbusError {
  constructor(
    err: ModbusError,
    readonly block: ReadBlock,
    metrics: string,
  ) {
    super(`${block.area} ${block.start}..${block.start + block.count - 1} (${metrics}): ${err.message}`, err.kind, err.code);
  }
}

export class ModbusDriver implements Driver {
  readonly kind = 'modbus';
  readonly dev: string;
  private readonly log: Logger;
  private readonly points: readonly ModbusPoint[];
  private readonly normalizers: PointNormalizer[];
  private readonly byteOrders: ByteOrder[];
  private readonly pollMs: number;
  private readonly backoff: Backoff;
  private blocks: ReadBlock[];
  private onePerPoint = false;
  /** Reused for each 1- or 2-register value handed to the decoder. */
  private readonly regs = [0, 0];

  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private conn: ModbusTcpConnection | undefined;
  private state: DriverHealth['state'] = 'stopped';
  private lastError: string | undefined;
  private lastReadTs: number | null = null;
  private downSince = 0;
  private failedPolls = 0;

  constructor(
    private readonly device: DeviceConfig,
    profile: DeviceProfile,
    private readonly ctx: DriverContext,
    opts: ModbusDriverOptions = {},
  ) {
    this.dev = device.id;
    this.log = ctx.logger;
    const problems = profileProblems(profile);
    if (problems.length) throw new Error(`device "${device.id}" (profile ${profile.model}): ${problems.join('; ')}`);
    this.points = profile.points;
    this.normalizers = profile.points.map((p) => createPointNormalizer(device.id, p, profile));
    this.byteOrders = profile.points.map((p) => p.byteOrder ?? profile.byteOrder ?? 'ABCD');
    this.blocks = planReads(profile.points);
    this.pollMs = device.pollIntervalMs ?? profile.pollIntervalMs;
    const b = opts.backoff ?? { initialMs: Math.min(this.pollMs, 1000), maxMs: Math.max(this.pollMs, 30_000) };
    this.backoff = new Backoff(b.initialMs, b.maxMs);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Unknown until the first poll; "ok" so that a device already down at start is reported once.
    this.state = 'ok';
    const { host, port, unitId } = this.device.connection;
    this.log.info({ host, port, unitId, pollMs: this.pollMs, requests: this.blocks.length }, 'modbus polling started');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A poll in flight gets a short grace to finish and emit what the device answered; a device
    // that does not answer within it does not hold the stop up.
    const inflight = this.inflight;
    if (inflight) {
      let grace: NodeJS.Timeout | undefined;
      const ms = Math.min(STOP_GRACE_MS, this.device.connection.timeoutMs);
      await Promise.race([inflight, new Promise<void>((r) => { grace = setTimeout(r, ms); })]);
      clearTimeout(grace);
    }
    this.conn?.close();
    this.conn = undefined;
    // A poll still in flight fails fast once its connection is closed; after this, nothing is emitted.
    await this.inflight;
    this.state = 'stopped';
  }

  health(): DriverHealth {
    return {
      dev: this.dev,
      driver: this.kind,
      state: this.state,
      ...(this.state === 'error' && this.lastError ? { lastError: this.lastError } : {}),
      lastReadTs: this.lastReadTs,
    };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const p = this.tick().catch((err: unknown) => {
        // A bug, not a device failure: log it and keep polling.
        this.log.error({ err }, 'modbus poll crashed');
        this.schedule(this.pollMs);
      });
      this.inflight = p;
      void p.finally(() => {
        if (this.inflight === p) this.inflight = undefined;
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const started = performance.now();
    let readings: Reading[] | undefined;
    let delay = this.pollMs;
    try {
      readings = await this.pollWithFallback();
    } catch (err) {
      if (!this.running) return; // stopping is not a device failure
      const failure = this.failed(err);
      delay = failure.delay;
      // The first failed poll records comm_error readings, so the gap shows in the data.
      if (failure.readings) await this.emit(failure.readings);
    }
    if (readings) {
      // Also while stopping: the device answered, so this poll is done only once its readings are stored.
      this.succeeded(readings);
      await this.emit(readings);
      // Fixed rate while the device answers; a slow poll is followed at once, never overlapped.
      delay = Math.max(0, this.pollMs - (performance.now() - started));
    }
    this.schedule(delay);
  }

  private async pollWithFallback(): Promise<Reading[]> {
    try {
      return await this.poll();
    } catch (err) {
      const splittable =
        err instanceof BlockError &&
        err.kind === 'exception' &&
        (err.code === ILLEGAL_ADDRESS || err.code === ILLEGAL_VALUE) &&
        err.block.points.length > 1 &&
        !this.onePerPoint;
      if (!splittable || !this.running) throw err;
      this.onePerPoint = true;
      this.blocks = planReads(this.points, { onePerPoint: true });
      this.log.warn({ err: err.message, requests: this.blocks.length }, 'device refused a multi-register read; reading one point per request from now on');
      return await this.poll();
    }
  }

  private async connection(): Promise<ModbusTcpConnection> {
    // A device may close an idle connection between polls; that alone is not a failure.
    if (this.conn && !this.conn.closed) return this.conn;
    this.conn?.close();
    const { host, port, unitId, timeoutMs } = this.device.connection;
    const conn = new ModbusTcpConnection({ host, port, unitId, timeoutMs });
    this.conn = conn;
    await conn.open();
    return conn;
  }

  private async poll(): Promise<Reading[]> {
    const conn = await this.connection();
    const ts = this.ctx.now();
    const readings = new Array<Reading>(this.points.length);
    const regs = this.regs;
    for (const block of this.blocks) {
      let data: ArrayLike<number>;
      try {
        data = await conn.read(block.area, block.start, block.count);
      } catch (err) {
        const metrics = block.points.map((m) => this.points[m.index]?.metric).join(', ');
        throw new BlockError(err as ModbusError, block, metrics);
      }
      for (const { index, offset } of block.points) {
        const point = this.points[index]!;
        regs[0] = data[offset] ?? 0;
        regs[1] = data[offset + 1] ?? 0;
        const raw = decodeRegisters(regs, point.type, this.byteOrders[index], point.bit);
        readings[index] = this.normalizers[index]!.apply(raw, ts);
      }
    }
    return readings;
  }

  private succeeded(readings: Reading[]): void {
    this.lastReadTs = readings[0]?.ts ?? this.ctx.now();
    if (this.state === 'error') {
      this.log.info({ downMs: Date.now() - this.downSince, failedPolls: this.failedPolls }, 'device answers again');
    }
    this.state = 'ok';
    this.lastError = undefined;
    this.failedPolls = 0;
    this.backoff.reset();
  }

  /** Records a failed poll; returns the delay before the next attempt and, on the first, comm_error readings. */
  private failed(err: unknown): { delay: number; readings?: Reading[] } {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);
    if (!(err instanceof ModbusError) || err.kind === 'transport') {
      this.conn?.close();
      this.conn = undefined;
    }
    this.failedPolls++;
    const delay = this.backoff.next();
    if (this.state !== 'error') {
      this.state = 'error';
      this.downSince = Date.now();
      this.lastError = message;
      this.log.warn({ err: message, retryInMs: delay }, 'device not answering; its readings are marked comm_error until it recovers');
      const ts = this.ctx.now();
      return { delay, readings: this.normalizers.map((n) => normalizeComError(this.dev, n.metric, n.unit, ts)) };
    }
    if (message !== this.lastError) {
      this.lastError = message;
      this.log.debug({ err: message, retryInMs: delay }, 'device still not answering');
    }
    return { delay };
  }

  private async emit(readings: Reading[]): Promise<void> {
    try {
      await this.ctx.emit(readings);
    } catch (err) {
      // Storage trouble is the gateway's to report; it must not look like a device failure.
      this.log.error({ err }, 'emit failed; readings of this poll are lost');
    }
  }
}

export const createModbusDriver: DriverFactory = (device, profile, ctx) => new ModbusDriver(device, profile, ctx);
