/**
 * One Modbus TCP connection to one unit, on modbus-serial's ModbusRTU client.
 *
 * We open the TCP socket ourselves and hand it to connectTCP ({socket}) because modbus-serial does
 * not report every way a connection dies: after a reset it neither emits "close" nor fails the
 * requests in flight (they wait for their timeout), and close() never calls back on a dead socket.
 * Owning the socket lets every pending call fail at once when it closes, and lets close() be final.
 */
import { Socket } from 'node:net';
import ModbusSerial from 'modbus-serial';
import type { RegisterArea } from '@ioc/shared';

// CommonJS module whose typings declare the client as `default` (module.exports.default === module.exports).
const ModbusRTU = ModbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

export type ModbusErrorKind =
  /** The link failed (refused, reset, timeout, garbled frame): reconnect. */
  | 'transport'
  /** The device answered with a Modbus exception: the link is fine, the request is not. */
  | 'exception';

export class ModbusError extends Error {
  constructor(
    message: string,
    readonly kind: ModbusErrorKind,
    /** Modbus exception code (2 = illegal data address, …) when kind is "exception". */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

export interface ModbusTcpOptions {
  host: string;
  port: number;
  unitId: number;
  /** Connect timeout and per-request response timeout. */
  timeoutMs: number;
}

interface LibError {
  message?: string;
  modbusCode?: number;
  errno?: string;
  code?: string;
}

export class ModbusTcpConnection {
  private readonly socket = new Socket();
  private client: ModbusRTU | undefined;
  private closedFlag = false;
  private lastSocketError: Error | undefined;
  private readonly pending = new Set<(err: Error) => void>();

  constructor(private readonly opts: ModbusTcpOptions) {
    // A listener must exist, or a socket error would crash the process; the reason is reported
    // by the close handler, which always follows.
    this.socket.on('error', (err) => {
      this.lastSocketError = err;
    });
    this.socket.once('close', () => {
      const why = this.lastSocketError ? (this.lastSocketError as NodeJS.ErrnoException).code ?? this.lastSocketError.message : 'closed by the device';
      this.fail(new ModbusError(`connection to ${this.endpoint} lost: ${why}`, 'transport'));
    });
  }

  get endpoint(): string {
    return `${this.opts.host}:${this.opts.port} unit ${this.opts.unitId}`;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  async open(): Promise<void> {
    const { host, port, timeoutMs } = this.opts;
    const connected = new Promise<void>((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.connect({ host, port });
    try {
      await this.guard(connected, timeoutMs, `no answer within ${timeoutMs} ms`);
    } catch (err) {
      throw new ModbusError(`cannot connect to ${this.endpoint}: ${(err as Error).message.replace(/^connection to .* lost: /, '')}`, 'transport');
    }
    this.socket.setNoDelay(true);
    const client = new ModbusRTU();
    client.on('error', (err: unknown) => {
      this.lastSocketError = err instanceof Error ? err : new Error(String(err));
    });
    await client.connectTCP(host, { port, socket: this.socket });
    // After connectTCP: set before, it would also arm an idle timeout on the socket.
    client.setID(this.opts.unitId);
    client.setTimeout(timeoutMs);
    this.client = client;
  }

  /**
   * Reads `count` registers (holding/input) or bits (coil/discrete, as 0/1) from `start`.
   * Rejects with a ModbusError; never hangs longer than the timeout, even if the socket dies.
   */
  async read(area: RegisterArea, start: number, count: number): Promise<ArrayLike<number>> {
    const client = this.client;
    if (!client || this.closedFlag) throw new ModbusError(`connection to ${this.endpoint} is not open`, 'transport');
    let request: Promise<{ data: Array<number | boolean> }>;
    switch (area) {
      case 'holding': request = client.readHoldingRegisters(start, count); break;
      case 'input': request = client.readInputRegisters(start, count); break;
      case 'coil': request = client.readCoils(start, count); break;
      case 'discrete': request = client.readDiscreteInputs(start, count); break;
    }
    let data: Array<number | boolean>;
    try {
      // The library's own timeout fires first; ours (+ margin) only guards against it not firing.
      ({ data } = await this.guard(request, this.opts.timeoutMs + 1000, `no answer within ${this.opts.timeoutMs} ms`));
    } catch (err) {
      throw this.describe(err);
    }
    if (data.length < count) {
      throw new ModbusError(`short answer: ${data.length} of ${count} values`, 'transport');
    }
    if (area === 'coil' || area === 'discrete') {
      // The answer is padded to whole bytes; keep the bits asked for, as numbers for the decoder.
      const bits = new Array<number>(count);
      for (let i = 0; i < count; i++) bits[i] = data[i] ? 1 : 0;
      return bits;
    }
    return data as number[];
  }

  /** Closes at once; pending calls fail. Safe to call more than once, and on a dead device. */
  close(): void {
    if (this.client) this.client.destroy(() => undefined);
    this.socket.destroy();
    this.fail(new ModbusError(`connection to ${this.endpoint} closed`, 'transport'));
  }

  private fail(err: ModbusError): void {
    this.closedFlag = true;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
  }

  /** Settles with `p`, or rejects when the connection closes or `ms` pass. */
  private guard<T>(p: Promise<T>, ms: number, timeoutMessage: string): Promise<T> {
    if (this.closedFlag) return Promise.reject(new ModbusError(`connection to ${this.endpoint} is closed`, 'transport'));
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(onClose);
      };
      const onClose = (err: Error): void => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => onClose(new ModbusError(timeoutMessage, 'transport')), ms);
      this.pending.add(onClose);
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  /** modbus-serial's errors (some are not Error objects) → ModbusError with a plain message. */
  private describe(err: unknown): ModbusError {
    if (err instanceof ModbusError) return err;
    const e = (err ?? {}) as LibError;
    if (typeof e.modbusCode === 'number') {
      return new ModbusError(`device answered with ${e.message ?? `Modbus exception ${e.modbusCode}`}`, 'exception', e.modbusCode);
    }
    if (e.errno === 'ETIMEDOUT') return new ModbusError(`no answer within ${this.opts.timeoutMs} ms`, 'transport');
    if (e.message === 'Port Not Open') return new ModbusError(`connection to ${this.endpoint} is not open`, 'transport');
    return new ModbusError(e.message ?? String(err), 'transport');
  }
}
