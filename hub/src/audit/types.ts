/**
 * The audit log's extension point: who did what, to what, when, with what outcome. Append-only and
 * tamper-evident: every entry carries an HMAC over its content and the previous entry's HMAC, so
 * an entry altered or removed breaks the chain at that place (`ioc-hub audit verify`).
 */

/** What is recorded. Dotted: area.verb. */
export type AuditAction =
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.logout'
  | 'auth.locked'
  | 'auth.mfa_enrolled'
  | 'auth.mfa_reset'
  | 'auth.recovery_code_used'
  | 'auth.password_changed'
  | 'user.created'
  | 'user.updated'
  | 'user.disabled'
  | 'user.enabled'
  | 'apikey.created'
  | 'apikey.revoked'
  | 'gateway.token_created'
  | 'gateway.enrolled'
  | 'gateway.enrolment_refused'
  | 'gateway.revoked'
  | 'gateway.certificate_renewed'
  | 'alert.acknowledged'
  | 'alert.assigned'
  | 'alert.shelved'
  | 'alert.unshelved'
  | 'alert.closed'
  | 'alert.risk-confirmed'
  | 'handover.written'
  | 'rule.created'
  | 'rule.updated'
  | 'rule.deleted'
  | 'notify.replayed'
  | 'hub.started'
  | 'hub.backup'
  | 'hub.backup.verify'
  | 'hub.restored'
  | 'data.imported'
  | 'data.exported';

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditInput {
  /** `user:<username>`, `apikey:<id>`, `gateway:<id>`, `cli:<os user>`, `system`, or `anonymous`. */
  actor: string;
  action: AuditAction;
  /** What was acted on: `user:amy`, `alert:42`, `gateway:gw-hue-01`, … */
  target?: string;
  /** One line a person reads; never a secret. */
  summary?: string;
  /** The state before and after a change (secrets left out). */
  before?: unknown;
  after?: unknown;
  ip?: string;
  outcome?: AuditOutcome;
}

export interface AuditEntry {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  summary: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  outcome: AuditOutcome;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  target?: string;
  from?: number;
  to?: number;
  /** Entries with seq below this (paging back). */
  beforeSeq?: number;
  limit: number;
}

export type AuditVerifyResult =
  | { ok: true; entries: number; head: string }
  | {
      ok: false;
      entries: number;
      /** The first entry that does not verify: altered (content or HMAC changed) or missing (removed). */
      firstBad: { seq: number; problem: 'altered' | 'missing' | 'reordered' };
      message: string;
    };

export interface AuditLog {
  append(e: AuditInput): AuditEntry;
  /** Newest first. */
  list(filter: AuditFilter): AuditEntry[];
  verify(): AuditVerifyResult;
}
