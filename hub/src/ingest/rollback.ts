/**
 * A gateway whose outbox was acknowledged further than the hub's accounting now reaches: the hub
 * once acknowledged those seqs (only its acks move a gateway's ackedUpTo), the gateway deleted
 * them, and hub.db no longer has them — it was restored from a backup or replaced. They can never
 * arrive again. Left alone, the hub's upTo would stop below them for good, no later ack would
 * reach the gateway and its outbox would fill. So the missing seqs up to the gateway's ackedUpTo
 * are accounted as lost (reason "hub_rollback", in `dropped` like cap drops), loudly.
 */
import type { IngestContext } from './context.js';

export const HUB_ROLLBACK_REASON = 'hub_rollback';

/** Returns the hub's upTo afterwards. */
export function accountHubRollback(ctx: IngestContext, gw: string, gatewayAckedUpTo: number): number {
  const upTo = ctx.store.upTo(gw);
  if (!(gatewayAckedUpTo > upTo)) return upTo;
  const res = ctx.store.markDropped(gw, [[1, gatewayAckedUpTo]], HUB_ROLLBACK_REASON, ctx.now());
  ctx.metrics.droppedReported.inc({ gw }, res.dropped);
  ctx.logger.error(
    { gw, gatewayAckedUpTo, hubUpToBefore: upTo, lost: res.dropped, upTo: res.upTo },
    'the gateway was acknowledged up to seqs this hub no longer has (hub.db restored from a backup or replaced): those readings are lost and accounted as dropped (hub_rollback)',
  );
  return res.upTo;
}
