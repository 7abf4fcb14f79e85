/**
 * The embedded broker: aedes behind a TLS server that requires a client certificate signed by our
 * CA (mutual TLS, TLS 1.2 or later). MQTT 3.1.1 (aedes 1.2 refuses MQTT 5 CONNECT; see DESIGN.md).
 *
 * What a client, even one with a valid certificate, cannot do to the hub: open more than
 * maxConnections connections (TLS handshakes included), hold one open without sending CONNECT for
 * more than connectTimeoutMs, send a packet larger than the payload limit (refused from its fixed
 * header, ./frame-guard.ts), or publish faster than its rate cap (./rate-limit.ts). Each refusal
 * is counted in ioc_hub_broker_refused_total{action,reason} and logged, rate-limited.
 */
import type { EventEmitter } from 'node:events';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { MQTT_PACKET_SLACK_BYTES, type Logger } from '@ioc/shared';
import type { HubMetrics } from '../metrics.js';
import { rateLimitedLog } from '../util/rate-limited-log.js';
import { createAcl, isAclRefusal } from './acl.js';
import { MqttFrameGuard } from './frame-guard.js';
import { RateLimiter, withRateLimit } from './rate-limit.js';

export interface BrokerOptions {
  host: string;
  port: number;
  /** PEM contents. */
  tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  isGateway(id: string): boolean;
  isRevoked?(id: string, serial: string | undefined): boolean;
  /** Readers of alert changes (mqtt.consumers) and how to place a commune in its province. */
  consumerAreas?(id: string): readonly string[] | undefined;
  provinceOf?(commune: string): string | undefined;
  maxPayloadBytes: number;
  /** TCP connections at once (TLS handshakes included); more are closed at accept. */
  maxConnections: number;
  /** A connection that has not sent CONNECT after this long is closed. */
  connectTimeoutMs: number;
  /** Per-gateway publish rate (token bucket; see ./rate-limit.ts). */
  rateLimit: { messagesPerS: number; burst: number };
  logger: Logger;
  metrics: HubMetrics;
}

export interface EmbeddedBroker {
  aedes: Aedes;
  server: Server;
  /** The port actually bound (when 0 was asked). */
  port: number;
  connectedClients(): number;
  close(): Promise<void>;
}

