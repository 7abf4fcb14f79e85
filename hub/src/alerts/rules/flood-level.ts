/**
 * Flood alarm levels (Báo động I/II/III) at a river station: the water_level metric of a device
 * with `alarmLevels` in the registry. Level n while the water is at or above BĐn; a level is left
 * only when the water falls `hysteresisM` below its threshold, so a river hovering at BĐ2 does not
 * flap between 1 and 2.
 */
import type { Reading } from '@ioc/shared';
import type { DeviceEntry } from '../../config/schema.js';
import type { AlertRule, LocalizedText } from '../types.js';

export const FLOOD_LEVEL_RULE = 'flood-level';
export const FLOOD_METRIC = 'water_level';

export interface FloodLevelOptions {
  /** Metres below a threshold before its level is left (default 0). */
  hysteresisM?: number;
}

function thresholds(device: DeviceEntry): [number, number, number] | null {
  const a = device.alarmLevels;
  return a ? [a.bd1, a.bd2, a.bd3] : null;
}

/** Level for a value: the highest BĐn reached; falling, a level holds until value < BĐn - h. */
export function floodLevel(levels: readonly number[], current: number, value: number, hysteresisM = 0): number {
  let raw = 0;
  for (let i = 0; i < levels.length; i++) if (value >= levels[i]!) raw = i + 1;
  if (raw >= current) return raw;
  for (let k = current; k > raw; k--) if (value >= levels[k - 1]! - hysteresisM) return k;
  return raw;
}

function place(device: DeviceEntry): LocalizedText {
  if (!device.station) return { vi: device.name, en: device.name };
  return {
    vi: `Trạm ${device.station}${device.river ? ` (sông ${device.river})` : ''}`,
    en: `${device.station} station${device.river ? ` (${device.river} river)` : ''}`,
  };
}

export function floodLevelRule(opts: FloodLevelOptions = {}): AlertRule {
  const h = opts.hysteresisM ?? 0;
  return {
    kind: FLOOD_LEVEL_RULE,
    metricsFor: (device) => (device.alarmLevels ? [FLOOD_METRIC] : []),
    evaluate(device, currentLevel, reading: Reading) {
      const levels = thresholds(device);
      if (!levels || reading.metric !== FLOOD_METRIC) return null;
      if (reading.q === 'bad' || typeof reading.value !== 'number') return null;
      return floodLevel(levels, currentLevel, reading.value, h);
    },
    message(device, level, value, peakLevel) {
      const p = place(device);
      const v = value === null ? '' : `: ${value.toFixed(2)} m`;
      if (level > 0) return { vi: `Báo động cấp ${level} — ${p.vi}${v}`, en: `Alarm level ${level} — ${p.en}${v}` };
      const peakVi = peakLevel ? ` (cao nhất cấp ${peakLevel})` : '';
      const peakEn = peakLevel ? ` (peak level ${peakLevel})` : '';
      return { vi: `Hết báo động${peakVi} — ${p.vi}${v}`, en: `Alarm cleared${peakEn} — ${p.en}${v}` };
    },
  };
}
