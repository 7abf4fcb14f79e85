/**
 * ioc/v1/{gw}/status (retained; LWT `{online:false}`): keep the last health report and the online
 * flag. When the gateway reports online, tell it the hub's high-water mark, so after a hub
 * restart (or a lost ack) it learns what is stored and resends only the rest.
 */
import { decodePayload, validateStatus } from '@ioc/shared';
import type { IngestContext } from '../context.js';
import { reportGatewayProblems } from '../gateway-problems.js';
import { accountHubRollback } from '../rollback.js';
import { decodeRejectReason } from './telemetry.js';

export function handleStatus(ctx: IngestContext, gw: string, payload: Buffer): void {
  const started = process.hrtime.bigint();
  const decoded = decodePayload(payload, validateStatus);
  if (!decoded.ok) return ctx.reject(decodeRejectReason(decoded.reason), gw, decoded.reason);
  const status = decoded.value;
  if (!ctx.registry.gateways.has(gw)) return ctx.reject('unknown_gateway', gw, `gateway "${gw}" is not in the registry`);
  const prev = ctx.store.gatewayState(gw);
  const state = ctx.store.setGatewayStatus(gw, status, ctx.now());
  if (status.outbox) ctx.seqCeiling.raise(gw, status.outbox.lastSeq);
  if (prev?.online !== state.online) {
    ctx.logger.info({ gw, online: state.online, outbox: status.outbox }, state.online ? 'gateway online' : 'gateway offline');
  }
  // Outbox writes failing, an outbox over its cap: data lost or in danger at the gateway.
  reportGatewayProblems(ctx, gw, prev?.status ?? null, state.status);
  // Technical rules (gateway offline, gateway problems) judge the new status.
  ctx.alerts.observeGateway({ gw, online: state.online, status: state.status, at: ctx.now() });
  // Idempotent: the ack is cumulative, so repeating it on every online status is harmless. A
  // gateway acknowledged beyond what hub.db holds (restored from a backup) gets the gap accounted first.
  if (status.online) {
    const acked = status.outbox?.ackedUpTo;
    ctx.publishAck(gw, acked !== undefined ? accountHubRollback(ctx, gw, acked) : ctx.store.upTo(gw));
  }
  ctx.metrics.ingestSeconds.observe({ kind: 'status' }, Number(process.hrtime.bigint() - started) / 1e9);
  ctx.live.publish('status', state);
}
