/**
 * ioc/v1/{gw}/telemetry: validate the batch, store it, run the alert rules on the fresh readings,
 * then publish `{upTo}` to ioc/v1/{gw}/ack. Everything the ack stands for (readings, accounting,
 * alert state) is committed before it is sent.
 *
 * Group commit: a valid batch is queued (IngestContext.enqueueTelemetry) and the batches queued
 * together, up to the group's bounds (../group-queue.ts, ../group-bounds.ts), are written by
 * commitTelemetry in ONE transaction (one WAL flush with synchronous = FULL instead of one per batch). The alert rules run inside that same
 * transaction, batch by batch in arrival order, so readings, alert episodes and rule cursors of
 * the whole group are one commit; alert changes are announced, and each batch's ack published,
 * only after it.
 */
import { batchSeqConsistent, decodePayload, validateTelemetryBatch } from '@ioc/shared';
import type { IngestContext, RejectReason } from '../context.js';
import type { PendingTelemetry } from '../pending.js';
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
  // Seqs the gateway's outbox had not assigned when it built the batch (../seq-ceiling.ts).
  if (batch.lastSeq !== undefined && batch.seq[1] > batch.lastSeq) {
    return ctx.reject('seq_ahead', gw, `seq [${batch.seq[0]}, ${batch.seq[1]}] is above the batch's own lastSeq ${batch.lastSeq}`);
  }
  ctx.seqCeiling.raise(gw, Math.max(batch.seq[1], batch.lastSeq ?? 0));
  ctx.enqueueTelemetry({ gw, batch, started });
}

