/**
 * Which readings the hub stores; the others are quarantined (accounted, kept, counted).
 *
 * The hub also repeats the edge normalizer's plausibility check (edge/src/normalize): a number
 * outside the catalog's `range` for its metric is stored with q "bad", reason "out_of_range", the
 * value kept. A gateway that is not ours (or a broken one) may send such a value as "good"; the
 * alert rules ignore bad readings, so an impossible 900 m water level raises no flood alarm.
 * Readings the gateway already marked bad keep their quality and reason; an uncertain one outside
 * the range is as impossible as a good one and is flagged the same way.
 *
 * With a clock window, a reading dated too far after the hub's clock (or too long before it: a
 * gateway clock reset to 1970 or 2000 after a power cut without NTP) is stored with q "bad",
 * reason "clock_skew", whatever its quality: its ts cannot be trusted, so it must not become the
 * device's latest value (a far-future one would stay latest for good) nor reach an alert rule.
 */
import { metricDef, type Reading } from '@ioc/shared';
import type { Registry } from '../config/registry.js';
import type { Admit, HubFlag, QuarantineCause } from '../store/types.js';

export interface ClockWindow {
  /** Largest ts - now accepted (ms). */
  maxFutureMs: number;
  /** Largest now - ts accepted (ms); Infinity for none. */
  maxPastMs: number;
  now?: () => number;
}

/** The window of hub.yaml's `ingest` section. */
export function clockWindow(ingest: { maxClockSkewMs: number; maxReadingAgeDays: number }, now?: () => number): ClockWindow {
  return {
    maxFutureMs: ingest.maxClockSkewMs,
    maxPastMs: ingest.maxReadingAgeDays > 0 ? ingest.maxReadingAgeDays * 86_400_000 : Number.POSITIVE_INFINITY,
    ...(now ? { now } : {}),
  };
}

/** Without a clock window no reading is flagged for its ts (tests of other things; the hub always passes one). */
export function createAdmission(registry: Registry, clock?: ClockWindow): Admit {
  const now = clock?.now ?? Date.now;
  const maxFuture = clock?.maxFutureMs ?? Number.POSITIVE_INFINITY;
  const maxPast = clock?.maxPastMs ?? Number.POSITIVE_INFINITY;
  const checkClock = clock !== undefined;
  return (gw: string, r: Reading): QuarantineCause | HubFlag | null => {
    const device = registry.devices.get(r.dev);
    if (!device) return 'unknown_device';
    if (device.gateway !== gw) return 'device_not_on_gateway';
    const def = metricDef(r.metric);
    if (!def) return 'unknown_metric';
    // Units are converted at the edge: the hub keeps one unit per metric, the catalog's.
    if (r.unit !== def.unit) return 'unit_mismatch';
    if (checkClock) {
      const t = now();
      if (r.ts - t > maxFuture || t - r.ts > maxPast) return 'clock_skew';
    }
    const value = r.value;
    if (value !== null) {
      if (def.kind === 'number') {
        if (typeof value !== 'number') return 'value_kind_mismatch';
        const range = def.range;
        if (range && r.q !== 'bad' && (value < range[0] || value > range[1])) return 'out_of_range';
      } else if (typeof value !== 'boolean') return 'value_kind_mismatch';
    }
    return null;
  };
}
