/** The hub's answers the technician console reads (GatewaySchema and IdentitySchema in hub/src/api). */
export interface OutboxHealth {
  depth: number;
  oldestUnsentAgeS: number;
  bytes: number;
  dropped: number;
  lastSeq: number;
  ackedUpTo: number;
  lastAckTs: number | null;
  writeFailures?: number;
  writeFailedReadings?: number;
  lastWriteError?: { ts: number; message: string; code?: string };
}

export interface GatewayProblem {
  problem: string;
  message: string;
  lastAt: number | null;
}

export interface GatewayStatus {
  online: boolean;
  ts?: number;
  version?: string;
  link?: string;
  outbox?: OutboxHealth;
  [k: string]: unknown;
}

export interface GatewayRow {
  id: string;
  name: string | null;
  communeCode: string | null;
  devices: number;
  online: boolean;
  lastSeen: number | null;
  upTo: number;
  stored: number;
  dropped: number;
  quarantined: number;
  outbox: OutboxHealth | null;
  gatewayProblems: GatewayProblem[];
  status: GatewayStatus | null;
  statusAt: number | null;
}

export type { GatewayIdentityView as GatewayIdentity, IssuedToken as EnrolmentToken } from '../../../../src/enrol/views.js';
