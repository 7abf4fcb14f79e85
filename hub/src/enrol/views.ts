/**
 * What the API and the CLI show of gateway identity: a fresh enrolment token and a gateway's
 * identity (types only: the technician console and the tests import this module without the hub's code).
 */

/** A one-time enrolment token as the hub issues it. */
export interface TokenCreated {
  token: string;
  gateway: string;
  communeCode: string;
  expiresAt: number;
  caFingerprint: string;
}

/** The token as a technician receives it, with the command to run on the gateway. */
export interface IssuedToken extends TokenCreated {
  command: string;
}

export type GatewayIdentityState = 'enrolled' | 'revoked' | 'not_enrolled';

/** What the hub stores of a gateway's certificate and revocation (the store's record holds the same). */
export interface GatewayIdentityFields {
  serial: string | null;
  fingerprint: string | null;
  notAfter: number | null;
  enrolledAt: number | null;
  renewedAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

/** A gateway's identity: its stored record, with its state and where it is listed. */
export interface GatewayIdentityView extends GatewayIdentityFields {
  gateway: string;
  state: GatewayIdentityState;
  communeCode: string | null;
  /** Listed in hub.yaml's registry (its devices come from there). */
  inHubYaml: boolean;
}
