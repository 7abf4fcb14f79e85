/**
 * Gateway identity: enrolment tokens, enrolment (a CSR signed for a token), renewal over the
 * mutual-TLS link, revocation. Every decision is written to the audit log, in the same
 * transaction as the change it records; refusals are audited too.
 *
 * Token burning: a token is marked used in the transaction that records the certificate issued
 * for it, and only then. A request refused before that (malformed CSR, CN not the token's
 * gateway, a hub that cannot sign) leaves the token usable: the token is bound to one gateway id
 * and the CN must equal it, so a retry can only ever enrol that gateway, and a technician who
 * mistyped gateway.id does not need a new token. Used, expired and unknown tokens are refused
 * with distinct answers; the endpoint is rate-limited per address.
 */
import { CsrError, GATEWAY_ID_PATTERN, formatDuration, type SignedCertificate } from '@ioc/shared';
import type { AuditLog } from '../audit/types.js';
import type { Registry } from '../config/registry.js';
import { COMMUNE_CODE_PATTERN } from '../config/schema.js';
import { parseRequest, type HubCa } from './ca.js';
import type { EnrolStore, IdentityRecord } from './store.js';
import { hashToken, looksLikeToken, newToken } from './tokens.js';
import type { GatewayIdentityState, GatewayIdentityView, TokenCreated } from './views.js';

export type EnrolErrorCode =
  | 'token_unknown'
  | 'token_used'
  | 'token_expired'
  | 'csr_invalid'
  | 'csr_cn_mismatch'
  | 'cannot_sign'
  | 'revoked'
  | 'not_found'
  | 'conflict'
  | 'bad_request';

export class EnrolError extends Error {
  constructor(
    readonly code: EnrolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnrolError';
  }
}

export interface EnrolmentServiceOptions {
  store: EnrolStore;
  audit: AuditLog;
  ca: HubCa;
  registry: Registry;
  tokenTtlMs: number;
  certificateValidityMs: number;
  now?: () => number;
  /** After a commit: a gateway enrolled (the hub adds it to its registry). */
  onEnrolled?(gateway: string, commune: string): void;
  /** After a commit: a gateway was revoked (the hub cuts its connection). */
  onRevoked?(gateway: string): void;
}

export interface Enrolled {
  gateway: string;
  communeCode: string;
  certificate: string;
  ca: string;
  caFingerprint: string;
  serial: string;
  fingerprint: string;
  notAfter: number;
}

const gatewayRe = new RegExp(GATEWAY_ID_PATTERN);
const communeRe = new RegExp(COMMUNE_CODE_PATTERN);

export class EnrolmentService {
  private readonly now: () => number;
  /** Gateway ids of hub.yaml, fixed at start (the registry also gains enrolled ones). */
  private readonly hubYamlGateways: ReadonlySet<string>;

  constructor(private readonly opts: EnrolmentServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.hubYamlGateways = new Set(opts.registry.gateways.keys());
  }

  get caFingerprint(): string {
    return this.opts.ca.fingerprint;
  }

  get caCert(): string {
    return this.opts.ca.cert;
  }

  /** Why enrolment is off on this hub, or null. */
  get cannotSign(): string | null {
    return this.opts.ca.cannotSign;
  }

  createToken(input: { gateway: string; communeCode: string; ttlMs?: number; actor: string; ip?: string }): TokenCreated {
    const { gateway, communeCode: commune } = input;
    if (!gatewayRe.test(gateway)) throw new EnrolError('bad_request', `invalid gateway id "${gateway}": must match ${GATEWAY_ID_PATTERN}`);
    if (!communeRe.test(commune)) throw new EnrolError('bad_request', `invalid commune code "${commune}": 5 digits (GSO code)`);
    const ttlMs = input.ttlMs ?? this.opts.tokenTtlMs;
    if (!(ttlMs >= 60_000 && ttlMs <= 30 * 86_400_000)) throw new EnrolError('bad_request', 'the token lifetime must be between 1m and 30d');
    // hub.yaml says where its gateways are; a token cannot move one to another commune.
    const registered = this.opts.registry.gateways.get(gateway)?.communeCode;
    const enrolled = this.opts.store.identity(gateway)?.commune;
    const known = this.hubYamlGateways.has(gateway) ? registered : enrolled;
    if (known && known !== commune) {
      throw new EnrolError('conflict', `gateway "${gateway}" belongs to commune ${known}${this.hubYamlGateways.has(gateway) ? ' in hub.yaml' : ''}, not ${commune}`);
    }
    const token = newToken();
    const createdAt = this.now();
    const expiresAt = createdAt + ttlMs;
    this.opts.store.transaction(() => {
      this.opts.store.addToken({ tokenHash: hashToken(token), gateway, commune, createdBy: input.actor, createdAt, expiresAt });
      this.opts.audit.append({
        actor: input.actor,
        action: 'gateway.token_created',
        target: `gateway:${gateway}`,
        summary: `enrolment token for ${gateway} (commune ${commune}), valid ${formatDuration(ttlMs)}`,
        after: { commune, expiresAt },
        ...(input.ip ? { ip: input.ip } : {}),
      });
    });
    return { token, gateway, communeCode: commune, expiresAt, caFingerprint: this.opts.ca.fingerprint };
  }

