/**
 * Raises the technical problems a gateway's status reveals (../health/gateway-problems.ts), for
 * now without the alert engine: when one starts, an error line, `ioc_hub_gateway_problems_total`
 * and a gateway event (device_events, dev = the gateway's id, live feed "event"); while it goes on
 * and gets worse (more polls lost), an error line at most every REPEAT_LOG_MS; when it ends, one
 * info line.
 */
import type { DeviceEvent, Status } from '@ioc/shared';
import { gatewayProblems, type GatewayProblem } from '../health/gateway-problems.js';
import type { IngestContext } from './context.js';

/** A problem that goes on is logged again at most this often per gateway and kind. */
export const REPEAT_LOG_MS = 5 * 60_000;

const lastLogged = new WeakMap<IngestContext, Map<string, number>>();

export function reportGatewayProblems(ctx: IngestContext, gw: string, prev: Status | null, next: Status | null): void {
  const before = new Map(gatewayProblems(prev).map((p) => [p.problem, p]));
  const now = new Map(gatewayProblems(next).map((p) => [p.problem, p]));
  let logged = lastLogged.get(ctx);
  if (!logged) lastLogged.set(ctx, (logged = new Map()));
  const t = ctx.now();
  for (const [kind, p] of now) {
    const key = `${gw}:${kind}`;
    const was = before.get(kind);
    if (!was) {
      ctx.logger.error({ gw, problem: kind, detail: p.detail }, `gateway problem: ${p.message}`);
      logged.set(key, t);
      ctx.metrics.gatewayProblems.inc({ gw, problem: kind });
      recordEvent(ctx, gw, p, t);
    } else if (worse(was, p) && t - (logged.get(key) ?? 0) >= REPEAT_LOG_MS) {
      ctx.logger.error({ gw, problem: kind, detail: p.detail }, `gateway problem goes on: ${p.message}`);
      logged.set(key, t);
    }
  }
  for (const [kind, p] of before) {
    if (now.has(kind)) continue;
    logged.delete(`${gw}:${kind}`);
    ctx.logger.info({ gw, problem: kind, lastAt: p.lastAt }, 'gateway problem over');
  }
}

function worse(was: GatewayProblem, is: GatewayProblem): boolean {
  if (is.problem === 'outbox_write_failed') return Number(is.detail.writeFailures) > Number(was.detail.writeFailures);
  return Number(is.detail.rows) > Number(was.detail.rows) || Number(is.detail.bytes) > Number(was.detail.bytes);
}

/** Kept in hub.db beside device events, so the problem's start stays on record after it is over. */
function recordEvent(ctx: IngestContext, gw: string, p: GatewayProblem, now: number): void {
  const ev: DeviceEvent = { v: 1, kind: 'device', ts: p.lastAt ?? now, dev: gw, event: p.problem, detail: p.message.slice(0, 1024) };
  try {
    ctx.store.addDeviceEvent(gw, ev, now);
  } catch (err) {
    ctx.logger.error({ err, gw, problem: p.problem }, 'recording the gateway problem as an event failed');
    return;
  }
  ctx.live.publish('event', { gw, event: ev });
}
