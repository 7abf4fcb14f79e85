/**
 * Wire payloads the uplink publishes. Telemetry is built by string concatenation from bodies the
 * outbox serialized once on insert: the send path never re-serializes a reading.
 */
import { WIRE_VERSION, isGatewayId, type DroppedEvent, type Lane, type Reading, type Status } from '@ioc/shared';

/** A drop notice as the outbox keeps it: the event without its envelope. */
type DropNotice = Omit<DroppedEvent, 'v' | 'kind'>;

/** `{"v":1,"gw":"…","seq":[` — the constant head of every batch from one gateway. */
export function batchPrefix(gw: string): string {
  if (!isGatewayId(gw)) throw new Error(`invalid gateway id "${gw}"`);
  // The id pattern ([a-z0-9-]) needs no JSON escaping.
  return `{"v":${WIRE_VERSION},"gw":"${gw}","seq":[`;
}

/**
 * A `TelemetryBatch` whose readings[i] has seq first + i (bodies are already JSON). `lastSeq` is
 * the outbox's last assigned seq when the batch was built: the hub refuses a batch that claims
 * seqs above it (hub/src/ingest/seq-ceiling.ts).
 */
export function telemetryPayload(prefix: string, first: number, last: number, lane: Lane | undefined, bodies: readonly string[], lastSeq?: number): string {
  const laneField = lane ? `,"lane":"${lane}"` : '';
  const lastField = lastSeq === undefined ? '' : `,"lastSeq":${lastSeq}`;
  return `${prefix}${first},${last}]${lastField}${laneField},"readings":[${bodies.join(',')}]}`;
}

/**
 * The most bytes a batch takes besides its reading bodies and their separating commas: the
 * longest gateway id, the longest seqs, a lane. Derived from the builder, so the two cannot drift.
 */
export const BATCH_ENVELOPE_BYTES = telemetryPayload(
  batchPrefix('a'.repeat(64)), Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'backlog', [], Number.MAX_SAFE_INTEGER,
).length;

/** The smallest reading body the schema allows, plus its separator: no batch reading is smaller. */
export const MIN_READING_BYTES = JSON.stringify({ dev: 'x', metric: 'x', value: 0, unit: '', ts: 0, q: 'bad' } satisfies Reading).length + 1;

export function droppedPayload(d: DropNotice): string {
  return JSON.stringify({ v: WIRE_VERSION, kind: 'dropped', ts: d.ts, ranges: d.ranges, count: d.count, reason: d.reason });
}

/**
 * A drop notice split so that each payload is at most maxBytes (its ranges halved until each part
 * fits; counts follow the ranges). A part of a single range always fits: it is about 100 bytes.
 */
export function fitDropped(d: DropNotice, maxBytes: number): string[] {
  const payload = droppedPayload(d);
  if (d.ranges.length <= 1 || Buffer.byteLength(payload) <= maxBytes) return [payload];
  const half = Math.ceil(d.ranges.length / 2);
  const part = (ranges: DropNotice['ranges']): DropNotice => ({ ...d, ranges, count: ranges.reduce((n, [a, b]) => n + b - a + 1, 0) });
  return [...fitDropped(part(d.ranges.slice(0, half)), maxBytes), ...fitDropped(part(d.ranges.slice(half)), maxBytes)];
}

/** Last will: the minimal Status, retained, so a crashed gateway shows offline. */
export const LWT_PAYLOAD = JSON.stringify({ v: WIRE_VERSION, online: false, link: 'lost' } satisfies Status);

/**
 * A status within maxBytes: without the per-driver list when that makes it too large (a gateway
 * with hundreds of devices under a small hub limit); the outbox health, which the hub needs, stays.
 */
export function statusPayload(s: Status, maxBytes = Number.POSITIVE_INFINITY): string {
  const full = JSON.stringify(s);
  if (s.drivers === undefined || full.length <= maxBytes / 3 || Buffer.byteLength(full) <= maxBytes) return full;
  const { drivers: _omitted, ...rest } = s;
  return JSON.stringify(rest);
}
