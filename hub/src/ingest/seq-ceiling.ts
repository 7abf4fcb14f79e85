/**
 * The highest seq a gateway has shown the hub, so that seq ranges above it can be refused.
 *
 * Why: the hub accounts (gw, seq) once. A batch or a `dropped` range covering seqs the gateway has
 * not assigned yet would be accounted now, and the real readings that later get those seqs would
 * be taken for duplicates, acknowledged and deleted by the gateway: lost without a trace.
 *
 * What "shown" means without refusing honest traffic: live batches run ahead of the retained
 * status (sent every ~10 s), so the status alone is too low. The ceiling is the highest of
 *   - the last status's outbox.lastSeq,
 *   - the seq[1] and the `lastSeq` of every telemetry batch accepted (a batch's `lastSeq` is the
 *     gateway outbox's last seq when it was built; a batch above its own lastSeq is refused),
 *   - the accounted ranges (what was stored, quarantined or reported dropped before).
 * After a hub restart it is derived again from the accounted ranges and the stored status: no
 * table of its own. A `dropped` range must end at or below it; a gateway sends its status (with
 * lastSeq) at every connect before any drop notice, and a drop is always of rows it had.
 */
import type { Store } from '../store/types.js';

/** From the store alone: the accounted ranges and the last status. */
export function shownInStore(store: Store, gw: string): number {
  const ranges = store.gatewayStats(gw).ranges;
  const accounted = ranges.length ? ranges[ranges.length - 1]![1] : 0;
  const status = store.gatewayState(gw)?.status?.outbox?.lastSeq ?? 0;
  return Math.max(accounted, status);
}

export class SeqCeiling {
  private readonly shown = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** The gateway showed seqs up to `seq` (a status, an accepted batch). */
  raise(gw: string, seq: number): void {
    if (seq > this.get(gw)) this.shown.set(gw, seq);
  }

  /**
   * True when `seq` is at or below what the gateway has shown. Before saying no, looks at the
   * store again: `ioc-hub import` (another process) may have accounted more meanwhile.
   */
  covers(gw: string, seq: number): boolean {
    if (seq <= this.get(gw)) return true;
    this.raise(gw, shownInStore(this.store, gw));
    return seq <= this.get(gw);
  }

  get(gw: string): number {
    let v = this.shown.get(gw);
    if (v === undefined) this.shown.set(gw, (v = shownInStore(this.store, gw)));
    return v;
  }
}
