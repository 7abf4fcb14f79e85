/** Driver registry: the one place that names the protocols. A new protocol = a folder + one line. */
import { createModbusDriver } from './modbus/index.js';
import type { DriverFactory } from './types.js';

export type { Driver, DriverContext, DriverFactory } from './types.js';

export const driverFactories: Record<string, DriverFactory> = {
  modbus: createModbusDriver,
};
