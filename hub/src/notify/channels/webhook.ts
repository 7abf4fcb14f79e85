/**
 * Webhook channel: POSTs the notification as JSON, signed so the receiver can tell it came from
 * this hub and is fresh.
 *
 * Headers:
 *   x-ioc-timestamp        Unix time in seconds when this attempt was signed
 *   x-ioc-signature        sha256=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 *   x-ioc-notification-id  stable id of what is told (the same on every retry and replay): deduplicate on it
 *   x-ioc-delivery-id      the hub's queue row (one notification on this channel), x-ioc-attempt its attempt number
 *
 * A receiver verifies (verifyWebhookSignature below does exactly this): recompute the HMAC over
 * the raw body bytes as received, compare in constant time, refuse a timestamp more than 5 minutes
 * from its clock (a captured request cannot be replayed later), and ignore a notification id it
 * has already processed (retries after a lost answer are normal).
 *
 * Outcomes: 2xx delivered; 4xx other than 408 and 429 permanent (the receiver refuses this
 * request; a dead letter at once, replayable after fixing the receiver); anything else — 3xx,
 * 408, 429, 5xx, timeouts, connection errors — is retried. Redirects are not followed (the
 * signed body would go where hub.yaml did not say).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Type, type Static } from '@sinclair/typebox';
import { readSecret } from '../secrets.js';
import type { ChannelCommon, DeliveryOutcome, Notifier, NotifierType } from '../types.js';

export const WebhookOptions = Type.Object({
  /** https:// (http:// only to a loopback host). */
  url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }),
  /** The signing secret: a file holding it (chmod 600) or the name of an environment variable. */
  secretFile: Type.Optional(Type.String({ minLength: 1 })),
  secretEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
  /** Refused with a message: secrets are not written in hub.yaml (see ../secrets.ts). */
  secret: Type.Optional(Type.String()),
  /** CA certificate (PEM file) the receiver's certificate chains to, when it is not a public one. */
  caFile: Type.Optional(Type.String({ minLength: 1 })),
});
export type WebhookOptions = Static<typeof WebhookOptions>;

export const SIGNATURE_HEADER = 'x-ioc-signature';
export const TIMESTAMP_HEADER = 'x-ioc-timestamp';
export const NOTIFICATION_ID_HEADER = 'x-ioc-notification-id';
/** What a receiver should accept between its clock and the timestamp. */
export const DEFAULT_TOLERANCE_S = 300;

export function signWebhook(secret: string, timestampS: number, body: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
}

/** The receiver's check, for receivers written in Node and for the tests. */
export function verifyWebhookSignature(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: string | Buffer,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = DEFAULT_TOLERANCE_S,
): { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' } {
  const ts = Number(headers[TIMESTAMP_HEADER]);
  const sig = headers[SIGNATURE_HEADER];
  if (!Number.isInteger(ts) || typeof sig !== 'string') return { ok: false, reason: 'missing' };
  if (Math.abs(nowS - ts) > toleranceS) return { ok: false, reason: 'stale' };
  const want = Buffer.from(signWebhook(secret, ts, rawBody));
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

function isLoopbackHost(h: string): boolean {
  return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Seconds or an HTTP date → ms, or undefined. */
function retryAfterMs(v: string | undefined, now: number): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

const oneLine = (s: string, max = 200) => s.replace(/\s+/g, ' ').trim().slice(0, max);

function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal, ca: Buffer | undefined): Promise<DeliveryOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ReturnType<typeof httpRequest>;
    try {
      req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal, ...(ca ? { ca } : {}) });
    } catch (err) {
      return done({ ok: false, permanent: false, error: `request failed: ${(err as Error).message}` });
    }
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, permanent: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, permanent: false, error: oneLine(`${err.code ?? 'error'}: ${err.message}`) }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Only the start of an error body is kept for the attempt log.
        if (size < 512) chunks.push(c);
        size += c.length;
      });
      res.on('error', () => undefined);
      res.on('end', () => {
        if (status >= 200 && status < 300) return done({ ok: true, detail: `HTTP ${status}` });
        const text = oneLine(Buffer.concat(chunks).toString('utf8'));
        const error = `HTTP ${status}${text ? `: ${text}` : ''}`;
        const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
        const after = retryAfterMs(res.headers['retry-after'] as string | undefined, Date.now());
        done({ ok: false, permanent, error, ...(after !== undefined ? { retryAfterMs: after } : {}) });
      });
    });
    req.end(body);
  });
}

export const webhookChannel: NotifierType<WebhookOptions> = {
  type: 'webhook',
  options: WebhookOptions,

  problems(c) {
    const p: string[] = [];
    if (c.secret !== undefined) p.push('secret: inline secrets are refused (hub.yaml is copied into the audit log at each start): put it in a file (secretFile, chmod 600) or an environment variable (secretEnv)');
    if (!c.secretFile === !c.secretEnv) p.push('secretFile / secretEnv: give exactly one (the HMAC signing secret)');
    let url: URL | undefined;
    try {
      url = new URL(c.url);
    } catch {
      p.push(`url: not a URL: "${c.url}"`);
    }
    if (url && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      p.push(`url: plain http:// only to a loopback host, got "${url.host}": alerts and their signatures would cross the network in clear (use https://)`);
    }
    return p;
  },

  create(c: ChannelCommon & WebhookOptions, deps): Notifier {
    const url = new URL(c.url);
    const secret = readSecret({ file: c.secretFile, env: c.secretEnv });
    const log = deps.logger;
    if (!secret.ok) log.error({ channel: c.id, reason: secret.reason }, 'webhook channel has no signing secret: its notifications wait in the queue until it does (restart after fixing)');
    else if (secret.warning) log.warn({ channel: c.id }, secret.warning);
    let ca: Buffer | undefined;
    let caProblem: string | undefined;
    try {
      if (c.caFile) ca = readFileSync(c.caFile);
    } catch (err) {
      caProblem = `cannot read caFile ${c.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      log.error({ channel: c.id }, caProblem);
    }
    const userAgent = `ioc-hub/${deps.version}`;
    return {
      id: c.id,
      type: 'webhook',
      async deliver(n, ctx) {
        try {
          if (!secret.ok) return { ok: false, permanent: false, error: `not sent: ${secret.reason}` };
          if (caProblem) return { ok: false, permanent: false, error: `not sent: ${caProblem}` };
          if (ctx.signal.aborted) return { ok: false, permanent: false, error: 'not sent: the hub is stopping' };
          const body = JSON.stringify({ version: 1, ...n });
          const ts = Math.floor(Date.now() / 1000);
          const headers = {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': userAgent,
            [TIMESTAMP_HEADER]: String(ts),
            [SIGNATURE_HEADER]: signWebhook(secret.value, ts, body),
            [NOTIFICATION_ID_HEADER]: n.id,
            'x-ioc-delivery-id': String(ctx.deliveryId),
            'x-ioc-attempt': String(ctx.attempt),
          };
          return await post(url, body, headers, c.timeoutMs, ctx.signal, ca);
        } catch (err) {
          return { ok: false, permanent: false, error: `webhook failed: ${(err as Error).message}` };
        }
      },
      async close() {},
    };
  },
};
