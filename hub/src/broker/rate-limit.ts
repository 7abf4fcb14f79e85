/**
 * Per-gateway message rate cap: a token bucket per gateway (rate tokens per second, up to burst).
 *
 * An excess publish is DELAYED, not dropped and not refused: its authorizePublish callback waits
 * until the bucket has the tokens. aedes handles a connection's packets a socket read at a time and
 * reads no further while one of them is unfinished, so the wait stops reading from that
 * connection and TCP pushes back on the gateway. Why not the other two:
 *   - dropping a QoS 1 publish still PUBACKs it; an honest gateway then waits for an ack that
 *     never comes and resends everything after ackTimeoutMs (15 s): nothing is lost, but a
 *     backlog drain stalls in 15 s steps;
 *   - closing the connection makes it reconnect, hand-shake and resend from its ack — the same
 *     data again, at the cost of the link it was short of.
 * Delayed, an honest gateway just drains at the cap and loses nothing; a flooding one costs the
 * hub no more than the cap. Only a debt the delay cannot plausibly pay off (MAX_WAIT_MS: aedes
 * starts a whole socket read at once, so a read full of tiny publishes can borrow ahead) closes
 * the connection.
 *
 * Cost: telemetry is written in group commits (many batches per transaction); a status or event
 * is a transaction and an fsync of its own, so it takes UNGROUPED_COST tokens.
 */
import { parseGatewayTopic, type GatewayTopicKind } from '@ioc/shared';
import type { HubMetrics } from '../metrics.js';
import type { RateLimitedLog } from '../util/rate-limited-log.js';
import { refusal, type AclHooks } from './acl.js';

/** Tokens a status, event or reply costs: each is one SQLite transaction (fsync) at the hub. */
export const UNGROUPED_COST = 10;
/** A publish that would wait longer than this closes the connection instead. */
export const MAX_WAIT_MS = 10_000;

export function messageCost(kind: GatewayTopicKind | undefined): number {
  return kind === 'telemetry' ? 1 : UNGROUPED_COST;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type Admission = { wait: 0 } | { wait: number } | { refuse: true; wait: number };

export class RateLimiter {
  /** One bucket per gateway id: bounded by the registry (only registered gateways get here). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`rate limit needs perSecond > 0 and burst >= 1, got ${perSecond}, ${burst}`);
  }

  /**
   * Takes `cost` tokens from the gateway's bucket, going into debt if need be: returns how long
   * the publish must wait (0: at once), or refuse when that would be over MAX_WAIT_MS.
   */
  take(gw: string, cost: number): Admission {
    const t = this.now();
    let b = this.buckets.get(gw);
    if (!b) this.buckets.set(gw, (b = { tokens: this.burst, at: t }));
    else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) * this.perSecond) / 1000);
      b.at = t;
    }
    const after = b.tokens - cost;
    if (after >= 0) {
      b.tokens = after;
      return { wait: 0 };
    }
    const wait = (-after * 1000) / this.perSecond;
    if (wait > MAX_WAIT_MS) return { refuse: true, wait };
    b.tokens = after;
    return { wait };
  }
}

/**
 * aedes' authorizePublish: `inner` (the ACL) first, then the gateway's bucket. Every delay and
 * refusal is counted and logged, rate-limited.
 */
export function withRateLimit(
  inner: AclHooks['authorizePublish'],
  limiter: RateLimiter,
  ctx: { metrics: Pick<HubMetrics, 'brokerRefused' | 'rateLimited'>; log: RateLimitedLog; closed(): boolean },
): AclHooks['authorizePublish'] {
  return (client, packet, done) =>
    inner(client, packet, (err) => {
      // The will of a client already gone (client null) is not rate-limited: one per connection.
      if (err || !client) return done(err);
      const admit = limiter.take(client.id, messageCost(parseGatewayTopic(packet.topic)?.kind));
      if (admit.wait === 0) return done(null);
      if ('refuse' in admit) {
        ctx.metrics.brokerRefused.inc({ action: 'publish', reason: 'rate_limit' });
        ctx.log(`rate_refused:${client.id}`, 'warn', { clientId: client.id, waitMs: Math.round(admit.wait), perSecond: limiter.perSecond }, "MQTT publish far over the gateway's rate cap; closing the connection");
        return done(refusal('publish refused: rate_limit'));
      }
      ctx.metrics.rateLimited.inc({ gw: client.id });
      ctx.log(`rate:${client.id}`, 'warn', { clientId: client.id, waitMs: Math.round(admit.wait), perSecond: limiter.perSecond, burst: limiter.burst }, 'gateway over its message rate cap: publishes delayed (nothing dropped)');
      setTimeout(() => {
        // Gone meanwhile: nothing more to do for this publish (the gateway resends it).
        if (client.closed || ctx.closed()) return done(refusal('publish dropped: connection closed'));
        done(null);
      }, admit.wait).unref();
    });
}
