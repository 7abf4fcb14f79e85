/**
 * The embedded broker: aedes behind a TLS server that requires a client certificate signed by our
 * CA (mutual TLS). MQTT 3.1.1 (aedes 1.2 refuses MQTT 5 CONNECT; see DESIGN.md).
 */
import type { EventEmitter } from 'node:events';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Logger } from '@ioc/shared';
import type { HubMetrics } from '../metrics.js';
import { rateLimitedLog } from '../util/rate-limited-log.js';
import { createAcl, isAclRefusal } from './acl.js';

export interface BrokerOptions {
  host: string;
  port: number;
  /** PEM contents. */
  tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  isGateway(id: string): boolean;
  isRevoked?(id: string, serial: string | undefined): boolean;
  maxPayloadBytes: number;
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
  const acl = createAcl({ isGateway: opts.isGateway, ...(opts.isRevoked ? { isRevoked: opts.isRevoked } : {}), maxPayloadBytes: opts.maxPayloadBytes, logger: log, metrics: opts.metrics });
  const aedes = await Aedes.createBroker({ ...acl, connectTimeout: 10_000 });

  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));
  aedes.on('clientReady', (client: Client) => log.info({ clientId: client.id }, 'gateway connected'));
  aedes.on('clientDisconnect', (client: Client) => log.info({ clientId: client.id }, 'gateway disconnected'));
  aedes.on('clientError', (client: Client, err: Error) => {
    if (isAclRefusal(err)) return;
    limited(`clientError:${client.id}`, 'warn', { clientId: client.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client: Client, err: Error) =>
    limited('connectionError', 'warn', { clientId: client?.id, err: err.message }, 'MQTT connection error'),
  );

  const sockets = new Set<Socket>();
  const server = createServer(
    {
      ca: opts.tls.ca,
      cert: opts.tls.cert,
      key: opts.tls.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // Nagle would hold small PUBACK / ack packets back until the gateway's delayed ACK
      // (~40 ms per round trip, measured: test/bench/README.md).
      noDelay: true,
    },
    (socket: TLSSocket) => {
      aedes.handle(socket);
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    opts.metrics.brokerRefused.inc({ action: 'connect', reason: 'tls' });
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
