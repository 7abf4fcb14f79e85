/**
 * The hub in one process: embedded MQTT broker (aedes, mutual TLS) → ingest → SQLite store →
 * alert engine → HTTP API. `startHub` wires the parts and returns a handle to close them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDirLock, createLogger, ensurePki, gatewayTopic, type Logger, type PkiPaths } from '@ioc/shared';
import { AlertEngine } from './alerts/engine.js';
import { AlertActions } from './alerts/lifecycle.js';
import { RuleSet } from './alerts/rule-set.js';
import { AlertViews } from './alerts/views.js';
import { apiTls } from './api/https.js';
import { DEFAULT_CONSOLE_DIR } from './api/console.js';
import { startApi, type RunningApi } from './api/server.js';
import { DEFAULT_STREAM_OPTIONS, type StreamOptions } from './stream/options.js';
import { SqliteAuditLog } from './audit/sqlite.js';
import type { AuditLog } from './audit/types.js';
import { SqlitePeopleStore } from './auth/people-store.js';
import { AuthService } from './auth/service.js';
import { announceGatewayConfig } from './broker/gateway-config.js';
import { InProcessBus } from './broker/in-process-bus.js';
import { startBroker, type EmbeddedBroker } from './broker/server.js';
import { capSettings } from './cap/settings.js';
import { resolveHubConfig } from './config/load.js';
import { buildRegistry } from './config/registry.js';
import type { HubConfig, ResolvedHubConfig } from './config/schema.js';
import { clockWindow, createAdmission } from './ingest/admission.js';
import { startIngest } from './ingest/index.js';
import { LiveFeed } from './live.js';
import { createHubMetrics, type HubMetrics } from './metrics.js';
import { openNotifications, type NotifyService } from './notify/index.js';
import { gatewayProblems } from './health/gateway-problems.js';
import { StorageHealth } from './health/storage.js';
import { openHubDatabase } from './db/database.js';
import { rateLimitedLog } from './util/rate-limited-log.js';
import { startCheckpointer, type Checkpointer } from './db/checkpointer.js';
import { HandoverService } from './handover/service.js';
import { SqliteHandoverStore } from './handover/store.js';
import { BackupService } from './backup/service.js';
import { openEnrolment, type EnrolmentService } from './enrol/index.js';
import { hubKeyFile, loadHubKeyring, type Keyring } from './secrets/keyring.js';
import { openSqliteStore } from './store/sqlite.js';
import { SYSTEM_SCOPE, type Store } from './store/types.js';
import { VERSION } from './version.js';

export interface Hub {
  /** Ports actually bound (config may ask for 0). */
  mqttPort: number;
  httpPort: number;
  /** Base URL of the HTTP API, e.g. https://127.0.0.1:8080/api/v1 (http:// with http.tls: false). */
  apiUrl: string;
  /** SHA-256 fingerprint of the hub CA (shown with enrolment tokens, pinned by `ioc-edge enroll`). */
  caFingerprint: string;
  enrolment: EnrolmentService;
  /** The demo PKI's files (null when mqtt.tls names the certificate files). */
  pki: PkiPaths | null;
  pkiDir: string | null;
  store: Store;
  audit: AuditLog;
  /** null in open mode (auth.open). */
  auth: AuthService | null;
  keyring: Keyring;
  alerts: AlertEngine;
  alertViews: AlertViews;
  alertActions: AlertActions;
  rules: RuleSet;
  notify: NotifyService;
  live: LiveFeed;
  metrics: HubMetrics;
  config: ResolvedHubConfig;
  logger: Logger;
  close(): Promise<void>;
}

export interface StartHubOptions {
  logger?: Logger;
  /** Relative paths in the config are resolved against this folder (default: the working directory). */
  configDir?: string;
}

/**
 * Shutdown order. The HTTP API first (its requests and stream clients read the store). Then the
 * broker: its listener and every client connection close, so nothing more is read, PUBACKed or
 * delivered. Only then the ingest: the telemetry group still queued is committed (its acks would
 * have no one to go to; each gateway learns upTo when it reconnects) and later deliveries are
 * ignored. Then the bus's subscriptions, and last the store, which nothing can reach any more.
 * (Stopping the ingest before the broker left a window in which the broker PUBACKed publishes
 * that were never stored; the end-to-end ack made that safe, but not tidy.) Notifications stop
 * delivering before the broker (their mqtt channel publishes through it); alert changes of the
 * ingest's last group are still queued, for the next start.
 */
const STOP_ORDER = ['api', 'alerts', 'notify', 'broker', 'ingest', 'bus', 'enrol', 'store', 'storage', 'db', 'lock'] as const;

