/**
 * Enrolment tokens: 256 random bits behind a fixed prefix (so a token pasted in the wrong place is
 * recognisable, and secret scanners can match it). Only the SHA-256 is stored: like a session id
 * it has too much entropy for a slow hash to add anything.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'iocgw_';
const TOKEN_RE = /^iocgw_[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Shape only; whether the hub knows it is the store's business. */
export function looksLikeToken(text: string): boolean {
  return TOKEN_RE.test(text);
}

/** What a technician runs on the gateway to enrol it with this token. */
export function enrolCommand(hubUrl: string, token: { token: string; caFingerprint: string }): string {
  return `ioc-edge enroll --hub ${hubUrl} --token ${token.token} --ca-fingerprint ${token.caFingerprint} --config /etc/ioc/edge.yaml`;
}
