/**
 * How large a telemetry group commit may grow before it is written. Without a bound, the batches
 * of 100 gateways publishing in the same second land in one group, and every ack and alert of that
 * group waits for the whole burst to be parsed and written. Bounded in batches, in readings and in
 * time, an alerting reading waits for at most one small group ahead of its own.
 */
export interface GroupBounds {
  /** Batches in one group. */
  maxBatches: number;
  /** Readings in one group (a batch is never split: a group holds at least one batch). */
  maxReadings: number;
  /** Longest a batch waits for others (from when its handler got it) before the group is written. */
  maxWaitMs: number;
}

export const DEFAULT_GROUP_BOUNDS: GroupBounds = { maxBatches: 64, maxReadings: 2000, maxWaitMs: 5 };

/** True when a group of `batches` / `readings` whose first batch arrived at `firstStarted` (hrtime ns) must be written now. */
export function groupFull(b: GroupBounds, batches: number, readings: number, firstStarted: bigint, now: bigint): boolean {
  return batches >= b.maxBatches || readings >= b.maxReadings || Number(now - firstStarted) >= b.maxWaitMs * 1e6;
}
