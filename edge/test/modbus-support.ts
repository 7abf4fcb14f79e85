/** Shared by the Modbus driver tests: a DriverContext that records emits and log lines. */
import { createLogger, type DeviceProfile, type LoggerFactoryOptions, type Reading } from '@ioc/shared';
import type { DeviceConfig } from '../src/config/schema.js';
import type { DriverContext } from '../src/drivers/types.js';

export interface Recorder extends DriverContext {
  /** One entry per emit() call. */
  emits: Reading[][];
  logs: Array<{ level: number; msg: string; [k: string]: unknown }>;
}

export function recorder(): Recorder {
  const logs: Recorder['logs'] = [];
  const destination: NonNullable<LoggerFactoryOptions['destination']> = { write: (line: string) => void logs.push(JSON.parse(line)) };
  const emits: Reading[][] = [];
  return {
    emits,
    logs,
    logger: createLogger({ name: 'test', level: 'debug', destination }),
    emit: async (readings) => void emits.push(readings),
    now: Date.now,
  };
}

export function deviceConfig(id: string, port: number, extra: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    id,
    profile: 'test',
    driver: 'modbus',
    connection: { host: '127.0.0.1', port, unitId: 1, timeoutMs: 500 },
    pollIntervalMs: 100,
    enabled: true,
    ...extra,
  };
}

export function profile(points: DeviceProfile['points'], extra: Partial<DeviceProfile> = {}): DeviceProfile {
  return { model: 'test', protocol: 'modbus', pollIntervalMs: 1000, points, ...extra };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