/** A failure of the alert rules (not of the readings' write) inside a group's transaction. */
class AlertEvaluationError extends Error {
  constructor(cause: unknown) {
    super(`alert evaluation failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'AlertEvaluationError';
  }
}

/**
 * ONE transaction: the batches, their gateways' last-seen times and (with `rules`) the alert rules
 * over each batch's fresh readings, in order. Alert changes are applied to the engine and
 * announced after the commit; if anything throws, nothing was written and the engine's staged
 * state is dropped, so it still matches the database.
 */
function writeGroup(ctx: IngestContext, group: readonly PendingTelemetry[], rules: boolean): WriteResult[] {
  const staging = rules ? ctx.alerts.stage() : null;
  const now = ctx.now();
  let results: WriteResult[];
  try {
    results = ctx.store.writeBatches(
      group.map((p) => ({ gw: p.gw, firstSeq: p.batch.seq[0], readings: p.batch.readings })),
      (written) => {
        for (let i = 0; i < written.length; i++) {
          ctx.store.touchGateway(group[i]!.gw, now);
          const fresh = written[i]!.fresh;
          if (!staging || !fresh.length) continue;
          try {
            staging.evaluate(fresh);
          } catch (err) {
            throw new AlertEvaluationError(err);
          }
        }
      },
    );
  } catch (err) {
    staging?.rollback();
    throw err;
  }
  staging?.commit();
  return results;
}

/** One batch in a transaction of its own; if the rules fail on it, it is stored without them. */
function writeAlone(ctx: IngestContext, p: PendingTelemetry, failure?: unknown): WriteResult | Error {
  let err = failure;
  if (err === undefined) {
    try {
      return writeGroup(ctx, [p], true)[0]!;
    } catch (e) {
      err = e;
    }
  }
  if (!(err instanceof AlertEvaluationError)) return err as Error;
  // A rule failing must not hold the readings back: stored (and acknowledged) without the rules;
  // the engine catches up from the store at its next start.
  ctx.logger.error({ err: err.cause, gw: p.gw, seq: p.batch.seq }, 'alert evaluation failed; readings stored without it');
  ctx.metrics.rejected.inc({ reason: 'internal_error' });
  try {
    return writeGroup(ctx, [p], false)[0]!;
  } catch (e) {
    return e as Error;
  }
}

/**
 * Writes the queued batches and their alert evaluation in one transaction, then, per batch in
 * order: metrics, ack, live feed. If the group's transaction fails (nothing of it was written),
 * each batch is retried alone, so one bad batch is refused as before without holding back the
 * others.
 */
export function commitTelemetry(ctx: IngestContext, pending: readonly PendingTelemetry[]): void {
  if (!pending.length) return;
  let results: Array<WriteResult | Error>;
  try {
    results = writeGroup(ctx, pending, true);
  } catch (err) {
    results = pending.length === 1 ? [writeAlone(ctx, pending[0]!, err)] : pending.map((p) => writeAlone(ctx, p));
  }
  // One ack per gateway per group, with its highest upTo: upTo is cumulative, so the last one
  // says all the others did (a drain of short batches would otherwise cost an ack, and a gateway
  // fsync, per batch).
  const acks = new Map<string, number>();
  for (let i = 0; i < pending.length; i++) {
    const upTo = finish(ctx, pending[i]!, results[i]!);
    if (upTo !== null) acks.set(pending[i]!.gw, Math.max(upTo, acks.get(pending[i]!.gw) ?? 0));
  }
  for (const [gw, upTo] of acks) ctx.publishAck(gw, upTo);
}

/** Metrics, logs and live feed of one written batch; returns the upTo to acknowledge (null: none). */
function finish(ctx: IngestContext, p: PendingTelemetry, res: WriteResult | Error): number | null {
  const { gw, batch } = p;
  if (res instanceof Error) {
    // Not acknowledged: the gateway keeps the batch and sends it again. A disk that refuses every
    // commit fails every batch: logged rate-limited, and the storage health reports it.
    ctx.storage?.writeFailed(res, { gw });
    ctx.logLimited(`store_error:${gw}`, 'error', { err: res, gw, seq: batch.seq }, 'storing a telemetry batch failed; not acknowledged');
    ctx.reject('store_error', gw, res.message);
    return null;
  }
  ctx.storage?.writeSucceeded();
  const m = ctx.metrics;
  if (res.stored) m.readingsStored.inc({ gw }, res.stored);
  if (res.duplicates) m.duplicates.inc({ gw }, res.duplicates);
  for (const cause in res.quarantinedBy) m.quarantined.inc({ gw, cause }, res.quarantinedBy[cause as keyof typeof res.quarantinedBy]);
  if (res.quarantined) {
    ctx.logger.warn({ gw, seq: batch.seq, quarantined: res.quarantinedBy }, 'readings quarantined (accounted and kept, not stored as data)');
  }
  let outOfRange = false;
  for (const metric in res.outOfRangeBy) {
    outOfRange = true;
    m.outOfRange.inc({ gw, metric }, res.outOfRangeBy[metric]);
  }
  if (outOfRange) {
    ctx.logLimited(`out_of_range:${gw}`, 'warn', { gw, seq: batch.seq, outOfRange: res.outOfRangeBy }, 'readings sent as good or uncertain but outside the plausible range: stored as q bad (out_of_range), not evaluated by alert rules');
  }
  if (res.clockSkew) {
    m.clockSkew.inc({ gw }, res.clockSkew);
    const skewed = res.fresh.find((r) => r.reason === 'clock_skew');
    ctx.logLimited(`clock_skew:${gw}`, 'warn', { gw, seq: batch.seq, readings: res.clockSkew, ts: skewed?.ts, hubNow: ctx.now() }, "readings dated outside the hub's clock window (gateway clock?): stored as q bad (clock_skew), never latest, not evaluated by alert rules");
  }
  m.ingestSeconds.observe({ kind: 'telemetry' }, Number(process.hrtime.bigint() - p.started) / 1e9);
  ctx.logger.debug({ gw, seq: batch.seq, lane: batch.lane, stored: res.stored, duplicates: res.duplicates, upTo: res.upTo }, 'telemetry batch');
  if (res.fresh.length) ctx.live.publish('readings', { gw, readings: res.fresh });
  return res.upTo;
}
