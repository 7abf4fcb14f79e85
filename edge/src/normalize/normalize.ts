/**
 * Decoded value → canonical Reading: scale and offset from the profile, unit conversion to the
 * catalog unit, quality flags. Everything that can be checked is checked once when the point is
 * set up, so apply() is a few arithmetic steps and one object.
 */
import { metricDef, unitConverter, type DeviceProfile, type ModbusPoint, type Reading } from '@ioc/shared';

export interface PointNormalizer {
  metric: string;
  /** Canonical catalog unit: every reading of this metric carries it. */
  unit: string;
  /** Catalog default for "feeds an alert rule" (the device config may override it). */
  alerting: boolean;
  apply(raw: number | boolean, ts: number): Reading;
}

/**
 * Removes float noise from scale/offset/unit arithmetic (0.1 * 3 = 0.30000000000000004) by
 * rounding to 12 significant digits. Relative, not absolute (e.g. 1e-9), rounding: an absolute
 * step would wreck large counters (v * 1e9 leaves exact integer range above 9e6) and erase tiny values.
 * No sensor has 12 significant digits, so nothing real is lost.
 */
export function roundNoise(v: number): number {
  if (v === 0 || Number.isInteger(v)) return v;
  const shift = 11 - Math.floor(Math.log10(Math.abs(v)));
  if (shift <= 0) return Math.round(v);
  if (shift > 22) return v; // beyond exact powers of ten; such values are not measurements
  const p = 10 ** shift;
  return Math.round(v * p) / p;
}

function where(dev: string, profile: DeviceProfile, point: ModbusPoint): string {
  return `device "${dev}" (profile ${profile.model}), metric "${point.metric}"`;
}

export function createPointNormalizer(dev: string, point: ModbusPoint, profile: DeviceProfile): PointNormalizer {
  const def = metricDef(point.metric);
  if (!def) throw new Error(`${where(dev, profile, point)}: not in the metric catalog`);
  const { metric } = point;
  const unit = def.unit;
  const alerting = def.alerting === true;
  const invalidRaw = point.invalidRaw;
  const sourceIsBoolean = point.type === 'bool' || point.type === 'bit';

  if (def.kind === 'boolean') {
    if (point.unit !== undefined && point.unit !== unit) {
      throw new Error(`${where(dev, profile, point)}: a boolean metric has no unit to convert (got "${point.unit}")`);
    }
    return {
      metric,
      unit,
      alerting,
      apply(raw, ts) {
        if (raw === invalidRaw) return { dev, metric, value: null, unit, ts, q: 'bad', reason: 'sensor_fault' };
        return { dev, metric, value: typeof raw === 'boolean' ? raw : raw !== 0, unit, ts, q: 'good' };
      },
    };
  }

  if (sourceIsBoolean) {
    throw new Error(`${where(dev, profile, point)}: type "${point.type}" gives true/false but the metric is a number`);
  }
  let convert: (v: number) => number;
  try {
    convert = unitConverter(point.unit ?? unit, unit);
  } catch (err) {
    throw new Error(`${where(dev, profile, point)}: ${(err as Error).message}`);
  }
  const scale = point.scale ?? 1;
  const offset = point.offset ?? 0;
  // Ranges are in the catalog unit, checked after conversion.
  const range = point.range ?? def.range;
  const lo = range ? range[0] : -Infinity;
  const hi = range ? range[1] : Infinity;

  return {
    metric,
    unit,
    alerting,
    apply(raw, ts) {
      if (raw === invalidRaw) return { dev, metric, value: null, unit, ts, q: 'bad', reason: 'sensor_fault' };
      const v = convert((typeof raw === 'number' ? raw : raw ? 1 : 0) * scale + offset);
      if (!Number.isFinite(v)) return { dev, metric, value: null, unit, ts, q: 'bad', reason: 'not_a_number' };
      const value = roundNoise(v);
      // Keep the implausible value: a technician needs to see what the device said.
      if (value < lo || value > hi) return { dev, metric, value, unit, ts, q: 'bad', reason: 'out_of_range' };
      return { dev, metric, value, unit, ts, q: 'good' };
    },
  };
}

/** The reading a failed read stands for: the value is missing, and the hub should know why. */
export function normalizeComError(dev: string, metric: string, unit: string, ts: number): Reading {
  return { dev, metric, value: null, unit, ts, q: 'bad', reason: 'comm_error' };
}
