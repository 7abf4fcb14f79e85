/**
 * Certificate renewal over the running mutual-TLS link. When less than `uplink.renewBefore` of
 * the certificate's validity is left, the gateway makes a new key pair, publishes a CSR on
 * ioc/v1/{gw}/cert/csr and waits for the hub's answer on ioc/v1/{gw}/cert. A certificate for our
 * CN and new key, signed by our CA, replaces the old one — key and certificate swapped by rename,
 * so a reader never sees half a file — and the uplink reconnects with it. A refusal or no answer
 * is retried later; the old certificate keeps working meanwhile.
 *
 * Crash safety of the swap: both new files are written as `<file>.next` first, then the key is
 * renamed over, then the certificate. A crash between the two renames leaves the new key with the
 * old certificate; recover() (at start) finishes the swap from the `.next` file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import {
  WIRE_VERSION, certificateInfo, createCsr, decodePayload, issuedBy, keyMatchesCertificate, newPrivateKeyPem, parseDuration,
  validateCertResponse, type Logger,
} from '@ioc/shared';
import type { UplinkConfig } from '../config/schema.js';
import type { Uplink } from '../uplink/index.js';
import { writeFileAtomic } from './files.js';

/** How long before notAfter renewal starts, for a certificate valid from notBefore. */
export function renewLeadMs(renewBefore: string, notBefore: number, notAfter: number): number {
  if (renewBefore.endsWith('%')) return ((notAfter - notBefore) * Number(renewBefore.slice(0, -1))) / 100;
  return parseDuration(renewBefore) ?? 0;
}

/** Never ask more often than this, even for a certificate shorter-lived than renewBefore. */
const MIN_GAP_MS = 5_000;
/** An answer that does not come within this is given up; the next try follows RETRY_MS later. */
const ANSWER_TIMEOUT_MS = 60_000;
const RETRY_MS = 5 * 60_000;
/** setTimeout's limit; a far-away due time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertRenewerOptions {
  gatewayId: string;
  /** ca/cert/key are absolute paths. */
  config: Pick<UplinkConfig, 'ca' | 'cert' | 'key' | 'renewBefore'>;
  uplink: Pick<Uplink, 'on' | 'off' | 'subscribeHub' | 'publishGateway' | 'reconnect' | 'linkState'>;
  logger: Logger;
  now?: () => number;
}

interface Pending {
  id: string;
  key: string;
  timer: NodeJS.Timeout;
}

export class CertRenewer {
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private pending: Pending | null = null;
  /** No request before this time (after a refusal or a lost answer). */
  private notBefore = 0;
  private stopped = true;
  private lastRenewedAt = 0;
  readonly counters = { requested: 0, renewed: 0, refused: 0 };

  constructor(private readonly opts: CertRenewerOptions) {
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /** Finishes a swap that a crash interrupted (see the module comment). Call before connecting. */
  recover(): void {
    const { cert, key } = this.opts.config;
    const certNext = `${cert}.next`;
    const keyNext = `${key}.next`;
    try {
      if (existsSync(certNext)) {
        const next = readFileSync(certNext);
        if (existsSync(keyNext) && keyMatchesCertificate(next, readFileSync(keyNext))) {
          renameSync(keyNext, key);
          renameSync(certNext, cert);
          this.log.warn({ cert }, 'finished a certificate swap interrupted by a crash (new key and certificate)');
        } else if (existsSync(key) && keyMatchesCertificate(next, readFileSync(key))) {
          renameSync(certNext, cert);
          this.log.warn({ cert }, 'finished a certificate swap interrupted by a crash (new certificate)');
        } else {
          rmSync(certNext, { force: true });
        }
      }
      rmSync(keyNext, { force: true });
    } catch (err) {
      this.log.error({ err }, 'could not finish an interrupted certificate swap');
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.opts.uplink.on('connect', this.onConnect);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.opts.uplink.off('connect', this.onConnect);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
  }

  /** When the certificate on disk should be renewed (ms since epoch), or null when it cannot be read. */
  dueAt(): number | null {
    try {
      const info = certificateInfo(readFileSync(this.opts.config.cert));
      return info.notAfter - renewLeadMs(this.opts.config.renewBefore, info.notBefore, info.notAfter);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, cert: this.opts.config.cert }, 'cannot read the client certificate to plan its renewal');
      return null;
    }
  }

