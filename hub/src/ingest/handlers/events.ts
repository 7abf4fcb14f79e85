/**
 * ioc/v1/{gw}/events: `dropped` — seq ranges the gateway deleted unsent (outbox full or too old):
 * accounted so the high-water mark can pass them, counted, and acknowledged; `device` — a device
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