  /** Checks the token and the CSR, signs, burns the token and records the gateway — or refuses, audited. */
  enrol(input: { token: string; csr: string; ip?: string }): Enrolled {
    const now = this.now();
    const ip = input.ip;
    const refuse = (code: EnrolErrorCode, message: string, gateway?: string): never => {
      this.opts.audit.append({
        actor: 'anonymous',
        action: 'gateway.enrolment_refused',
        ...(gateway ? { target: `gateway:${gateway}` } : {}),
        summary: `${code}: ${message}`,
        outcome: 'refused',
        ...(ip ? { ip } : {}),
      });
      throw new EnrolError(code, message);
    };
    const hash = hashToken(input.token);
    const t = looksLikeToken(input.token) ? this.opts.store.token(hash) : undefined;
    if (!t) return refuse('token_unknown', 'this enrolment token is not known to the hub (mistyped, or made for another hub?)');
    if (t.usedAt !== null) return refuse('token_used', `this enrolment token was already used on ${new Date(t.usedAt).toISOString()}: ask for a new one (ioc-hub gateway token)`, t.gateway);
    if (t.expiresAt <= now) return refuse('token_expired', `this enrolment token expired on ${new Date(t.expiresAt).toISOString()}: ask for a new one (ioc-hub gateway token)`, t.gateway);
    if (this.opts.ca.cannotSign) return refuse('cannot_sign', this.opts.ca.cannotSign, t.gateway);
    const csr = this.parse(input.csr, t.gateway, (code, message) => refuse(code, message, t.gateway));

    const signed = this.opts.ca.sign(csr, t.gateway, this.opts.certificateValidityMs);
    const burnt = this.opts.store.transaction(() => {
      // Inside the write transaction: two requests with one token cannot both get here.
      if (!this.opts.store.useToken(hash, now, ip ?? null, signed.serial)) return false;
      this.opts.store.recordEnrolled(this.certRecord(t.gateway, signed, now, 'enrol'), t.commune);
      this.opts.audit.append({
        actor: `gateway:${t.gateway}`,
        action: 'gateway.enrolled',
        target: `gateway:${t.gateway}`,
        summary: `enrolled in commune ${t.commune} with a token made by ${t.createdBy}`,
        after: { commune: t.commune, serial: signed.serial, fingerprint: signed.fingerprint, notAfter: signed.notAfter },
        ...(ip ? { ip } : {}),
      });
      return true;
    });
    if (!burnt) return refuse('token_used', 'this enrolment token was used by another request just now', t.gateway);
    this.opts.onEnrolled?.(t.gateway, t.commune);
    return {
      gateway: t.gateway,
      communeCode: t.commune,
      certificate: signed.cert,
      ca: this.opts.ca.cert,
      caFingerprint: this.opts.ca.fingerprint,
      serial: signed.serial,
      fingerprint: signed.fingerprint,
      notAfter: signed.notAfter,
    };
  }

