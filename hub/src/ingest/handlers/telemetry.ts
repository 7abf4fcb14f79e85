/**
 * ioc/v1/{gw}/telemetry: validate the batch, store it in one transaction, run the alert rules on
 * the fresh readings, then publish `{upTo}` to ioc/v1/{gw}/ack. Everything the ack stands for
 * (readings, accounting, alert state) is committed before it is sent.
 */
import { batchSeqConsistent, decodePayload, validateTelemetryBatch } from '@ioc/shared';
import type { IngestContext, RejectReason } from '../context.js';
import type { WriteResult } from '../../store/types.js';

export function decodeRejectReason(reason: string): RejectReason {
  if (reason.startsWith('malformed JSON')) return 'malformed_json';
  if (reason.startsWith('payload too large')) return 'oversize';
  return 'schema';
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

  let res: WriteResult;
  try {
    res = ctx.store.writeBatch(gw, batch.seq[0], batch.readings);
  } catch (err) {
    // Not acknowledged: the gateway keeps the batch and sends it again.
    ctx.logger.error({ err, gw, seq: batch.seq }, 'storing a telemetry batch failed; not acknowledged');
    return ctx.reject('store_error', gw, (err as Error).message);
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
  m.ingestSeconds.observe({ kind: 'telemetry' }, Number(process.hrtime.bigint() - started) / 1e9);
  ctx.logger.debug({ gw, seq: batch.seq, lane: batch.lane, stored: res.stored, duplicates: res.duplicates, upTo: res.upTo }, 'telemetry batch');
  if (res.fresh.length) ctx.live.publish('readings', { gw, readings: res.fresh });
}
