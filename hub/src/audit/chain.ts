/**
 * The audit chain: hash_n = HMAC-SHA256(key, hash_{n-1} ‖ canonical(entry_n)). With a plain hash
 * anyone able to edit hub.db could recompute the chain after an edit; the HMAC key lives with the
 * hub's secret key (../secrets/keyring.ts), not in the database.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEntry } from './types.js';

export const GENESIS = '0'.repeat(64);

/** The fields an HMAC covers, in a fixed order (JSON of an array: no key-order ambiguity). */
export function canonical(e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  return JSON.stringify([e.seq, e.ts, e.actor, e.action, e.target, e.summary, e.before ?? null, e.after ?? null, e.ip, e.outcome]);
}

export function chainHash(key: Buffer, prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(canonical(e)).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
