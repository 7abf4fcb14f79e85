/** The driver extension point: one small interface, one folder per protocol (drivers/modbus, …). */
import type { DeviceProfile, DriverHealth, Logger, Reading } from '@ioc/shared';
import type { DeviceConfig } from '../config/schema.js';

export interface DriverContext {
  logger: Logger;
  /**
   * Hands one poll's normalized readings to the gateway, which resolves once they are committed to
   * the SQLite outbox (polls of several drivers may share a commit). A poll counts as done only
   * after this resolves, and a driver polls again only then: nothing piles up in memory. Storage
   * errors are the gateway's to count and report; the promise does not reject for them.
   */
  emit(readings: Reading[]): Promise<void>;
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
