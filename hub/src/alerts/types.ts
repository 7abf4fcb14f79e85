/** The alert rule extension point: one file per rule kind in ./rules, run by ./engine.ts. */
import type { Reading } from '@ioc/shared';
import type { DeviceEntry } from '../config/schema.js';
import type { AlertEventRecord, AlertRecord } from '../store/types.js';

export interface LocalizedText {
  vi: string;
  en: string;
}

/**
 * A rule maps each reading of a watched (device, metric) to a level: 0 = condition absent,
 * 1..n = increasingly severe. The engine turns level changes into one alert episode per rise
 * (raised → escalated/deescalated → cleared) and keeps it durable.
 */
export interface AlertRule {
  /** Stored in alerts.rule, e.g. "flood-level". */
  readonly kind: string;
  /** Metrics of this device the rule watches (empty: the rule does not apply). */
  metricsFor(device: DeviceEntry): readonly string[];
  /**
   * Level after this reading, given the current level (for hysteresis), or null when the reading
   * cannot be judged (quality bad, no value) and must not change the state.
   */
  evaluate(device: DeviceEntry, currentLevel: number, reading: Reading): number | null;
  /** Message for a level at a value; level 0 = cleared (with the episode's peak level). */
  message(device: DeviceEntry, level: number, value: number | null, peakLevel?: number): LocalizedText;
}

export interface AlertHistoryEntry {
  ts: number;
  kind: AlertEventRecord['kind'];
  level: number;
  value: number | null;
  by: string | null;
  note: string | null;
}

/** An alert as the API and notifiers see it. */
export interface AlertView extends AlertRecord {
  /** The episode's current message (Vietnamese and English). */
  message: LocalizedText;
  device: { name: string; station?: string; river?: string; communeCode: string; provinceCode: string; lat: number; lon: number } | null;
  history: AlertHistoryEntry[];
}

/** Emitted on the engine's "change" event after the change is committed. */
export interface AlertChange {
  alert: AlertView;
  event: AlertHistoryEntry;
  /** What happened, for a notifier (e.g. "Báo động cấp 2 — Trạm Kim Long (sông Hương): 2.12 m"). */
  message: LocalizedText;
}