/**
 * Each start is audited with a digest of the configuration it runs, and the configuration itself
 * when it differs from the previous start's (config files carry no secrets: TLS keys are paths).
 */
function recordStart(audit: AuditLog, cfg: ResolvedHubConfig, keySource: string): void {
  const configSha256 = createHash('sha256').update(JSON.stringify(cfg)).digest('hex');
  const [prev] = audit.list({ action: 'hub.started', limit: 1 });
  const prevSha = (prev?.after as { configSha256?: string } | null)?.configSha256;
  const changed = prevSha !== undefined && prevSha !== configSha256;
  audit.append({
    actor: 'system',
    action: 'hub.started',
    summary: `ioc-hub ${VERSION}${changed ? ': configuration changed since the last start' : ''}`,
    ...(changed ? { before: { configSha256: prevSha } } : {}),
    after: { configSha256, keySource, ...(changed || prev === undefined ? { config: cfg } : {}) },
  });
}

function streamOptions(s: ResolvedHubConfig['stream']): StreamOptions {
  return { heartbeatMs: s.heartbeatS * 1000, maxClients: s.maxClients, maxLagMs: s.maxLagS * 1000, highWaterBytes: s.highWaterKB * 1024, closeGraceMs: DEFAULT_STREAM_OPTIONS.closeGraceMs };
}

function urlHost(host: string): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

