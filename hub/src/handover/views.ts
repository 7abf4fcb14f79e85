/**
 * What a shift handover shows, as the API answers it and the watch console reads it (types only:
 * the console imports this module without the hub's code).
 */
import type { AlertView } from '../alerts/types.js';

export interface AlertBrief {
  id: number;
  level: number;
  state: string;
  category: string;
  levelLabel: AlertView['levelLabel'];
  message: AlertView['message'];
  deviceName: string | null;
  communeCode: string;
}

export interface HandoverChange {
  ts: number;
  kind: string;
  level: number;
  by: string | null;
  note: string | null;
  alert: AlertBrief;
}

export interface HandoverSummary {
  since: number;
  lastHandover: { id: number; by: string; at: number; note: string; openAlerts: number[] } | null;
  alertsChanged: HandoverChange[];
  openAlerts: AlertBrief[];
  notes: HandoverChange[];
}
