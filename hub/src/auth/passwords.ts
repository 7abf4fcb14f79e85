/** Passwords: argon2id (OWASP's first choice), with a minimum length and a few obvious refusals. */
import argon2 from 'argon2';

/** RFC 9106's second recommended option (64 MiB, 3 passes), about 0.1 s here: cheap for a login, dear for a guesser. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 1 } as const;

export class PasswordPolicyError extends Error {}

export function checkPasswordPolicy(password: string, username: string, minLength: number): void {
  if ([...password].length < minLength) throw new PasswordPolicyError(`the password must have at least ${minLength} characters`);
  if ([...password].length > 256) throw new PasswordPolicyError('the password must have at most 256 characters');
  if (password.toLowerCase().includes(username.toLowerCase())) throw new PasswordPolicyError('the password must not contain the username');
  if (new Set(password).size < 4) throw new PasswordPolicyError('the password is too repetitive');
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash to verify against when the username does not exist, so "no such user" takes as long as
 * "wrong password" (no user enumeration by timing).
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword('decoy password that matches nothing');
  return decoy;
}
