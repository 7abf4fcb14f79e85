/**
 * Gateway identity in the running hub: the enrolment service (tokens, enrolment, renewal,
 * revocation), enrolled gateways in the registry, the revocation list the broker consults at
 * every connect, renewals answered over MQTT, revoked gateways cut off.
 */
import { parseDuration, type Logger } from '@ioc/shared';
import type { Client } from 'aedes';
import type { AuditLog } from '../audit/types.js';
import type { Bus } from '../broker/bus.js';
import type { EmbeddedBroker } from '../broker/server.js';
import type { Registry } from '../config/registry.js';
import type { ResolvedHubConfig } from '../config/schema.js';
import type { HubDatabase } from '../db/database.js';
import { loadHubCa } from './ca.js';
import { startRenewal } from './renewal.js';
import { RevocationList } from './revocation.js';
import { EnrolmentService } from './service.js';
import { EnrolStore } from './store.js';

export { EnrolError, EnrolmentService } from './service.js';
export type { GatewayIdentityView } from './views.js';

export interface Enrolment {
  service: EnrolmentService;
  /** For the broker's authenticate: is this gateway, or this certificate serial, revoked? */
  isRevoked(gateway: string, serial: string | undefined): boolean;
  /** Once the broker runs: answer renewals, cut revoked gateways off. */
  attach(broker: EmbeddedBroker, bus: Bus): Promise<void>;
  /** Called after a gateway enrolled and joined the registry (e.g. the alert rules take it on). */
  onEnrolled(fn: (gateway: string) => void): void;
  close(): void;
}

export interface OpenEnrolmentOptions {
  db: HubDatabase;
  audit: AuditLog;
  registry: Registry;
  config: ResolvedHubConfig['enrolment'];
  /** The hub CA's certificate, and its key when the hub may sign (undefined: it may not). */
  caCertFile: string;
  caKeyFile: string | undefined;
  logger: Logger;
  /** How often revocations by other processes are looked for (default 1000 ms). */
  revocationCheckMs?: number;
}

/** Opens the service and lists enrolled gateways in the registry (before the broker accepts anyone). */
export function openEnrolment(opts: OpenEnrolmentOptions): Enrolment {
  const store = new EnrolStore(opts.db);
  const ca = loadHubCa(opts.caCertFile, opts.caKeyFile);
  if (ca.cannotSign) opts.logger.warn({ reason: ca.cannotSign }, 'gateway enrolment and certificate renewal are off');
  for (const g of store.enrolled()) opts.registry.addGateway({ id: g.gateway, ...(g.commune ? { communeCode: g.commune } : {}) });

  const enrolledListeners: Array<(gateway: string) => void> = [];
  // Connected gateways by client id, to cut a revoked one off.
  const clients = new Map<string, Client>();
  const cut = (gw: string) => {
    const c = clients.get(gw);
    if (c && !c.closed) c.close();
  };
  const revocations = new RevocationList({ store, logger: opts.logger, onRevoked: cut, ...(opts.revocationCheckMs ? { intervalMs: opts.revocationCheckMs } : {}) });
  const service = new EnrolmentService({
    store,
    audit: opts.audit,
    ca,
    registry: opts.registry,
    tokenTtlMs: parseDuration(opts.config.tokenTtl)!,
    certificateValidityMs: parseDuration(opts.config.certificateValidity)!,
    onEnrolled: (gw, commune) => {
      opts.registry.addGateway({ id: gw, communeCode: commune });
      // A re-enrolment lifts a revocation: read the tables again (our own commit does not move data_version).
      revocations.reload();
      for (const fn of enrolledListeners) {
        try {
          fn(gw);
        } catch (err) {
          opts.logger.error({ err, gw }, 'a listener of gateway enrolment failed');
        }
      }
    },
    onRevoked: () => revocations.reload(),
  });

  return {
    service,
    onEnrolled: (fn) => void enrolledListeners.push(fn),
    isRevoked: (gw, serial) => revocations.isRevoked(gw, serial),
    async attach(broker, bus) {
      broker.aedes.on('clientReady', (c: Client) => {
        clients.set(c.id, c);
        // Revoked between authenticate and now: do not keep it.
        if (revocations.isRevoked(c.id, undefined)) c.close();
      });
      broker.aedes.on('clientDisconnect', (c: Client) => {
        if (clients.get(c.id) === c) clients.delete(c.id);
      });
      await startRenewal({ bus, service, logger: opts.logger });
      revocations.start();
    },
    close() {
      revocations.stop();
      clients.clear();
    },
  };
}
