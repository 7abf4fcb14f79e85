/** What the API, the live stream and the notifiers see of alerts. */
import type { AlertEventRecord, AlertRecord } from '../store/types.js';
import type { AlertCategory, LocalizedText, Severity } from './rule.js';

export type { LocalizedText } from './rule.js';

export interface AlertHistoryEntry {
  ts: number;
  kind: AlertEventRecord['kind'];
  level: number;
  value: number | null;
  by: string | null;
  note: string | null;
}

/** An alert as the API and notifiers see it. */
export interface AlertView extends Omit<AlertRecord, 'category'> {
  category: AlertCategory;
  severity: Severity;
  /** The current (or, cleared, the peak) level's name, e.g. "Báo động III". */
  levelLabel: LocalizedText;
  /** The episode's current message (Vietnamese and English). */
  message: LocalizedText;
  /** The rule's name. */
  ruleName: LocalizedText;
  device: { name: string; station?: string; river?: string; communeCode: string; provinceCode: string; lat: number; lon: number } | null;
  area: { communeCode: string; provinceCode: string; communeName?: string; lat: number; lon: number };
  /** Rule-specific facts, e.g. the flood thresholds and the candidate disaster-risk level. */
  facts: Record<string, unknown>;
  history: AlertHistoryEntry[];
}

/** Emitted on the engine's "change" event after the change is committed. */
export interface AlertChange {
  alert: AlertView;
  event: AlertHistoryEntry;
  /** What happened, for a notifier (e.g. "Báo động II — Trạm Kim Long (sông Hương): 2.12 m"). */
  message: LocalizedText;
  /** The target is shelved for maintenance: recorded and shown, not notified. */
  shelved: boolean;
}
