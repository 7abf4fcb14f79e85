/**
 * Wire payloads the uplink publishes. Telemetry is built by string concatenation from bodies the
 * outbox serialized once on insert: the send path never re-serializes a reading.
 */
import { WIRE_VERSION, isGatewayId, type Lane, type Status } from '@ioc/shared';
import type { PendingDrop } from '../outbox/index.js';

/** `{"v":1,"gw":"…","seq":[` — the constant head of every batch from one gateway. */
export function batchPrefix(gw: string): string {
  if (!isGatewayId(gw)) throw new Error(`invalid gateway id "${gw}"`);
  // The id pattern ([a-z0-9-]) needs no JSON escaping.
  return `{"v":${WIRE_VERSION},"gw":"${gw}","seq":[`;
}

/** A `TelemetryBatch` whose readings[i] has seq first + i (bodies are already JSON). */
export function telemetryPayload(prefix: string, first: number, last: number, lane: Lane | undefined, bodies: readonly string[]): string {
  const laneField = lane ? `,"lane":"${lane}"` : '';
  return `${prefix}${first},${last}]${laneField},"readings":[${bodies.join(',')}]}`;
}

export function droppedPayload(d: PendingDrop): string {
  return JSON.stringify({ v: WIRE_VERSION, kind: 'dropped', ts: d.ts, ranges: d.ranges, count: d.count, reason: d.reason });
}

/** Last will: the minimal Status, retained, so a crashed gateway shows offline. */
export const LWT_PAYLOAD = JSON.stringify({ v: WIRE_VERSION, online: false, link: 'lost' } satisfies Status);

export function statusPayload(s: Status): string {
  return JSON.stringify(s);
}
