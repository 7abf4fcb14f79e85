/** hub.yaml `cap` → CapSettings, with defaults that work with no configuration at all. */
import { hostname } from 'node:os';
import type { CapSettings } from './types.js';

/** hub.yaml `cap` as the config schema gives it (../config/schema.ts). */
export interface CapConfig {
  sender?: string;
  senderName?: string;
  status?: 'Actual' | 'Test';
  expiresHours?: number;
  radiusKm?: number;
  webBase?: string;
  keepEndedHours?: number;
}

export const DEFAULT_SENDER_NAME = { vi: 'Trung tâm Giám sát, điều hành thông minh', en: 'Intelligent Operations Centre' };

/** CAP forbids spaces, commas, "<" and "&" in sender and identifier. */
export function capSafe(s: string): string {
  return s.replace(/[\s,<&]/g, '-');
}

export function capSettings(cfg: CapConfig = {}, host: string = hostname()): CapSettings {
  return {
    sender: cfg.sender ?? `ioc@${capSafe(host || 'localhost')}`,
    senderName: cfg.senderName ? { vi: cfg.senderName, en: cfg.senderName } : DEFAULT_SENDER_NAME,
    status: cfg.status ?? 'Actual',
    expiresHours: cfg.expiresHours ?? 6,
    cancelExpiresHours: 1,
    radiusKm: cfg.radiusKm ?? 5,
    ...(cfg.webBase ? { webBase: cfg.webBase.replace(/\/+$/, '') } : {}),
    keepEndedHours: cfg.keepEndedHours ?? 6,
  };
}
