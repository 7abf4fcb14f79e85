/** What the API plugins read from the hub. */
import type { Logger } from '@ioc/shared';
import type { FastifyInstance, FastifyBaseLogger, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AlertActions } from '../alerts/lifecycle.js';
import type { RuleSet } from '../alerts/rule-set.js';
import type { AlertViews } from '../alerts/views.js';
import type { AuditLog } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import type { BackupService } from '../backup/service.js';
import type { CapSettings } from '../cap/types.js';
import type { Registry } from '../config/registry.js';
import type { StorageState } from '../health/storage.js';
import type { EnrolmentService } from '../enrol/service.js';
import type { HandoverService } from '../handover/service.js';
import type { LiveFeed } from '../live.js';
import type { HubMetrics } from '../metrics.js';
import type { NotifyService } from '../notify/service.js';
import type { Store } from '../store/types.js';
import type { StreamOptions } from '../stream/options.js';

/** The web consoles as the API serves them (./console.ts). */
export interface ConsoleSettings {
  /** The built app (index.html and assets/); null: the consoles are off. */
  dir: string | null;
  tiles: { url: string; attribution: string } | null;
}

export interface ApiDeps {
  /** The web consoles: where the built app is, the map's tile server (absent: no consoles). */
  console?: ConsoleSettings;
  store: Store;
  registry: Registry;
  /** Alerts as people see them; what people do to them; the rules in force and their versions. */
  alerts: AlertViews;
  alertActions: AlertActions;
  rules: RuleSet;
  metrics: HubMetrics;
  logger: Logger;
  version: string;
  startedAt: number;
  brokerClients(): number;
  audit: AuditLog;
  /** null in open mode (auth.open): no logins, every caller is the full-scope loopback operator. */
  auth: AuthService | null;
  /** Host header values accepted besides loopback names (http.allowedHosts). */
  allowedHosts?: readonly string[];
  /** Login attempts per client address per minute. */
  loginRatePerMinute?: number;
  /** Gateway enrolment, revocation (absent: those routes answer 404). */
  enrolment?: EnrolmentService;
  /** Enrolment attempts per client address per minute. */
  enrolRatePerMinute?: number;
  /** The broker's port, told to an enrolling gateway for its uplink.url. */
  mqttPort?: number;
  /** Serve HTTPS with this certificate chain (PEM: the server certificate, then its CA) and key. */
  https?: { cert: string | Buffer; key: string | Buffer };
  now?: () => number;
  /** The alert engine's flap window (hub.yaml alerts.flapWindowMinutes), for rule backtests. */
  flapWindowMs?: number;
  /** The live feed behind /api/v1/stream (absent: no stream route). */
  live?: LiveFeed;
  stream?: Partial<StreamOptions>;
  /** Whether the hub can store (disk full, writes failing): /health reports it. */
  storage?: { state(): StorageState };
  /** CAP 1.2 output (hub.yaml `cap`; absent: the defaults of ../cap/settings.ts). */
  cap?: CapSettings;
  /** Alert notifications: queue, dead letters, replay (absent: those routes answer 404). */
  notify?: NotifyService;
  /** Shift handovers (absent: those routes answer 404). */
  handovers?: HandoverService;
  /** Backups made by the running hub (absent: those routes answer 404; `ioc-hub backup` still works). */
  backups?: BackupService;
}

export type ApiInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ApiPluginOptions {
  deps: ApiDeps;
}
