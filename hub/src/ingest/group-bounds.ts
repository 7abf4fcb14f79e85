/**
 * How large a telemetry group commit may grow, and how long a batch may wait for it. Without a
 * bound, the batches of 100 gateways publishing in the same second land in one group, and every ack
 * of that group waits for the whole burst to be parsed and written. ./group-queue.ts decides when
 * a group is written.
 */
export interface GroupBounds {
  /** Batches in one group. */
  maxBatches: number;
  /** Readings in one group (a batch is never split: a group holds at least one batch). */
  maxReadings: number;
  /**
   * Longest a batch waits (from when its handler got it) before its group is written. Routine
   * batches are written once input pauses, so this only bounds their wait under input that does
   * not; an urgent batch never waits.
   */
  maxWaitMs: number;
  /**
   * With the urgent lane: routine batches are written once no telemetry has arrived for this long,
   * so that a burst (gateways whose clocks are in step) is read whole, and an urgent batch late in
   * it found, before routine commits hold the event loop.
   */
  quietMs: number;
}

export const DEFAULT_GROUP_BOUNDS: GroupBounds = { maxBatches: 64, maxReadings: 2000, maxWaitMs: 250, quietMs: 5 };

/** True when a group of `batches` / `readings` whose first batch arrived at `firstStarted` (hrtime ns) must be written now. */
export function groupFull(b: GroupBounds, batches: number, readings: number, firstStarted: bigint, now: bigint): boolean {
  return batches >= b.maxBatches || readings >= b.maxReadings || Number(now - firstStarted) >= b.maxWaitMs * 1e6;
}
