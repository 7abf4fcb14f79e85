/**
 * ioc/v1/{gw}/telemetry: validate the batch, store it, run the alert rules on the fresh readings,
 * then publish `{upTo}` to ioc/v1/{gw}/ack. Everything the ack stands for (readings, accounting,
 * alert state) is committed before it is sent.
 *
 * Group commit: a valid batch is queued (IngestContext.enqueueTelemetry) and the batches that
 * arrive in the same event-loop turn are written by commitTelemetry in ONE transaction (one WAL
 * flush with synchronous = FULL instead of one per batch); each batch's alert evaluation and ack
 * follow that commit, in arrival order.
 */
import { batchSeqConsistent, decodePayload, validateTelemetryBatch, type TelemetryBatch } from '@ioc/shared';
import type { IngestContext, RejectReason } from '../context.js';
import type { WriteResult } from '../../store/types.js';

export function decodeRejectReason(reason: string): RejectReason {
  if (reason.startsWith('malformed JSON')) return 'malformed_json';
  if (reason.startsWith('payload too large')) return 'oversize';
  return 'schema';
}

/** A validated batch waiting for the group commit. */
export interface PendingTelemetry {
  gw: string;
  batch: TelemetryBatch;
  /** process.hrtime.bigint() when the handler got it (ioc_hub_ingest_seconds covers the wait). */
  started: bigint;
}

export function handleTelemetry(ctx: IngestContext, gw: string, payload: Buffer): void {
  const started = process.hrtime.bigint();
  if (payload.length > ctx.maxPayloadBytes) return ctx.reject('oversize', gw, `payload too large (${payload.length} bytes)`);
  const decoded = decodePayload(payload, validateTelemetryBatch);
  if (!decoded.ok) return ctx.reject(decodeRejectReason(decoded.reason), gw, decoded.reason);
  const batch = decoded.value;
  if (batch.gw !== gw) return ctx.reject('gw_mismatch', gw, `payload gw "${batch.gw}" differs from the topic's "${gw}"`);
  if (!batchSeqConsistent(batch)) {
    return ctx.reject('seq_mismatch', gw, `seq [${batch.seq[0]}, ${batch.seq[1]}] does not match ${batch.readings.length} readings`);
  }
  if (!ctx.registry.gateways.has(gw)) return ctx.reject('unknown_gateway', gw, `gateway "${gw}" is not in the registry`);
  ctx.enqueueTelemetry({ gw, batch, started });
}

/**
 * Writes the queued batches in one transaction, then, per batch in order: metrics, alert rules,
 * ack, live feed. If the group's transaction fails (nothing of it was written), each batch is
 * retried alone, so one bad batch is refused as before without holding back the others.
 */
export function commitTelemetry(ctx: IngestContext, pending: readonly PendingTelemetry[]): void {
  if (!pending.length) return;
  let results: Array<WriteResult | Error>;
  try {
    results = ctx.store.writeBatches(pending.map((p) => ({ gw: p.gw, firstSeq: p.batch.seq[0], readings: p.batch.readings })));
  } catch (err) {
    results = pending.length === 1
      ? [err as Error]
      : pending.map((p) => {
          try {
            return ctx.store.writeBatch(p.gw, p.batch.seq[0], p.batch.readings);
          } catch (e) {
            return e as Error;
          }
        });
  }
  for (let i = 0; i < pending.length; i++) finish(ctx, pending[i]!, results[i]!);
}

function finish(ctx: IngestContext, p: PendingTelemetry, res: WriteResult | Error): void {
  const { gw, batch } = p;
  if (res instanceof Error) {
    // Not acknowledged: the gateway keeps the batch and sends it again.
    ctx.logger.error({ err: res, gw, seq: batch.seq }, 'storing a telemetry batch failed; not acknowledged');
    return ctx.reject('store_error', gw, res.message);
  }
  const now = ctx.now();
  ctx.store.touchGateway(gw, now);
  const m = ctx.metrics;
  if (res.stored) m.readingsStored.inc({ gw }, res.stored);
  if (res.duplicates) m.duplicates.inc({ gw }, res.duplicates);
  for (const [cause, n] of Object.entries(res.quarantinedBy)) m.quarantined.inc({ gw, cause }, n);
  if (res.quarantined) {
    ctx.logger.warn({ gw, seq: batch.seq, quarantined: res.quarantinedBy }, 'readings quarantined (accounted and kept, not stored as data)');
  }
  if (res.fresh.length) {
    try {
      ctx.alerts.evaluate(res.fresh);
    } catch (err) {
      // The readings are committed; the engine catches up from the store at its next start.
      ctx.logger.error({ err, gw, seq: batch.seq }, 'alert evaluation failed');
      m.rejected.inc({ reason: 'internal_error' });
    }
  }
  ctx.publishAck(gw, res.upTo);
  m.ingestSeconds.observe({ kind: 'telemetry' }, Number(process.hrtime.bigint() - p.started) / 1e9);
  ctx.logger.debug({ gw, seq: batch.seq, lane: batch.lane, stored: res.stored, duplicates: res.duplicates, upTo: res.upTo }, 'telemetry batch');
  if (res.fresh.length) ctx.live.publish('readings', { gw, readings: res.fresh });
}