export async function startHub(config: HubConfig, opts: StartHubOptions = {}): Promise<Hub> {
  const cfg = resolveHubConfig(config, opts.configDir ?? process.cwd());
  const logger = opts.logger ?? createLogger({ name: 'ioc-hub', ...(cfg.log.level ? { level: cfg.log.level } : {}) });
  const startedAt = Date.now();
  const registry = buildRegistry(cfg.registry);
  const dataDir = cfg.hub.dataDir;
  // One hub per data directory, before anything in it is written (see shared/src/dir-lock.ts).
  const lock = acquireDirLock(dataDir, 'ioc-hub');

  let pki: PkiPaths | null = null;
  let pkiDir: string | null = null;
  let tls: { ca: Buffer; cert: Buffer; key: Buffer };
  try {
    if (cfg.mqtt.tls) {
      tls = { ca: readFileSync(cfg.mqtt.tls.ca), cert: readFileSync(cfg.mqtt.tls.cert), key: readFileSync(cfg.mqtt.tls.key) };
    } else {
      pkiDir = join(dataDir, 'pki');
      pki = ensurePki(pkiDir, { serverNames: cfg.mqtt.serverNames, clients: [...registry.gateways.keys(), ...cfg.mqtt.consumers.map((c) => c.id)] });
      tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) };
      logger.info(
        { pkiDir, ca: pki.caCert, serverCert: pki.serverCert, clientCerts: join(pkiDir, 'clients'), gateways: [...registry.gateways.keys()] },
        'demo PKI in use (no mqtt.tls configured): enrol gateways with `ioc-hub gateway token`, or copy ca.crt and clients/{gateway}.crt/.key to them',
      );
    }
  } catch (err) {
    lock.release();
    throw err;
  }

  // How each started part stops; stop() runs them in STOP_ORDER (also after a failed start).
  const stops: Partial<Record<(typeof STOP_ORDER)[number], () => Promise<void> | void>> = { lock: () => lock.release() };
  const stop = async () => {
    for (const part of STOP_ORDER) {
      const fn = stops[part];
      delete stops[part];
      if (!fn) continue;
      try {
        await fn();
      } catch (err) {
        logger.error({ err, part }, 'error while stopping the hub');
      }
    }
  };

  try {
    const keyring = loadHubKeyring(cfg.hub);
    const db = openHubDatabase(join(dataDir, 'hub.db'));
    let checkpointer: Checkpointer | null = null;
    stops.db = async () => {
      await checkpointer?.stop();
      db.close();
    };
    const store = openSqliteStore({ db, admit: createAdmission(registry, clockWindow(cfg.ingest)), maxClockSkewMs: cfg.ingest.maxClockSkewMs });
    stops.store = () => store.close();
    const audit = new SqliteAuditLog(db, keyring.subkey('audit-chain'));
    const auth = cfg.auth.open
      ? null
      : new AuthService({ people: new SqlitePeopleStore(db), audit, keyring, registry, settings: cfg.auth });
    if (!auth) logger.warn({ httpHost: cfg.http.host }, 'auth.open: the API answers without login, to anyone on this machine (development and tests only)');
    recordStart(audit, cfg, keyring.source);
    const enrolment = openEnrolment({
      db, audit, registry, config: cfg.enrolment, logger: logger.child({ area: 'enrol' }),
      caCertFile: cfg.mqtt.tls ? cfg.mqtt.tls.ca : pki!.caCert,
      caKeyFile: cfg.mqtt.tls ? cfg.mqtt.tls.caKey : pki!.caKey,
    });
    stops.enrol = () => enrolment.close();
    // The embedded broker has no client yet: any online flag in the database is stale.
    store.markAllOffline();

    const metrics = createHubMetrics();
    const walLog = rateLimitedLog(logger.child({ area: 'db' }), { intervalMs: 60_000, burst: 1 });
    checkpointer = startCheckpointer(db, {
      onCheckpoint: (r) => {
        metrics.walFrames.set(r.frames);
        metrics.walCheckpoints.inc({ outcome: r.checkpointed < r.frames ? 'partial' : 'complete' });
      },
      onError: (err) => {
        metrics.walCheckpoints.inc({ outcome: 'failed' });
        walLog('wal_checkpoint', 'error', { err }, 'WAL checkpoint off the event loop failed; commits checkpoint when the WAL grows large');
      },
    });
    // Disk full or failing: health says so (503) instead of "ok" while nothing can be stored.
    const storage = new StorageHealth({
      dataDir, minFreeBytes: cfg.hub.minFreeDiskMB * 1024 * 1024, logger: logger.child({ area: 'storage' }),
      onFailure: (kind) => metrics.storeWriteFailures.inc({ kind }),
    });
    storage.start();
    stops.storage = () => storage.stop();
    const live = new LiveFeed(logger, { history: { maxItems: cfg.stream.resumeMaxItems, maxAgeMs: cfg.stream.resumeMaxAgeS * 1000 } });
    const alertViews = new AlertViews(store.alerts, registry);
    const rules = new RuleSet({ alerts: store.alerts, registry, audit, configured: cfg.alerts.rules });
    for (const bad of rules.invalid) logger.error(bad, 'a stored alert rule does not fit the registry and is not in force: fix it with PUT /api/v1/rules/{id}');
    alertViews.setRules(rules.rules);
    const alerts = new AlertEngine({
      alerts: store.alerts,
      readings: store,
      registry,
      rules: rules.rules,
      views: alertViews,
      maxFutureSkewMs: cfg.ingest.maxClockSkewMs,
      lateAfterMs: cfg.alerts.lateAfterS * 1000,
      flapWindowMs: cfg.alerts.flapWindowMinutes * 60_000,
      gatewayOnline: (gw) => store.gatewayState(gw)?.online ?? false,
      logger: logger.child({ area: 'alerts' }),
    });
    rules.onChange((compiled) => {
      alertViews.setRules(compiled);
      alerts.replaceRules(compiled);
    });
    // A gateway enrolled while the hub runs: its technical rules (offline, problems) take it on.
    enrolment.onEnrolled(() => rules.recompile());
    const alertActions = new AlertActions(store.alerts, alertViews, alerts);
    alerts.on('change', (c) => {
      metrics.alertEvents.inc({ rule: c.alert.rule, kind: c.event.kind });
      live.publish('alert', c);
    });
    // Queues from here on (changes of the engine's catch-up included); delivers once the bus is up.
    const notify = openNotifications({
      db, config: cfg.notify, logger: logger.child({ area: 'notify' }), version: VERSION, metricsRegistry: metrics.registry, alertView: (id) => alertViews.get(id, SYSTEM_SCOPE),
    });
    stops.notify = () => notify.close();
    // A shelved target (maintenance) is recorded and shown, not notified.
    alerts.on('change', (c) => {
      if (!c.shelved) notify.onAlertChange(c);
    });
    alerts.start();
    // The clock of the rules: silence, staleness, late episodes whose backlog ended.
    const tick = setInterval(() => {
      try {
        alerts.tick();
      } catch (err) {
        if (!storage.writeFailed(err, { during: 'alert tick' })) logger.error({ err }, 'alert tick failed');
      }
    }, cfg.alerts.tickS * 1000);
    tick.unref();
    stops.alerts = () => clearInterval(tick);

    const consumers = new Map(cfg.mqtt.consumers.map((c) => [c.id, c.areas]));
    // Commune → province, from the registry (a province-wide consumer reads its communes' alerts).
    const provinces = new Map<string, string>([...registry.devices.values()].map((d) => [d.communeCode, d.provinceCode]));
    for (const c of registry.communes.values()) if (c.provinceCode) provinces.set(c.code, c.provinceCode);
    const broker: EmbeddedBroker = await startBroker({
      host: cfg.mqtt.host,
      port: cfg.mqtt.port,
      tls,
      isGateway: (id) => registry.gateways.has(id),
      isRevoked: enrolment.isRevoked,
      consumerAreas: (id) => consumers.get(id),
      provinceOf: (commune) => provinces.get(commune),
      maxPayloadBytes: cfg.mqtt.maxPayloadBytes,
      maxConnections: cfg.mqtt.maxConnections,
      connectTimeoutMs: cfg.mqtt.connectTimeoutMs,
      rateLimit: cfg.mqtt.rateLimit,
      logger: logger.child({ area: 'broker' }),
      metrics,
    });
    stops.broker = () => broker.close();

    const bus = new InProcessBus(broker.aedes, logger);
    stops.bus = () => bus.close();
    await announceGatewayConfig(bus, registry.gateways.keys(), { maxPayloadBytes: cfg.mqtt.maxPayloadBytes });
    notify.start({ bus });
    const { urgentLane, ...groupBounds } = cfg.ingest.groupCommit;
    const ingest = await startIngest({
      bus,
      store,
      registry,
      alerts,
      live,
      metrics,
      logger: logger.child({ area: 'ingest' }),
      maxPayloadBytes: cfg.mqtt.maxPayloadBytes,
      storage,
      groupBounds,
      urgentLane,
    });
    // After the broker: batches still waiting for the group commit are written (not acknowledged).
    stops.ingest = () => ingest.close();
    await enrolment.attach(broker, bus);
    // A gateway that (re)subscribes to its ack topic learns the hub's high-water mark at once.
    broker.aedes.on('subscribe', (subs, client) => {
      if (!client || !registry.gateways.has(client.id)) return;
      const ackTopic = gatewayTopic(client.id, 'ack');
      if (subs.some((s) => s.topic === ackTopic && (s.qos as number) !== 128)) ingest.publishAck(client.id, store.upTo(client.id));
    });

    metrics.bindState({
      gateways: () =>
        [...registry.gateways.keys()].map((gw) => {
          const st = store.gatewayState(gw);
          return { gw, online: st?.online ?? false, upTo: store.upTo(gw), outbox: st?.status?.outbox, problems: gatewayProblems(st?.status) };
        }),
      brokerClients: () => broker.connectedClients(),
      unresolvedAlerts: () => store.alerts.unresolvedByLevel(),
      storage: () => storage.state(),
    });

    const https = apiTls(cfg.http, tls);
    const api: RunningApi = await startApi(
      { store, registry, alerts: alertViews, alertActions, rules, metrics, logger: logger.child({ area: 'api' }), version: VERSION, startedAt, brokerClients: () => broker.connectedClients(),
        audit, auth, storage, allowedHosts: cfg.http.allowedHosts, loginRatePerMinute: cfg.auth.loginRatePerMinute,
        enrolment: enrolment.service, enrolRatePerMinute: cfg.enrolment.ratePerMinute, mqttPort: broker.port, notify, ...(https ? { https } : {}),
        cap: capSettings(cfg.cap), live, stream: streamOptions(cfg.stream), flapWindowMs: cfg.alerts.flapWindowMinutes * 60_000,
        handovers: new HandoverService(new SqliteHandoverStore(db), alertViews),
        backups: new BackupService({ dir: cfg.backup.dir ?? join(dataDir, 'backups'), dbPath: join(dataDir, 'hub.db'), audit,
          secretKey: keyring.source.startsWith('env:') ? `$${keyring.source.slice(4)}` : hubKeyFile(cfg.hub) }),
        console: { dir: cfg.http.console.enabled ? (cfg.http.console.dir ?? DEFAULT_CONSOLE_DIR) : null, tiles: cfg.http.console.tiles ?? null } },
      { host: cfg.http.host, port: cfg.http.port },
    );
    stops.api = () => api.close();

    let closing: Promise<void> | undefined;
    return {
      mqttPort: broker.port,
      httpPort: api.port,
      apiUrl: `${https ? 'https' : 'http'}://${urlHost(cfg.http.host)}:${api.port}/api/v1`,
      caFingerprint: enrolment.service.caFingerprint,
      enrolment: enrolment.service,
      pki,
      pkiDir,
      store,
      audit,
      auth,
      keyring,
      alerts,
      alertViews,
      alertActions,
      rules,
      notify,
      live,
      metrics,
      config: cfg,
      logger,
      close() {
        closing ??= stop();
        return closing;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
