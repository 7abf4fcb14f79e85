/** Prometheus metrics of one hub (its own registry, so several hubs can live in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StorageState } from './health/storage.js';

export interface GatewayGaugeSource {
  gw: string;
  online: boolean;
  upTo: number;
  outbox?: {
    depth: number;
    oldestUnsentAgeS: number;
    bytes: number;
    dropped: number;
    writeFailures?: number | undefined;
    overCap?: { rows: number; bytes: number } | undefined;
  } | undefined;
  /** Current technical problems (health/gateway-problems.ts). */
  problems?: ReadonlyArray<{ problem: string }>;
}

export interface StateSources {
  gateways(): GatewayGaugeSource[];
  brokerClients(): number;
  unresolvedAlerts(): Array<{ level: number; count: number }>;
  /** Whether the hub can store (health/storage.ts). */
  storage?(): StorageState;
}

export interface HubMetrics {
  registry: Registry;
  readingsStored: Counter<'gw'>;
  duplicates: Counter<'gw'>;
  quarantined: Counter<'gw' | 'cause'>;
  /** Readings a gateway sent as good with a value outside the metric's plausible range: stored as q bad, out_of_range. */
  outOfRange: Counter<'gw' | 'metric'>;
  /** Readings whose ts was outside the hub's clock window: stored as q bad, clock_skew. */
  clockSkew: Counter<'gw'>;
  /** Seqs the gateways reported as deleted unsent. */
  droppedReported: Counter<'gw'>;
  /** Inbound messages refused, by reason (malformed_json, schema, seq_mismatch, gw_mismatch, oversize, …). */
  rejected: Counter<'reason'>;
  /** Broker-level refusals: connect, packet (fixed header), publish, subscribe. */
  brokerRefused: Counter<'action' | 'reason'>;
  /** Publishes delayed because their gateway was over its message rate cap (nothing dropped). */
  rateLimited: Counter<'gw'>;
  ingestSeconds: Histogram<'kind'>;
  /** Telemetry group commits by lane: urgent (a batch that may change an alert, at once) or routine. */
  ingestGroups: Counter<'lane'>;
  /** WAL checkpoints of the checkpoint worker (db/checkpointer.ts): complete, partial (readers held frames), failed. */
  walCheckpoints: Counter<'outcome'>;
  /** Frames in hub.db's WAL at the last checkpoint. */
  walFrames: Gauge;
  alertEvents: Counter<'rule' | 'kind'>;
  /** Writes to hub.db the storage refused (disk full, I/O error, read-only, corrupt). */
  storeWriteFailures: Counter<'kind'>;
  /** Technical problems raised from gateways' status (outbox writes failing, outbox over its cap). */
  gatewayProblems: Counter<'gw' | 'problem'>;
  /** WebSocket stream clients connected now (api/stream.ts). */
  streamClients: Gauge;
  /** Stream clients the hub closed: slow (fell behind the live feed), heartbeat (no pong), credentials (logged out, revoked, areas changed). */
  streamClosed: Counter<'reason'>;
  /** Wires the gauges that are read from the hub's state at scrape time. */
  bindState(sources: StateSources): void;
}

