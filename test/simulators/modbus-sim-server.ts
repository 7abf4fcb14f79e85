/**
 * Base of the Modbus TCP device simulators: a real modbus-serial ServerTCP on a free port that
 * answers from the subclass's register map and records every value it serves, so a test can
 * compare what the hub stored with what the device gave out.
 */
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ServerTCP, type IServiceVector } from 'modbus-serial';

export type SimArea = 'holding' | 'input' | 'coil' | 'discrete';

export interface ServedValue {
  /** Date.now() when the request was answered. */
  ts: number;
  area: SimArea;
  address: number;
  /** The register as sent on the wire (uint16), or 0/1 for a coil or discrete input. */
  raw: number;
  unitId: number;
}

export interface SimStartOptions {
  host?: string;
  /** 0 (default) picks a free port; read it from `.port` after start(). */
  port?: number;
  /** Unit id the device answers to; requests for others get no answer, like an RTU bus. */
  unitId?: number;
}

/** Modbus exception 2: the address is not in the device's map. */
export function illegalAddress(area: SimArea, address: number): Error & { modbusErrorCode: number } {
  return Object.assign(new Error(`illegal data address ${area} ${address}`), { modbusErrorCode: 2 });
}

async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function listen(vector: IServiceVector, host: string, port: number, unitID: number): Promise<ServerTCP> {
  return new Promise((resolve, reject) => {
    const server = new ServerTCP(vector, { host, port, unitID });
    server.on('error', () => undefined);
    server.on('socketError', () => undefined);
    server.once('serverError', (err) => {
      server.close(() => undefined);
      reject(err);
    });
    server.once('initialized', () => resolve(server));
  });
}

export abstract class ModbusSimulator {
  /** The TCP port after start(); kept after stop() so a test can restart on the same port. */
  port = 0;
  host = '127.0.0.1';
  /** Every value served to a read request, in order. */
  readonly served: ServedValue[] = [];
  /** Set false for long-running simulators (the demo) so memory stays flat. */
  record = true;
  private server: ServerTCP | undefined;

  /** One register of the map at time `ts`; throw illegalAddress() for an address not in it. */
  protected abstract register(area: 'holding' | 'input', address: number, ts: number, unitId: number): number;

  /** One coil or discrete input; the default map has none. */
  protected bit(area: 'coil' | 'discrete', address: number, _ts: number, _unitId: number): boolean {
    throw illegalAddress(area, address);
  }

  /** A whole register read, answered from one instant so multi-register values are consistent. */
  protected registers(area: 'holding' | 'input', address: number, count: number, ts: number, unitId: number): number[] {
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = this.register(area, address + i, ts, unitId) & 0xffff;
    return out;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(opts: SimStartOptions = {}): Promise<void> {
    if (this.server) throw new Error('simulator already running');
    this.host = opts.host ?? '127.0.0.1';
    const unitId = opts.unitId ?? 1;
    const vector = this.vector();
    // modbus-serial turns port 0 into 502, so find a free port first (and retry if it was taken).
    for (let attempt = 0; ; attempt++) {
      const port = opts.port || (await freePort(this.host));
      try {
        this.server = await listen(vector, this.host, port, unitId);
        this.port = port;
        return;
      } catch (err) {
        if (opts.port || attempt >= 4 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  /** Closes the listener and drops every client connection, like a device losing power. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private recordValues(area: SimArea, address: number, values: readonly number[], ts: number, unitId: number): void {
    if (!this.record) return;
    for (let i = 0; i < values.length; i++) this.served.push({ ts, area, address: address + i, raw: values[i]!, unitId });
  }

  private vector(): IServiceVector {
    const regs = (area: 'holding' | 'input') => (address: number, count: number, unitId: number): number[] => {
      const ts = Date.now();
      const values = this.registers(area, address, count, ts, unitId);
      this.recordValues(area, address, values, ts, unitId);
      return values;
    };
    const one = (area: 'holding' | 'input') => (address: number, unitId: number): number => regs(area)(address, 1, unitId)[0]!;
    const bit = (area: 'coil' | 'discrete') => (address: number, unitId: number): boolean => {
      const ts = Date.now();
      const v = this.bit(area, address, ts, unitId);
      this.recordValues(area, address, [v ? 1 : 0], ts, unitId);
      return v;
    };
    return {
      getHoldingRegister: one('holding'),
      getMultipleHoldingRegisters: regs('holding'),
      getInputRegister: one('input'),
      getMultipleInputRegisters: regs('input'),
      getCoil: bit('coil'),
      getDiscreteInput: bit('discrete'),
    };
  }
}

/** Signed 16-bit value → the register word a device sends. */
export function int16Word(v: number): number {
  return Math.round(v) & 0xffff;
}

/** True when this module is the script node was started with (for the simulators' CLI entries). */
export function isMain(importMetaUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && importMetaUrl === pathToFileURL(script).href;
}

/** `--name value` from argv, or undefined. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
