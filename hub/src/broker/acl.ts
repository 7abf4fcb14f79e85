/**
 * The broker's access control, in one module that the aedes hooks call (aedes' extension points:
 * authenticate, authorizePublish, authorizeSubscribe).
 *
 * - connect: mutual TLS already proved the certificate chains to our CA; here its CN must equal
 *   the MQTT clientId and be a registered (or enrolled) gateway that is not revoked, and the
 *   certificate's serial must not be a revoked one (hub/src/enrol/revocation.ts).
 * - publish: a gateway publishes only on its own topics of the kinds gateways publish
 *   (PUBLISHED_BY in shared/topics.ts), within the payload limit; only status may be retained.
 * - subscribe: a gateway subscribes only to its own topics of the kinds the hub publishes.
 * - consumers (mqtt.consumers: other province systems) only read alert changes,
 *   ioc/v1/alerts/{area}; whatever they subscribe to, a message reaches them only when its area is
 *   one of theirs (authorizeForward), and they publish nothing.
 *
 * MQTT 3.1.1 has no negative PUBACK: a refused PUBLISH closes the connection (MQTT-3.3.5-2), a
 * refused SUBSCRIBE gets the failure return code 0x80. Every refusal is logged and counted.
 */
import type { TLSSocket } from 'node:tls';
import type { AedesOptions, Client, PublishPacket, Subscription } from 'aedes';
import { PUBLISHED_BY, normalizeSerial, parseGatewayTopic, type Logger } from '@ioc/shared';
import type { HubMetrics } from '../metrics.js';
import { rateLimitedLog } from '../util/rate-limited-log.js';

export type ConnectRefusal = 'no_certificate' | 'cn_mismatch' | 'unknown_gateway' | 'revoked';
export type PublishRefusal = 'not_a_gateway_topic' | 'foreign_topic' | 'hub_topic' | 'oversize' | 'no_client' | 'read_only';
export type SubscribeRefusal = 'not_a_gateway_topic' | 'foreign_topic' | 'gateway_topic' | 'wildcard' | 'not_an_alert_topic' | 'foreign_area';

export const ALERTS_TOPIC_PREFIX = 'ioc/v1/alerts/';

/** Whether a consumer with these areas may read alerts of this area code (commune or province). */
export function consumerSees(areas: readonly string[], area: string, provinceOf: (commune: string) => string | undefined): boolean {
  return areas.includes('*') || areas.includes(area) || (area.length === 5 && areas.includes(provinceOf(area) ?? ''));
}

/** A consumer subscribes to ioc/v1/alerts/{area of its own}, or to ioc/v1/alerts/+ or /# (filtered per message). */
export function checkConsumerSubscribe(areas: readonly string[], filter: string, provinceOf: (commune: string) => string | undefined): SubscribeRefusal | null {
  if (!filter.startsWith(ALERTS_TOPIC_PREFIX)) return 'not_an_alert_topic';
  const rest = filter.slice(ALERTS_TOPIC_PREFIX.length);
  if (rest === '+' || rest === '#') return null;
  if (rest.includes('/') || rest.includes('+') || rest.includes('#')) return 'not_an_alert_topic';
  return consumerSees(areas, rest, provinceOf) ? null : 'foreign_area';
}

export interface AclOptions {
  isGateway(id: string): boolean;
  /** The gateway, or this certificate serial of it, was revoked (absent: nothing is ever revoked). */
  isRevoked?(id: string, serial: string | undefined): boolean;
  /** The areas of a consumer (mqtt.consumers), undefined for any other id. */
  consumerAreas?(id: string): readonly string[] | undefined;
  /** A commune's province (to match a province-wide consumer). */
  provinceOf?(commune: string): string | undefined;
  maxPayloadBytes: number;
  logger: Logger;
  metrics: Pick<HubMetrics, 'brokerRefused' | 'rejected'>;
}

/** The decisions, free of aedes: null = allowed, otherwise the reason. */
export function checkConnect(isGateway: (id: string) => boolean, clientId: string, certCN: string | undefined): ConnectRefusal | null {
  if (!certCN) return 'no_certificate';
  if (certCN !== clientId) return 'cn_mismatch';
  if (!isGateway(clientId)) return 'unknown_gateway';
  return null;
}

export function checkPublish(clientId: string, topic: string, size: number, maxPayloadBytes: number): PublishRefusal | null {
  const t = parseGatewayTopic(topic);
  if (!t) return 'not_a_gateway_topic';
  if (t.gw !== clientId) return 'foreign_topic';
  if (PUBLISHED_BY[t.kind] !== 'gateway') return 'hub_topic';
  if (size > maxPayloadBytes) return 'oversize';
  return null;
}

export function checkSubscribe(clientId: string, filter: string): SubscribeRefusal | null {
  if (filter.includes('+') || filter.includes('#')) return 'wildcard';
  const t = parseGatewayTopic(filter);
  if (!t) return 'not_a_gateway_topic';
  if (t.gw !== clientId) return 'foreign_topic';
  if (PUBLISHED_BY[t.kind] !== 'hub') return 'gateway_topic';
  return null;
}