  /**
   * A renewal asked for by `gateway` over its own mutual-TLS connection (the broker proved the
   * client certificate's CN is this id). Refused for a revoked gateway and for a CSR naming
   * anyone else.
   */
  renew(gateway: string, csrPem: string): SignedCertificate {
    const now = this.now();
    const refuse = (code: EnrolErrorCode, message: string): never => {
      this.opts.audit.append({ actor: `gateway:${gateway}`, action: 'gateway.certificate_renewed', target: `gateway:${gateway}`, summary: `${code}: ${message}`, outcome: 'refused' });
      throw new EnrolError(code, message);
    };
    if (this.opts.store.identity(gateway)?.revokedAt != null) return refuse('revoked', `gateway "${gateway}" is revoked`);
    if (this.opts.ca.cannotSign) return refuse('cannot_sign', this.opts.ca.cannotSign);
    const csr = this.parse(csrPem, gateway, refuse);
    const signed = this.opts.ca.sign(csr, gateway, this.opts.certificateValidityMs);
    this.opts.store.transaction(() => {
      this.opts.store.recordRenewed(this.certRecord(gateway, signed, now, 'renew'));
      this.opts.audit.append({
        actor: `gateway:${gateway}`,
        action: 'gateway.certificate_renewed',
        target: `gateway:${gateway}`,
        summary: `certificate renewed until ${new Date(signed.notAfter).toISOString()}`,
        after: { serial: signed.serial, fingerprint: signed.fingerprint, notAfter: signed.notAfter },
      });
    });
    return signed;
  }

  /** Revokes a gateway: every certificate it has is refused from now on, across restarts. */
  revoke(gateway: string, actor: string, reason?: string, ip?: string): GatewayIdentityView {
    const identity = this.opts.store.identity(gateway);
    if (!identity && !this.opts.registry.gateways.has(gateway)) throw new EnrolError('not_found', `gateway "${gateway}" is neither in hub.yaml nor enrolled`);
    if (identity?.revokedAt != null) throw new EnrolError('conflict', `gateway "${gateway}" was already revoked on ${new Date(identity.revokedAt).toISOString()}`);
    const commune = identity?.commune ?? this.opts.registry.gateways.get(gateway)?.communeCode ?? null;
    this.opts.store.transaction(() => {
      this.opts.store.recordRevoked(gateway, commune, this.now(), actor, reason ?? null);
      this.opts.audit.append({
        actor,
        action: 'gateway.revoked',
        target: `gateway:${gateway}`,
        summary: reason ? `revoked: ${reason}` : 'revoked',
        before: identity ? { serial: identity.serial, notAfter: identity.notAfter } : null,
        ...(ip ? { ip } : {}),
      });
    });
    this.opts.onRevoked?.(gateway);
    return this.view(gateway)!;
  }

  /** One gateway's identity (undefined when neither in hub.yaml nor ever enrolled or revoked). */
  view(gateway: string): GatewayIdentityView | undefined {
    const identity = this.opts.store.identity(gateway);
    const inHubYaml = this.hubYamlGateways.has(gateway);
    if (!identity && !inHubYaml) return undefined;
    return toView(gateway, identity, inHubYaml, this.opts.registry.gateways.get(gateway)?.communeCode ?? null);
  }

  /** hub.yaml's gateways and every gateway enrolled, revoked or renewed, by id. */
  list(): GatewayIdentityView[] {
    const ids = new Set([...this.hubYamlGateways, ...this.opts.store.identities().map((i) => i.gateway)]);
    return [...ids].sort().map((id) => this.view(id)!);
  }

  private parse(pem: string, gateway: string, refuse: (code: EnrolErrorCode, message: string) => never) {
    let csr;
    try {
      csr = parseRequest(pem);
    } catch (err) {
      if (err instanceof CsrError) return refuse('csr_invalid', `certificate signing request refused: ${err.message}`);
      throw err;
    }
    if (csr.cn !== gateway) return refuse('csr_cn_mismatch', `the request's CN "${csr.cn ?? ''}" is not the gateway id "${gateway}" (gateway.id in edge.yaml must be ${gateway})`);
    return csr;
  }

  private certRecord(gateway: string, s: SignedCertificate, issuedAt: number, how: 'enrol' | 'renew') {
    return { serial: s.serial, gateway, fingerprint: s.fingerprint, notBefore: s.notBefore, notAfter: s.notAfter, issuedAt, how };
  }
}

export function toView(gateway: string, i: IdentityRecord | undefined, inHubYaml: boolean, registryCommune: string | null): GatewayIdentityView {
  const state: GatewayIdentityState = i?.revokedAt != null ? 'revoked' : i?.serial ? 'enrolled' : 'not_enrolled';
  return {
    gateway,
    state,
    communeCode: i?.commune ?? registryCommune,
    inHubYaml,
    serial: i?.serial ?? null,
    fingerprint: i?.fingerprint ?? null,
    notAfter: i?.notAfter ?? null,
    enrolledAt: i?.enrolledAt ?? null,
    renewedAt: i?.renewedAt ?? null,
    revokedAt: i?.revokedAt ?? null,
    revokedBy: i?.revokedBy ?? null,
    revokeReason: i?.revokeReason ?? null,
  };
}
