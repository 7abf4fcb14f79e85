/** The driver extension point: one small interface, one folder per protocol (drivers/modbus, …). */
import type { DeviceProfile, DriverHealth, Logger, Reading } from '@ioc/shared';
import type { DeviceConfig } from '../config/schema.js';

export interface DriverContext {
  logger: Logger;
  /**
   * Hands normalized readings to the gateway, which writes them to the SQLite outbox before it
   * returns. A poll counts as done only after this returns: nothing waits in memory.
   */
  emit(readings: Reading[]): void;
  now(): number;
}

export interface Driver {
  readonly dev: string;
  readonly kind: string;
  start(): Promise<void>;
  /** Stops polling and closes the connection; never touches the outbox. */
  stop(): Promise<void>;
  health(): DriverHealth;
}

export type DriverFactory = (device: DeviceConfig, profile: DeviceProfile, ctx: DriverContext) => Driver;
