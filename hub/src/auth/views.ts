/**
 * People as the API shows them: no hashes, no secrets. Types only, so the web consoles can share
 * them without the hub's server code.
 */
import type { Role } from './roles.js';

/** A user account. */
export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  areas: string[];
  mfaEnabled: boolean;
  mfaRequired: boolean;
  recoveryCodesLeft: number;
  disabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  areas: string[];
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}
