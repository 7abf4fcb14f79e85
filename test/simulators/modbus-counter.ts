/**
 * A counting device for chaos tests and benchmarks (profile firmware-configs/profiles/test-counter.yaml).
 *
 * Each unit id keeps its own request counter. Every read request a unit answers takes the next
 * number n (1, 2, 3, …) and serves it in every register pair: even address 2k = high word of n,
 * odd address 2k+1 = low word, so a uint32 at any even address reads n. One server answers any
 * unit id, so one simulator stands in for many devices (one edge.yaml device per unit id).
 *
 * How a test matches readings: with device D on unit u polling the `counter` metric (one point,
 * one request per poll), every reading D stores has value n for exactly one request that unit u
 * answered. So `servedCounts(u)` is the list of values the device gave out, in order, and the
 * hub's stored values for (D, counter) must be a subset of it with no value twice (exactly-once)
 * and in the same order by ts. Values served but never stored are either still in flight or
 * answers the gateway never received (the link died mid-request; the driver then records a
 * comm_error instead) — a chaos test checks that every missing n lies in such a window.
 * A Reading is identified by (dev, metric, ts), so load is raised with more unit ids (devices),
 * not more metrics per device.
 *
 * CLI: node --import tsx test/simulators/modbus-counter.ts --port 5022 [--registers 50]
 */
import { argValue, illegalAddress, isMain, ModbusSimulator } from './modbus-sim-server.js';

export interface CounterRequest {
  ts: number;
  unitId: number;
  address: number;
  count: number;
  /** The request number the unit served in every register pair of this read. */
  n: number;
}

/** The register word served at `address` for request number `n`. */
export function counterWord(n: number, address: number): number {
  return address % 2 === 0 ? Math.floor(n / 0x10000) & 0xffff : n & 0xffff;
}

export class CounterDeviceSimulator extends ModbusSimulator {
  readonly registerCount: number;
  /** One entry per answered read request (when `record` is on; `served` holds every register). */
  readonly requests: CounterRequest[] = [];
  private readonly counters = new Map<number, number>();

  constructor({ registers = 50 }: { registers?: number } = {}) {
    super();
    if (!(registers >= 1 && registers <= 65536)) throw new Error(`registers must be 1..65536, got ${registers}`);
    this.registerCount = registers;
  }

  /** Request numbers unit `unitId` served, in order. */
  servedCounts(unitId: number): number[] {
    return this.requests.filter((r) => r.unitId === unitId).map((r) => r.n);
  }

  /** Answers every unit id unless one is given. */
  override start(opts: { host?: string; port?: number; unitId?: number } = {}): Promise<void> {
    return super.start({ ...opts, unitId: opts.unitId ?? 255 });
  }

  protected register(): number {
    throw new Error('unreachable: registers() answers every read');
  }

  protected override registers(area: 'holding' | 'input', address: number, count: number, ts: number, unitId: number): number[] {
    if (area !== 'holding' || address + count > this.registerCount) throw illegalAddress(area, address + count - 1);
    const n = (this.counters.get(unitId) ?? 0) + 1;
    this.counters.set(unitId, n);
    if (this.record) this.requests.push({ ts, unitId, address, count, n });
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = counterWord(n, address + i);
    return out;
  }
}

if (isMain(import.meta.url)) {
  const sim = new CounterDeviceSimulator({ registers: Number(argValue('registers') ?? 50) });
  sim.record = false;
  await sim.start({ port: Number(argValue('port') ?? 5022), ...(argValue('host') ? { host: argValue('host') } : {}) });
  console.log(`counter device (test-counter) listening on ${sim.host}:${sim.port}, any unit id, ${sim.registerCount} registers`);
  const shutdown = (): void => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
