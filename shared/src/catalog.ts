/**
 * Metric catalog: every metric the system carries, with its canonical unit and plausible range.
 * Units are converted to the canonical one at the edge, so the hub stores one unit per metric.
 */

export type MetricKind = 'number' | 'boolean';

export interface MetricDef {
  name: string;
  unit: string;
  kind: MetricKind;
  /** Physically plausible range; a value outside it is stored with q "bad", reason "out_of_range". */
  range?: readonly [number, number];
  /** Feeds a hub alert rule: the gateway outbox never drops these readings to make room. */
  alerting?: boolean;
  vi: string;
  en: string;
}

const defs: MetricDef[] = [
  { name: 'water_level', alerting: true, unit: 'm', kind: 'number', range: [-10, 60], vi: 'Mực nước', en: 'Water level' },
  { name: 'rainfall', alerting: true, unit: 'mm', kind: 'number', range: [0, 500], vi: 'Lượng mưa', en: 'Rainfall' },
  { name: 'temperature', alerting: true, unit: '°C', kind: 'number', range: [-40, 200], vi: 'Nhiệt độ', en: 'Temperature' },
  { name: 'humidity', unit: '%', kind: 'number', range: [0, 100], vi: 'Độ ẩm', en: 'Humidity' },
  { name: 'pm2_5', unit: 'µg/m³', kind: 'number', range: [0, 2000], vi: 'Bụi PM2.5', en: 'PM2.5' },
  { name: 'pm10', unit: 'µg/m³', kind: 'number', range: [0, 5000], vi: 'Bụi PM10', en: 'PM10' },
  { name: 'co', alerting: true, unit: 'ppm', kind: 'number', range: [0, 5000], vi: 'Khí CO', en: 'Carbon monoxide' },
  { name: 'smoke', alerting: true, unit: 'bool', kind: 'boolean', vi: 'Khói', en: 'Smoke' },
  { name: 'lamp_power', unit: 'W', kind: 'number', range: [0, 2000], vi: 'Công suất đèn', en: 'Lamp power' },
  { name: 'lamp_on', unit: 'bool', kind: 'boolean', vi: 'Đèn bật', en: 'Lamp on' },
  { name: 'camera_online', unit: 'bool', kind: 'boolean', vi: 'Camera trực tuyến', en: 'Camera online' },
  { name: 'battery_voltage', unit: 'V', kind: 'number', range: [0, 60], vi: 'Điện áp pin', en: 'Battery voltage' },
  { name: 'status_word', unit: '', kind: 'number', range: [0, 65535], vi: 'Mã trạng thái', en: 'Status word' },
  { name: 'fault', unit: 'bool', kind: 'boolean', vi: 'Lỗi thiết bị', en: 'Device fault' },
  // Test devices only (test/simulators/modbus-counter.ts): each value is a read-request number,
  // so chaos tests and benchmarks can match every stored reading to the request that produced it.
  { name: 'counter', unit: '', kind: 'number', range: [0, 4294967295], vi: 'Bộ đếm thử nghiệm', en: 'Test counter' },
];

export const METRICS: ReadonlyMap<string, MetricDef> = new Map(defs.map((d) => [d.name, d]));

export function metricDef(name: string): MetricDef | undefined {
  return METRICS.get(name);
}

/** Linear units by dimension: factor to the dimension's base unit. */
const linear: Record<string, { dim: string; factor: number }> = {
  m: { dim: 'length', factor: 1 },
  cm: { dim: 'length', factor: 0.01 },
  mm: { dim: 'length', factor: 0.001 },
  ft: { dim: 'length', factor: 0.3048 },
  in: { dim: 'length', factor: 0.0254 },
  V: { dim: 'voltage', factor: 1 },
  mV: { dim: 'voltage', factor: 0.001 },
  W: { dim: 'power', factor: 1 },
  kW: { dim: 'power', factor: 1000 },
  '%': { dim: 'ratio', factor: 1 },
  ppm: { dim: 'fraction', factor: 1 },
  ppb: { dim: 'fraction', factor: 0.001 },
  'µg/m³': { dim: 'density', factor: 1 },
  'mg/m³': { dim: 'density', factor: 1000 },
};

const toCelsius: Record<string, (v: number) => number> = {
  '°C': (v) => v,
  C: (v) => v,
  '°F': (v) => ((v - 32) * 5) / 9,
  F: (v) => ((v - 32) * 5) / 9,
  K: (v) => v - 273.15,
};

/**
 * Returns a function converting values from `from` to `to`, or throws naming both units.
 * Called once per configured point, not per reading, so the hot path is a plain multiply.
 */
export function unitConverter(from: string, to: string): (v: number) => number {
  if (from === to) return (v) => v;
  if (to === '°C') {
    const f = toCelsius[from];
    if (f) return f;
  }
  const a = linear[from];
  const b = linear[to];
  if (a && b && a.dim === b.dim) {
    const k = a.factor / b.factor;
    return (v) => v * k;
  }
  throw new Error(`no conversion from unit "${from}" to "${to}"`);
}
