/**
 * What the consoles read from the hub, as the hub's own modules declare it (type-only imports:
 * nothing of the hub's code is bundled). The OpenAPI document at /api/v1/openapi.json describes
 * the same shapes for other clients.
 */
export type { AlertView, AlertHistoryEntry, LocalizedText } from '../../../src/alerts/types.js';
export type { AlertCategory, Severity } from '../../../src/alerts/rule.js';
export type { Role } from '../../../src/auth/roles.js';
import type { UserView } from '../../../src/auth/views.js';
export type { ApiKeyView, UserView } from '../../../src/auth/views.js';
export type { BackupFile, BackupListing, BackupVerification } from '../../../src/backup/views.js';
export type { AlertBrief, HandoverChange, HandoverSummary } from '../../../src/handover/views.js';

export interface Me {
  kind: string;
  id: string;
  role: string;
  areas: string[];
  user: UserView | null;
  csrfToken: string | null;
  mfaEnrolmentRequired: boolean;
}

export interface LatestValue {
  value: number | boolean | null;
  unit: string | null;
  ts: number;
  q: string;
  reason?: string;
  gw: string;
  seq: number;
}

export interface DeviceView {
  id: string;
  gateway: string;
  profile: string;
  name: string;
  communeCode: string;
  provinceCode: string;
  lat: number;
  lon: number;
  station?: string;
  river?: string;
  alarmLevels?: Record<string, number>;
  historicPeakM?: number;
  latest: Record<string, LatestValue>;
  openAlert: import('../../../src/alerts/types.js').AlertView | null;
}

export interface CommuneView {
  code: string;
  name: string;
  provinceCode?: string;
  lat?: number;
  lon?: number;
}

export interface ConsoleConfig {
  version: string;
  tiles: { url: string; attribution: string } | null;
  communes: CommuneView[];
}

export interface ReadingRow {
  ts: number;
  value: number | boolean | null;
  q: string;
  [k: string]: unknown;
}