  private readonly onConnect = (): void => {
    void this.check();
  };

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const due = this.dueAt() ?? this.now() + RETRY_MS;
    const at = Math.max(due, this.notBefore, this.lastRenewedAt + MIN_GAP_MS);
    const delay = Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, delay);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped || this.pending) return;
    const due = this.dueAt();
    const now = this.now();
    if (due === null || due > now || now < this.notBefore || now < this.lastRenewedAt + MIN_GAP_MS) return this.schedule();
    // Offline: the next connect calls check() again.
    if (this.opts.uplink.linkState() !== 'connected') return;
    await this.request();
  }

  private async request(): Promise<void> {
    const granted = await this.opts.uplink.subscribeHub('cert', (payload) => this.onAnswer(payload));
    if (this.stopped || this.pending) return;
    if (!granted) {
      this.log.warn('the hub refused the subscription to its certificate answers (a hub without renewal?): trying again later');
      this.retryLater();
      return;
    }
    const key = newPrivateKeyPem();
    const id = randomBytes(8).toString('hex');
    const csr = createCsr(this.opts.gatewayId, key);
    if (!this.opts.uplink.publishGateway('cert/csr', JSON.stringify({ v: WIRE_VERSION, id, csr }))) return;
    this.counters.requested++;
    const timer = setTimeout(() => {
      if (this.pending?.id !== id) return;
      this.pending = null;
      this.log.warn({ timeoutS: ANSWER_TIMEOUT_MS / 1000 }, 'no answer to the certificate request: trying again later');
      this.retryLater();
    }, ANSWER_TIMEOUT_MS);
    timer.unref();
    this.pending = { id, key, timer };
    this.log.info({ requestId: id }, 'certificate renewal requested');
  }

  private retryLater(): void {
    this.notBefore = this.now() + RETRY_MS;
    this.schedule();
  }

  private onAnswer(payload: Buffer): void {
    const r = decodePayload(payload, validateCertResponse);
    if (!r.ok) {
      this.log.warn({ reason: r.reason }, 'ignored a malformed certificate answer');
      return;
    }
    const pending = this.pending;
    if (!pending || r.value.id !== pending.id) return;
    clearTimeout(pending.timer);
    this.pending = null;
    const answer = r.value;
    if (!answer.ok) {
      this.counters.refused++;
      this.log.error({ code: answer.error, reason: answer.message }, 'the hub refused to renew the certificate: trying again later');
      this.retryLater();
      return;
    }
    const { cert: certPath, key: keyPath, ca: caPath } = this.opts.config;
    try {
      const info = certificateInfo(answer.certificate);
      if (info.cn !== this.opts.gatewayId) throw new Error(`the renewed certificate is for "${info.cn ?? ''}"`);
      if (!keyMatchesCertificate(answer.certificate, pending.key)) throw new Error('the renewed certificate is not for the key made for it');
      if (!issuedBy(answer.certificate, readFileSync(caPath))) throw new Error(`the renewed certificate is not signed by uplink.ca (${caPath})`);
      writeFileAtomic(`${keyPath}.next`, pending.key, 0o600);
      writeFileAtomic(`${certPath}.next`, answer.certificate);
      renameSync(`${keyPath}.next`, keyPath);
      renameSync(`${certPath}.next`, certPath);
      this.counters.renewed++;
      this.lastRenewedAt = this.now();
      this.notBefore = 0;
      this.log.info({ serial: info.serial, notAfter: new Date(info.notAfter).toISOString() }, 'certificate renewed');
    } catch (err) {
      this.counters.refused++;
      this.log.error({ err: (err as Error).message }, 'renewed certificate not taken; the old one stays: trying again later');
      this.retryLater();
      return;
    }
    this.opts.uplink.reconnect('certificate renewed');
    this.schedule();
  }
}