export async function startBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.logger;
  const limited = rateLimitedLog(log);
  const { metrics } = opts;
  const acl = createAcl({
    isGateway: opts.isGateway, ...(opts.isRevoked ? { isRevoked: opts.isRevoked } : {}),
    ...(opts.consumerAreas ? { consumerAreas: opts.consumerAreas } : {}), ...(opts.provinceOf ? { provinceOf: opts.provinceOf } : {}),
    maxPayloadBytes: opts.maxPayloadBytes, logger: log, metrics,
  });
  const limiter = new RateLimiter(opts.rateLimit.messagesPerS, opts.rateLimit.burst);
  const authorizePublish = withRateLimit(acl.authorizePublish, limiter, { metrics, log: limited, closed: () => aedes.closed });
  const aedes = await Aedes.createBroker({ ...acl, authorizePublish, connectTimeout: opts.connectTimeoutMs });

  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));
  aedes.on('clientReady', (client: Client) => {
    // Authenticated: from now on the connection may carry packets up to the payload limit.
    if (client.conn instanceof MqttFrameGuard) client.conn.accepted();
    log.info({ clientId: client.id }, 'gateway connected');
  });
  aedes.on('clientDisconnect', (client: Client) => log.info({ clientId: client.id }, 'gateway disconnected'));
  aedes.on('clientError', (client: Client, err: Error) => {
    if (isAclRefusal(err)) return;
    limited(`clientError:${client.id}`, 'warn', { clientId: client.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client: Client, err: Error) => {
    // aedes' connect timer: no CONNECT within connectTimeoutMs (lib/client.js).
    if (/connect did not arrive in time/.test(err.message)) {
      metrics.brokerRefused.inc({ action: 'connect', reason: 'connect_timeout' });
      return limited('connect_timeout', 'warn', { remote: remoteOf(client), timeoutMs: opts.connectTimeoutMs }, 'connection closed: no MQTT CONNECT in time');
    }
    limited('connectionError', 'warn', { clientId: client?.id, err: err.message }, 'MQTT connection error');
  });

  const sockets = new Set<Socket>();
  const server = createServer(
    {
      ca: opts.tls.ca,
      cert: opts.tls.cert,
      key: opts.tls.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // A handshake that stalls holds a connection slot (mqtt.maxConnections): it gets the same
      // time as the CONNECT that must follow it, not Node's default of 120 s.
      handshakeTimeout: opts.connectTimeoutMs,
      // Nagle would hold small PUBACK / ack packets back until the gateway's delayed ACK
      // (~40 ms per round trip, measured: test/bench/README.md).
      noDelay: true,
    },
    (socket: TLSSocket) => {
      const guard = new MqttFrameGuard(socket, {
        maxRemainingLength: opts.maxPayloadBytes + MQTT_PACKET_SLACK_BYTES,
        firstRemainingLength: MQTT_PACKET_SLACK_BYTES,
        onRefuse(reason, d) {
          metrics.brokerRefused.inc({ action: 'packet', reason });
          if (reason === 'oversize') metrics.rejected.inc({ reason: 'oversize' });
          const cn = (socket.getPeerCertificate()?.subject as { CN?: string } | undefined)?.CN;
          limited(`packet:${reason}:${cn ?? ''}`, 'warn', { cn, remote: `${socket.remoteAddress}:${socket.remotePort}`, reason, ...d }, 'MQTT packet refused from its fixed header; closing the connection');
        },
      });
      aedes.handle(guard);
    },
  );
  // Counted at accept, before the TLS handshake: a flood of handshakes is capped as well.
  server.maxConnections = opts.maxConnections;
  server.on('drop', (d?: { remoteAddress?: string; remotePort?: number }) => {
    metrics.brokerRefused.inc({ action: 'connect', reason: 'max_connections' });
    limited('max_connections', 'warn', { remote: d?.remoteAddress, max: opts.maxConnections }, 'connection refused: mqtt.maxConnections reached');
  });
  // Until the TLS handshake is done, a connection gets connectTimeoutMs in all. Node's
  // handshakeTimeout is an idle timer, and bytes that look like the start of a long TLS record
  // kept sockets open well past it in the fuzz test.
  const handshaking = new Map<string, NodeJS.Timeout>();
  const peer = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => `${s.remoteAddress}:${s.remotePort}`;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    const key = peer(s);
    const timer = setTimeout(() => {
      metrics.brokerRefused.inc({ action: 'connect', reason: 'connect_timeout' });
      s.destroy();
    }, opts.connectTimeoutMs);
    timer.unref();
    handshaking.set(key, timer);
    s.once('close', () => {
      sockets.delete(s);
      clearTimeout(timer);
      if (handshaking.get(key) === timer) handshaking.delete(key);
    });
  });
  server.on('secureConnection', (t: TLSSocket) => {
    const key = peer(t);
    clearTimeout(handshaking.get(key));
    handshaking.delete(key);
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // With a listener here Node leaves the socket open (measured: a stalled handshake stayed open
    // past its handshakeTimeout), and it would hold a connection slot: close it.
    socket.destroy();
    metrics.brokerRefused.inc({ action: 'connect', reason: 'tls' });
    limited(`tls:${err.code ?? err.message}`, 'warn', { remote: socket.remoteAddress, err: err.message, code: err.code }, 'TLS handshake refused (client certificate missing or not signed by the CA?)');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'MQTT server error'));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    aedes,
    server,
    port,
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= (async () => {
        // No new connections, and nothing more read from the open ones (MQTT clients and TLS
        // handshakes alike): from here on the broker PUBACKs nothing new.
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        // aedes 1.2 writes the PUBACK of a QoS 1 publish first and hands the message to the
        // subscribers one turn later (lib/handlers/publish.js, then setImmediate in lib/write.js).
        // Let the publishes already PUBACKed reach the hub's subscription before aedes closes its
        // emitter, which would drop them.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await serverClosed;
      })();
      return closing;
    },
  };
}

function remoteOf(client: Client | null | undefined): string | undefined {
  const c = client?.conn as { remoteAddress?: string; remotePort?: number } | undefined;
  return c?.remoteAddress ? `${c.remoteAddress}:${c.remotePort}` : undefined;
}
