/** Seq-range bookkeeping for rows the outbox deleted unsent (reported to the hub as DroppedEvent). */
import type { DroppedEvent } from '@ioc/shared';

export type Range = [number, number];

/** A `DroppedEvent` without its envelope (`v`, `kind`): the uplink adds those when it sends. */
export type PendingDrop = Omit<DroppedEvent, 'v' | 'kind'>;

/** The wire schema allows at most this many ranges per event. */
export const MAX_RANGES_PER_EVENT = 10_000;

/** Ascending seqs → inclusive ranges of consecutive numbers. */
export function toRanges(seqs: readonly number[]): Range[] {
  const out: Range[] = [];
  let cur: Range | undefined;
  for (const s of seqs) {
    if (cur && s === cur[1] + 1) cur[1] = s;
    else out.push((cur = [s, s]));
  }
  return out;
}

/** Rows of pending_drops (ordered by first) → events, one or more per reason. */
export function groupDrops(rows: ReadonlyArray<{ first: number; last: number; reason: string; ts: number }>): PendingDrop[] {
  const byReason = new Map<string, PendingDrop[]>();
  for (const r of rows) {
    let list = byReason.get(r.reason);
    if (!list) byReason.set(r.reason, (list = []));
    let ev = list[list.length - 1];
    if (!ev || ev.ranges.length >= MAX_RANGES_PER_EVENT) list.push((ev = { ranges: [], count: 0, reason: r.reason, ts: r.ts }));
    ev.ranges.push([r.first, r.last]);
    ev.count += r.last - r.first + 1;
    if (r.ts > ev.ts) ev.ts = r.ts;
  }
  return [...byReason.values()].flat();
}
