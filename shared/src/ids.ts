/**
 * Names the whole system agrees on: a device id as gateways send it and the registry lists it, a
 * metric name as profiles define it and readings carry it. Schemas, API parameters and configs
 * take their patterns from here.
 */

/** A device id: letters, digits and `_ . : -`, up to 128 characters, starting with a letter or digit. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';

/** A metric name: snake_case, up to 64 characters (`water_level`, `pm2_5`). */
export const METRIC_NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
