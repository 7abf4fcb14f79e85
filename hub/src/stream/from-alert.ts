/**
 * The one place where the stream reads the alert model (../alerts/types.ts, being extended): what
 * a stream message about an alert change carries, and whom it concerns. Fields are read
 * defensively so that new ones pass through and renamed ones fall back.
 */
import type { AlertChange } from '../alerts/types.js';

/** Whom an alert concerns, for scoping and filters. */
export interface AlertTarget {
  /** The device (or, for a gateway problem, the gateway) the alert is about, if it names one. */
  id: string | null;
  communeCode: string | null;
  provinceCode: string | null;
}

/** The body of an `alert` stream message (besides id and type). */
export interface AlertMessageBody {
  alert: Record<string, unknown>;
  event: Record<string, unknown>;
  message: { vi: string; en: string };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

export function alertTarget(change: AlertChange): AlertTarget {
  const a = change.alert as unknown as Record<string, unknown>;
  const area = (a.area ?? a.device ?? {}) as Record<string, unknown>;
  return {
    id: str(a.dev) ?? str(a.target) ?? str(a.gw),
    communeCode: str(area.communeCode),
    provinceCode: str(area.provinceCode),
  };
}

export function alertMessageBody(change: AlertChange): AlertMessageBody {
  return {
    alert: change.alert as unknown as Record<string, unknown>,
    event: change.event as unknown as Record<string, unknown>,
    message: change.message,
  };
}
