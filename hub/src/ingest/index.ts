/**
 * Ingest: subscribes to what gateways publish and dispatches by topic kind to one handler per
 * message kind (./handlers, as in aedes' lib/handlers). A handler never throws into the broker:
 * a refused message is counted (ioc_hub_rejected_total{reason}) and logged, rate-limited.
 */
import { gatewayTopic, gatewayTopicFilter, parseGatewayTopic, type GatewayTopicKind } from '@ioc/shared';
import type { Bus } from '../broker/bus.js';
import { rateLimitedLog } from '../util/rate-limited-log.js';
import type { IngestContext } from './context.js';
import { handleEvents } from './handlers/events.js';
import { handleStatus } from './handlers/status.js';
import { commitTelemetry, handleTelemetry } from './handlers/telemetry.js';
import { DEFAULT_GROUP_BOUNDS, type GroupBounds } from './group-bounds.js';
import { GroupQueue } from './group-queue.js';
import type { PendingTelemetry } from './pending.js';
import { SeqCeiling } from './seq-ceiling.js';

export type Handler = (ctx: IngestContext, gw: string, payload: Buffer) => void;

export const HANDLERS: Partial<Record<GatewayTopicKind, Handler>> = {
  telemetry: handleTelemetry,
  status: handleStatus,
  events: handleEvents,
};

export interface IngestOptions
  extends Pick<IngestContext, 'store' | 'registry' | 'alerts' | 'live' | 'metrics' | 'logger' | 'maxPayloadBytes' | 'storage'> {
  bus: Bus;
  now?: () => number;
  /** When a telemetry group commit is written (./group-bounds.ts); default DEFAULT_GROUP_BOUNDS. */
  groupBounds?: Partial<GroupBounds>;
  /** Batches that may change an alert are committed ahead of routine ones (./group-queue.ts); default true. */
  urgentLane?: boolean;
}

export function createIngestContext(opts: IngestOptions): IngestContext {
  const log = rateLimitedLog(opts.logger);
  const bounds: GroupBounds = { ...DEFAULT_GROUP_BOUNDS, ...opts.groupBounds };
  const urgentLane = opts.urgentLane ?? true;
  let closed = false;
  let acking = true;
  const queue = new GroupQueue({
    bounds,
    urgentLane,
    commit(group, urgentGroup) {
      opts.metrics.ingestGroups.inc({ lane: urgentGroup ? 'urgent' : 'routine' });
      try {
        commitTelemetry(ctx, group);
      } catch (err) {
        // Batches of the group not acknowledged yet are resent by their gateways.
        if (!ctx.storage?.writeFailed(err, { during: 'telemetry group commit' })) opts.logger.error({ err }, 'telemetry group commit failed');
        opts.metrics.rejected.inc({ reason: 'internal_error' });
      }
    },
  });
  /** Only readings of the gateway's own devices can be judged (the others are quarantined). */
  const urgent = (p: PendingTelemetry): boolean => {
    const own = p.batch.readings.filter((r) => opts.registry.devices.get(r.dev)?.gateway === p.gw);
    try {
      return opts.alerts.mayChange(own);
    } catch (err) {
      log('urgent_check', 'error', { err, gw: p.gw }, 'asking the alert rules whether a batch is urgent failed; committed at once');
      return true;
    }
  };
  const ctx: IngestContext = {
    store: opts.store,
    registry: opts.registry,
    alerts: opts.alerts,
    live: opts.live,
    metrics: opts.metrics,
    logger: opts.logger,
    maxPayloadBytes: opts.maxPayloadBytes,
    storage: opts.storage,
    seqCeiling: new SeqCeiling(opts.store),
    now: opts.now ?? Date.now,
    logLimited: log,
    reject(reason, gw, detail) {
      opts.metrics.rejected.inc({ reason });
      log(`reject:${reason}:${gw ?? ''}`, 'warn', { gw, reason, detail: detail.slice(0, 300) }, 'message rejected');
    },
    publishAck(gw, upTo) {
      if (!acking) return;
      opts.bus
        .publish(gatewayTopic(gw, 'ack'), JSON.stringify({ upTo }), { qos: 1, retain: false })
        .catch((err: unknown) => opts.logger.error({ err, gw, upTo }, 'publishing the ack failed'));
    },
    enqueueTelemetry(p) {
      if (closed) return;
      queue.push(p, urgentLane && urgent(p));
    },
    flushTelemetry() {
      queue.flush();
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      acking = false;
      ctx.flushTelemetry();
      closed = true;
    },
  };
  return ctx;
}

export function dispatch(ctx: IngestContext, topic: string, payload: Buffer): void {
  // Stopped: the store may be closed already. Not acknowledged, so the gateway resends it.
  if (ctx.closed) return;
  const t = parseGatewayTopic(topic);
  if (!t) return ctx.reject('unknown_topic', null, topic);
  const handler = HANDLERS[t.kind];
  if (!handler) return;
  // Keep arrival order: telemetry queued for the group commit is written before anything else is handled.
  if (t.kind !== 'telemetry') ctx.flushTelemetry();
  try {
    handler(ctx, t.gw, payload);
  } catch (err) {
    // A status or event the disk refused: counted by the storage health (which logs it, limited).
    if (!ctx.storage?.writeFailed(err, { topic })) ctx.logger.error({ err, topic }, 'ingest handler failed');
    ctx.metrics.rejected.inc({ reason: 'internal_error' });
  }
}

/** Subscribes the handlers on the bus; returns the context (for acks published from elsewhere). */
export async function startIngest(opts: IngestOptions): Promise<IngestContext> {
  const ctx = createIngestContext(opts);
  for (const kind of Object.keys(HANDLERS) as GatewayTopicKind[]) {
    await opts.bus.subscribe(gatewayTopicFilter(kind), (topic, payload) => dispatch(ctx, topic, payload));
  }
  return ctx;
}
