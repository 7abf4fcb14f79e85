/**
 * ioc/v1/{gw}/events: `dropped` — seq ranges the gateway deleted unsent (outbox full or too old):
 * accounted so the high-water mark can pass them, counted, and acknowledged (a range above what
 * the gateway has shown is refused: ../seq-ceiling.ts); `device` — a device
 * event (camera tamper, edge-raised alarm, …): stored and logged.
 */
import { decodePayload, validateGatewayEvent } from '@ioc/shared';
import type { IngestContext } from '../context.js';
import { decodeRejectReason } from './telemetry.js';

export function handleEvents(ctx: IngestContext, gw: string, payload: Buffer): void {
  const started = process.hrtime.bigint();
  const decoded = decodePayload(payload, validateGatewayEvent);
  if (!decoded.ok) return ctx.reject(decodeRejectReason(decoded.reason), gw, decoded.reason);
  const ev = decoded.value;
  const now = ctx.now();
  if (!ctx.registry.gateways.has(gw)) return ctx.reject('unknown_gateway', gw, `gateway "${gw}" is not in the registry`);
  ctx.store.touchGateway(gw, now);

  if (ev.kind === 'dropped') {
    const bad = ev.ranges.find(([a, b]) => b < a);
    if (bad) return ctx.reject('invalid_range', gw, `dropped range [${bad[0]}, ${bad[1]}] ends before it starts`);
    // A drop is of rows the gateway had: a range above the highest seq it has shown would account
    // seqs of readings not taken yet, which would then be acknowledged as duplicates and lost.
    const ahead = ev.ranges.find(([, b]) => !ctx.seqCeiling.covers(gw, b));
    if (ahead) {
      return ctx.reject('seq_ahead', gw, `dropped range [${ahead[0]}, ${ahead[1]}] is above the highest seq the gateway has shown (${ctx.seqCeiling.get(gw)})`);
    }
    let res;
    try {
      res = ctx.store.markDropped(gw, ev.ranges, ev.reason, now);
    } catch (err) {
      if (!ctx.storage?.writeFailed(err, { gw })) ctx.logger.error({ err, gw }, 'recording dropped ranges failed; not acknowledged');
      return ctx.reject('store_error', gw, (err as Error).message);
    }
    ctx.metrics.droppedReported.inc({ gw }, res.dropped);
    ctx.logger.warn(
      { gw, reason: ev.reason, reported: ev.count, newlyAccounted: res.dropped, ranges: ev.ranges.slice(0, 20), upTo: res.upTo },
      'gateway dropped readings unsent',
    );
    ctx.publishAck(gw, res.upTo);
  } else {
    ctx.store.addDeviceEvent(gw, ev, now);
    const known = ctx.registry.devices.get(ev.dev)?.gateway === gw;
    ctx.logger.info({ gw, dev: ev.dev, event: ev.event, detail: ev.detail, ts: ev.ts, ...(known ? {} : { unknownDevice: true }) }, 'device event');
    ctx.live.publish('event', { gw, event: ev });
  }
  ctx.metrics.ingestSeconds.observe({ kind: 'events' }, Number(process.hrtime.bigint() - started) / 1e9);
}