export function createHubMetrics(): HubMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'ioc_hub_' });
  let sources: StateSources | undefined;

  const m: HubMetrics = {
    registry,
    readingsStored: new Counter({ name: 'ioc_hub_readings_stored_total', help: 'Readings stored (new seqs only)', labelNames: ['gw'], registers }),
    duplicates: new Counter({ name: 'ioc_hub_readings_duplicate_total', help: 'Readings received again for a seq already accounted', labelNames: ['gw'], registers }),
    quarantined: new Counter({ name: 'ioc_hub_readings_quarantined_total', help: 'Readings accounted but kept in quarantine (unknown device/metric, wrong gateway, unit or value kind)', labelNames: ['gw', 'cause'], registers }),
    outOfRange: new Counter({
      name: 'ioc_hub_readings_out_of_range_total',
      help: 'Readings sent as good with a value outside the metric\'s plausible range (catalog), stored by the hub as q bad, reason out_of_range',
      labelNames: ['gw', 'metric'],
      registers,
    }),
    clockSkew: new Counter({
      name: 'ioc_hub_readings_clock_skew_total',
      help: "Readings dated outside the hub's window around its clock (ingest.maxClockSkewMs, ingest.maxReadingAgeDays): stored as q bad, reason clock_skew, never latest, never evaluated",
      labelNames: ['gw'],
      registers,
    }),
    droppedReported: new Counter({ name: 'ioc_hub_readings_dropped_total', help: 'Seqs a gateway reported as deleted unsent (outbox full or too old)', labelNames: ['gw'], registers }),
    rejected: new Counter({ name: 'ioc_hub_rejected_total', help: 'Inbound messages refused, by reason', labelNames: ['reason'], registers }),
    brokerRefused: new Counter({ name: 'ioc_hub_broker_refused_total', help: 'Broker refusals (connect, packet, publish, subscribe) by reason', labelNames: ['action', 'reason'], registers }),
    rateLimited: new Counter({
      name: 'ioc_hub_broker_rate_limited_total',
      help: "Publishes delayed because the gateway was over its message rate cap (mqtt.rateLimit); delayed, not dropped",
      labelNames: ['gw'],
      registers,
    }),
    ingestSeconds: new Histogram({
      name: 'ioc_hub_ingest_batch_seconds',
      help: 'Time from receiving a message to its durable write and ack, by message kind',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    ingestGroups: new Counter({
      name: 'ioc_hub_ingest_groups_total',
      help: 'Telemetry group commits by lane: urgent (a batch that may change an alert, committed at once) or routine (grouped once input pauses)',
      labelNames: ['lane'],
      registers,
    }),
    walCheckpoints: new Counter({
      name: 'ioc_hub_wal_checkpoints_total',
      help: 'WAL checkpoints off the event loop: complete, partial (frames still held by readers), failed (the hub then checkpoints in its own commits)',
      labelNames: ['outcome'],
      registers,
    }),
    walFrames: new Gauge({ name: 'ioc_hub_wal_frames', help: "Frames (pages) in hub.db's write-ahead log at the last checkpoint", registers }),
    alertEvents: new Counter({ name: 'ioc_hub_alert_events_total', help: 'Alert episode events by rule and kind', labelNames: ['rule', 'kind'], registers }),
    storeWriteFailures: new Counter({
      name: 'ioc_hub_store_write_failures_total',
      help: 'Writes to hub.db refused by the storage, by kind (full, ioerr, readonly, corrupt): nothing of them was stored or acknowledged',
      labelNames: ['kind'],
      registers,
    }),
    gatewayProblems: new Counter({
      name: 'ioc_hub_gateway_problems_total',
      help: 'Technical problems raised from gateway status: outbox_write_failed (polls lost at the gateway), outbox_over_cap (alerting rows above the cap)',
      labelNames: ['gw', 'problem'],
      registers,
    }),
    streamClients: new Gauge({ name: 'ioc_hub_stream_clients', help: 'WebSocket clients of /api/v1/stream connected now', registers }),
    streamClosed: new Counter({
      name: 'ioc_hub_stream_closed_total',
      help: 'WebSocket stream clients closed by the hub: slow (fell behind the live feed), heartbeat (no pong), credentials (logged out, revoked or areas changed)',
      labelNames: ['reason'],
      registers,
    }),
    bindState(s) {
      sources = s;
    },
  };

  const perGateway = (name: string, help: string, pick: (g: GatewayGaugeSource) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['gw'],
      registers,
      collect() {
        this.reset();
        for (const g of sources?.gateways() ?? []) {
          const v = pick(g);
          if (v !== undefined) this.set({ gw: g.gw }, v);
        }
      },
    });
  perGateway('ioc_hub_gateway_online', '1 when the gateway is connected and reported online', (g) => (g.online ? 1 : 0));
  perGateway('ioc_hub_gateway_ack_upto', "The hub's contiguous high-water mark (ack upTo) per gateway", (g) => g.upTo);
  perGateway('ioc_hub_gateway_outbox_depth', 'Unsent readings in the gateway outbox (last status)', (g) => g.outbox?.depth);
  perGateway('ioc_hub_gateway_outbox_oldest_unsent_age_seconds', 'Age of the oldest unsent reading (last status)', (g) => g.outbox?.oldestUnsentAgeS);
  perGateway('ioc_hub_gateway_outbox_bytes', 'Outbox size on the gateway (last status)', (g) => g.outbox?.bytes);
  perGateway('ioc_hub_gateway_outbox_dropped', 'Readings the gateway outbox dropped so far (last status)', (g) => g.outbox?.dropped);
  perGateway(
    'ioc_hub_gateway_outbox_write_failures',
    'Polls the gateway could not write to its outbox since it started (disk full or failing): their readings are lost (last status)',
    (g) => (g.outbox ? g.outbox.writeFailures ?? 0 : undefined),
  );
  perGateway('ioc_hub_gateway_outbox_over_cap_rows', 'Rows above outbox.maxRows held by alerting readings that are never dropped (last status)', (g) => (g.outbox ? g.outbox.overCap?.rows ?? 0 : undefined));
  perGateway('ioc_hub_gateway_outbox_over_cap_bytes', 'Bytes above outbox.maxBytes held by alerting readings that are never dropped (last status)', (g) => (g.outbox ? g.outbox.overCap?.bytes ?? 0 : undefined));
  new Gauge({
    name: 'ioc_hub_gateway_problem',
    help: '1 for each current technical problem of a gateway (outbox_write_failed, outbox_over_cap)',
    labelNames: ['gw', 'problem'],
    registers,
    collect() {
      this.reset();
      for (const g of sources?.gateways() ?? []) for (const p of g.problems ?? []) this.set({ gw: g.gw, problem: p.problem }, 1);
    },
  });

  const storageGauge = (name: string, help: string, pick: (s: StorageState) => number | null) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = sources?.storage?.();
        const v = s ? pick(s) : null;
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  storageGauge('ioc_hub_disk_free_bytes', 'Free bytes on the file system of the data directory (statfs, available to the hub)', (s) => s.disk.freeBytes);
  storageGauge('ioc_hub_disk_low', '1 when free space on the data directory is below hub.minFreeDiskMB', (s) => (s.disk.low ? 1 : 0));
  storageGauge('ioc_hub_store_writes_failing', '1 while writes to hub.db fail (nothing is stored or acknowledged; health answers 503)', (s) => (s.writesFailing ? 1 : 0));

  new Gauge({
    name: 'ioc_hub_broker_clients',
    help: 'MQTT clients connected to the embedded broker',
    registers,
    collect() {
      this.set(sources?.brokerClients() ?? 0);
    },
  });
  new Gauge({
    name: 'ioc_hub_alerts_open',
    help: 'Alerts not yet resolved (open or acknowledged), by current level (0 = condition cleared)',
    labelNames: ['level'],
    registers,
    collect() {
      this.reset();
      for (const { level, count } of sources?.unresolvedAlerts() ?? []) this.set({ level: String(level) }, count);
    },
  });
  return m;
}
