/** TOTP second factor (RFC 6238, otplib) and single-use recovery codes. */
import { createHash, randomBytes } from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const TOTP_ISSUER = 'IOC Hub';

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(username: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: username, secret });
}

/**
 * Accepts the code of this 30 s step or one step either side (a phone's clock a little off), but
 * never a step at or before `lastStep`: a code seen over a shoulder cannot be replayed. Returns the
 * step it matched (to remember), or null.
 */
export async function checkTotp(secret: string, token: string, lastStep: number | null, now = Date.now()): Promise<number | null> {
  if (!/^[0-9]{6}$/.test(token)) return null;
  try {
    const r = await verify({ secret, token, epochTolerance: 30, epoch: Math.floor(now / 1000) });
    if (!r.valid) return null;
    const step = Math.floor(now / 30_000) + r.delta;
    return lastStep !== null && step <= lastStep ? null : step;
  } catch {
    return null;
  }
}

/** The code an authenticator app shows at `now` (tests, and an admin checking a phone's clock). */
export function totpAt(secret: string, now = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(now / 1000) });
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten codes like `k7mq-x2pd-9hte`, about 60 bits each: a SHA-256 is enough to store them. */
export function newRecoveryCodes(n = 10): string[] {
  return Array.from({ length: n }, () => {
    const b = randomBytes(12);
    const chars = [...b].map((x) => RECOVERY_ALPHABET[x % RECOVERY_ALPHABET.length]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.trim().toLowerCase()).digest('hex');
}