/** CN of the client certificate on a mutual-TLS connection (undefined when there is none). */
export function peerCommonName(conn: unknown): string | undefined {
  const sock = conn as Partial<TLSSocket>;
  if (typeof sock.getPeerCertificate !== 'function' || sock.authorized !== true) return undefined;
  const cert = sock.getPeerCertificate();
  const cn = (cert?.subject as { CN?: string | string[] } | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** Serial of the client certificate (upper-case hex), as recorded at enrolment. */
export function peerSerial(conn: unknown): string | undefined {
  const sock = conn as Partial<TLSSocket>;
  if (typeof sock.getPeerCertificate !== 'function' || sock.authorized !== true) return undefined;
  const serial = sock.getPeerCertificate()?.serialNumber;
  return serial ? normalizeSerial(serial) : undefined;
}

function remote(client: Client | null): string | undefined {
  const sock = client?.conn as Partial<TLSSocket> | undefined;
  return sock?.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : undefined;
}

/** Errors the ACL hands to aedes; already logged and counted here (the broker's clientError skips them). */
export function refusal(message: string): Error & { aclRefusal: true } {
  return Object.assign(new Error(message), { aclRefusal: true as const });
}

export function isAclRefusal(err: unknown): boolean {
  return (err as { aclRefusal?: boolean } | null)?.aclRefusal === true;
}

export type AclHooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

export function createAcl(opts: AclOptions): AclHooks {
  const log = rateLimitedLog(opts.logger);
  const { brokerRefused, rejected } = opts.metrics;
  const consumerAreas = opts.consumerAreas ?? (() => undefined);
  const provinceOf = opts.provinceOf ?? (() => undefined);
  const known = (id: string) => opts.isGateway(id) || consumerAreas(id) !== undefined;

  const authenticate: AclHooks['authenticate'] = (client, _username, _password, done) => {
    const cn = peerCommonName(client.conn);
    let reason = checkConnect(known, client.id, cn);
    if (!reason && opts.isRevoked?.(client.id, peerSerial(client.conn))) reason = 'revoked';
    if (!reason) return done(null, true);
    brokerRefused.inc({ action: 'connect', reason });
    log(`connect:${reason}`, 'warn', { clientId: client.id, cn, remote: remote(client), reason }, 'MQTT connection refused');
    // 5 = not authorized (MQTT 3.1.1 CONNACK return code).
    done(Object.assign(refusal(`connection refused: ${reason}`), { returnCode: 5 }) as Parameters<typeof done>[0], false);
  };

  const authorizePublish: AclHooks['authorizePublish'] = (client, packet: PublishPacket, done) => {
    const size = packet.payload?.length ?? 0;
    if (!client) {
      // aedes replays a will left by a client of an earlier broker instance: only a status LWT.
      if (parseGatewayTopic(packet.topic)?.kind === 'status' && size <= opts.maxPayloadBytes) return done(null);
      brokerRefused.inc({ action: 'publish', reason: 'no_client' });
      return done(refusal('publish refused: no_client'));
    }
    const reason = consumerAreas(client.id) ? 'read_only' : checkPublish(client.id, packet.topic, size, opts.maxPayloadBytes);
    if (!reason) {
      // Only the status is a retained message; anything else retained would pile up in the broker.
      if (packet.retain && parseGatewayTopic(packet.topic)?.kind !== 'status') packet.retain = false;
      return done(null);
    }
    brokerRefused.inc({ action: 'publish', reason });
    if (reason === 'oversize') rejected.inc({ reason: 'oversize' });
    log(`publish:${reason}:${client.id}`, 'warn', { clientId: client.id, topic: packet.topic, bytes: size, max: opts.maxPayloadBytes, reason }, 'MQTT publish refused; closing the connection');
    done(refusal(`publish refused: ${reason}`));
  };

  const authorizeSubscribe: AclHooks['authorizeSubscribe'] = (client, sub: Subscription, done) => {
    const areas = consumerAreas(client.id);
    const reason = areas ? checkConsumerSubscribe(areas, sub.topic, provinceOf) : checkSubscribe(client.id, sub.topic);
    if (!reason) return done(null, { ...sub, qos: sub.qos > 1 ? 1 : sub.qos });
    brokerRefused.inc({ action: 'subscribe', reason });
    log(`subscribe:${reason}:${client.id}`, 'warn', { clientId: client.id, filter: sub.topic, reason }, 'MQTT subscription refused');
    // null subscription: SUBACK with the failure code, the connection stays up.
    done(null, null);
  };

  // A consumer with a wildcard subscription gets only its areas' alerts.
  const authorizeForward: AclHooks['authorizeForward'] = (client, packet) => {
    const areas = client && consumerAreas(client.id);
    if (!areas) return packet;
    if (!packet.topic.startsWith(ALERTS_TOPIC_PREFIX)) return null;
    return consumerSees(areas, packet.topic.slice(ALERTS_TOPIC_PREFIX.length), provinceOf) ? packet : null;
  };

  return { authenticate, authorizePublish, authorizeSubscribe, authorizeForward };
}
