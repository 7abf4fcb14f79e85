/**
 * v1 wire payloads (DESIGN.md, wire contract). Each TypeBox schema is both the runtime validator
 * (compiled once by Ajv) and the TypeScript type, so the two cannot disagree.
 */
import { Type, type Static } from '@sinclair/typebox';
import { compile } from './validate.js';
import { DEVICE_ID_PATTERN, METRIC_NAME_PATTERN } from './ids.js';
import { GATEWAY_ID_PATTERN } from './topics.js';

export const WIRE_VERSION = 1;
/** Largest batch a hub accepts; the edge never builds a larger one. */
export const MAX_BATCH_READINGS = 5000;
/** Largest MQTT payload either side accepts (bytes). */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
/**
 * Smallest payload limit either side may be configured with (hub `mqtt.maxPayloadBytes`, gateway
 * `uplink.maxPayloadBytes`): one reading of the largest size the Reading schema allows (~1 KB with
 * every string at its maximum and escaped) in a batch envelope, and a status with a few drivers,
 * always fit, so a gateway can never be wedged by a limit it cannot meet.
 */
export const MIN_PAYLOAD_BYTES = 4096;
/**
 * Bytes an MQTT packet may carry beyond its payload (topic, packet id, CONNECT fields) before the
 * hub refuses it from its fixed header, without buffering it (hub/src/broker/frame-guard.ts). A
 * gateway topic is under 100 bytes; the rest is headroom.
 */
export const MQTT_PACKET_SLACK_BYTES = 64 * 1024;

export const Quality = Type.Union([Type.Literal('good'), Type.Literal('uncertain'), Type.Literal('bad')]);
export type Quality = Static<typeof Quality>;

const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN });
const MetricName = Type.String({ pattern: METRIC_NAME_PATTERN });
const Seq = Type.Integer({ minimum: 1 });
const EpochMs = Type.Integer({ minimum: 0 });

export const Reading = Type.Object(
  {
    dev: DeviceId,
    metric: MetricName,
    /** null only with q "bad" (e.g. comm_error): the reading records that a value was missing. */
    value: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
    unit: Type.String({ maxLength: 16 }),
    ts: EpochMs,
    q: Quality,
    reason: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type Reading = Static<typeof Reading>;

export const Lane = Type.Union([Type.Literal('live'), Type.Literal('backlog')]);
export type Lane = Static<typeof Lane>;

export const TelemetryBatch = Type.Object(
  {
    v: Type.Literal(WIRE_VERSION),
    gw: Type.String({ pattern: GATEWAY_ID_PATTERN }),
    /** Inclusive seq range; readings[i] has seq first + i, so a batch never spans a gap. */
    seq: Type.Tuple([Seq, Seq]),
    /**
     * The gateway outbox's last assigned seq when the batch was built (optional: gateways before
     * it omit it). The hub refuses a batch whose seq[1] is above it, and remembers the highest, so
     * it can refuse seq ranges (here or in a `dropped` event) that no real reading has yet.
     */
    lastSeq: Type.Optional(Seq),
    /** Which send lane produced the batch (informational; the hub accepts any order). */
    lane: Type.Optional(Lane),
    readings: Type.Array(Reading, { minItems: 1, maxItems: MAX_BATCH_READINGS }),
  },
  { additionalProperties: false },
);
export type TelemetryBatch = Static<typeof TelemetryBatch>;

export const Ack = Type.Object(
  {
    /** Every seq <= upTo is durably stored at the hub (or was reported dropped by the gateway). */
    upTo: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type Ack = Static<typeof Ack>;

export const SeqRange = Type.Tuple([Seq, Seq]);
export type SeqRange = Static<typeof SeqRange>;

export const OutboxHealth = Type.Object(
  {
    depth: Type.Integer({ minimum: 0 }),
    oldestUnsentAgeS: Type.Number({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    dropped: Type.Integer({ minimum: 0 }),
    lastSeq: Type.Integer({ minimum: 0 }),
    ackedUpTo: Type.Integer({ minimum: 0 }),
    lastAckTs: Type.Union([EpochMs, Type.Null()]),
    /*
     * Loss and overrun the gateway cannot fix alone; each field is absent while there is nothing
     * to report (so a status a hub without these fields validates still passes as long as all is well).
     */
    /** Polls whose outbox write failed since the gateway started (disk full, I/O error): their readings are lost, never given a seq. */
    writeFailures: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Readings in those polls. */
    writeFailedReadings: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The latest of those failures. */
    lastWriteError: Type.Optional(
      Type.Object(
        {
          ts: EpochMs,
          message: Type.String({ maxLength: 256 }),
          /** SQLite's or the OS's error code, e.g. SQLITE_FULL, SQLITE_IOERR_WRITE. */
          code: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * The outbox holds more than a cap allows: every routine row is gone and the alerting rows,
     * never dropped, still exceed it, so the outbox grows until the link returns or the disk fills.
     */
    overCap: Type.Optional(
      Type.Object(
        {
          rows: Type.Integer({ minimum: 0 }),
          bytes: Type.Integer({ minimum: 0 }),
          maxRows: Type.Integer({ minimum: 0 }),
          maxBytes: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type OutboxHealth = Static<typeof OutboxHealth>;

export const DriverHealth = Type.Object(
  {
    dev: DeviceId,
    driver: Type.String(),
    state: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('stopped')]),
    lastError: Type.Optional(Type.String({ maxLength: 512 })),
    lastReadTs: Type.Optional(Type.Union([EpochMs, Type.Null()])),
  },
  { additionalProperties: false },
);
export type DriverHealth = Static<typeof DriverHealth>;

/** Retained health message; the LWT is the minimal form `{online:false}`. */
export const Status = Type.Object(
  {
    v: Type.Optional(Type.Literal(WIRE_VERSION)),
    online: Type.Boolean(),
    ts: Type.Optional(EpochMs),
    version: Type.Optional(Type.String({ maxLength: 64 })),
    uptimeS: Type.Optional(Type.Number({ minimum: 0 })),
    link: Type.Optional(Type.String({ maxLength: 32 })),
    outbox: Type.Optional(OutboxHealth),
    drivers: Type.Optional(Type.Array(DriverHealth, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type Status = Static<typeof Status>;

export const DroppedEvent = Type.Object(
  {
    v: Type.Literal(WIRE_VERSION),
    kind: Type.Literal('dropped'),
    ts: EpochMs,
    /** Seq ranges the gateway deleted unsent; the hub counts them as accounted for. */
    ranges: Type.Array(SeqRange, { minItems: 1, maxItems: 10000 }),
    count: Type.Integer({ minimum: 1 }),
    reason: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type DroppedEvent = Static<typeof DroppedEvent>;

export const DeviceEvent = Type.Object(
  {
    v: Type.Literal(WIRE_VERSION),
    kind: Type.Literal('device'),
    ts: EpochMs,
    dev: DeviceId,
    event: Type.String({ maxLength: 64 }),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type DeviceEvent = Static<typeof DeviceEvent>;

export const GatewayEvent = Type.Union([DroppedEvent, DeviceEvent]);
export type GatewayEvent = Static<typeof GatewayEvent>;

/** Largest PEM text accepted in a certificate request or answer (an RSA-4096 CSR is ~1.7 KB). */
export const MAX_PEM_CHARS = 16 * 1024;

/** ioc/v1/{gw}/cert/csr: the gateway asks for a renewed certificate (CN must be its own id). */
export const CertRequest = Type.Object(
  {
    v: Type.Literal(WIRE_VERSION),
    /** Echoed in the answer, so a late answer to an earlier request is recognised. */
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    csr: Type.String({ minLength: 1, maxLength: MAX_PEM_CHARS }),
  },
  { additionalProperties: false },
);
export type CertRequest = Static<typeof CertRequest>;

/** ioc/v1/{gw}/cert: the hub's answer — a certificate signed by its CA, or why not. */
export const CertResponse = Type.Union([
  Type.Object(
    {
      v: Type.Literal(WIRE_VERSION),
      id: Type.String({ maxLength: 64 }),
      ok: Type.Literal(true),
      certificate: Type.String({ minLength: 1, maxLength: MAX_PEM_CHARS }),
      ca: Type.String({ minLength: 1, maxLength: MAX_PEM_CHARS }),
      notAfter: EpochMs,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      v: Type.Literal(WIRE_VERSION),
      id: Type.String({ maxLength: 64 }),
      ok: Type.Literal(false),
      error: Type.String({ maxLength: 64 }),
      message: Type.String({ maxLength: 1024 }),
    },
    { additionalProperties: false },
  ),
]);
export type CertResponse = Static<typeof CertResponse>;

/**
 * Retained on ioc/v1/{gw}/config, hub → gateway. Every field is optional and unknown fields are
 * ignored (not refused), so a later hub can announce more without breaking older gateways.
 */
export const GatewayConfigMessage = Type.Object({
  v: Type.Literal(WIRE_VERSION),
  limits: Type.Optional(
    Type.Object({
      /** Largest PUBLISH payload the hub accepts from a gateway (its mqtt.maxPayloadBytes). */
      maxPayloadBytes: Type.Optional(Type.Integer({ minimum: MIN_PAYLOAD_BYTES })),
    }),
  ),
});
export type GatewayConfigMessage = Static<typeof GatewayConfigMessage>;

export const validateTelemetryBatch = compile(TelemetryBatch);
export const validateCertRequest = compile(CertRequest);
export const validateCertResponse = compile(CertResponse);
export const validateAck = compile(Ack);
export const validateStatus = compile(Status);
export const validateGatewayEvent = compile(GatewayEvent);
export const validateGatewayConfigMessage = compile(GatewayConfigMessage);

/**
 * Parses and validates one MQTT payload. Returns the typed value or a reason string; never throws,
 * so a handler can count and log the rejection and carry on.
 */
export function decodePayload<T>(
  payload: Buffer | string,
  validate: ((v: unknown) => v is T) & { lastError(): string },
): { ok: true; value: T } | { ok: false; reason: string } {
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload too large (${payload.length} bytes)` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${(err as Error).message}` };
  }
  if (!validate(parsed)) return { ok: false, reason: `schema: ${validate.lastError()}` };
  return { ok: true, value: parsed };
}

/** Checks that a batch's seq range matches its reading count (schema cannot express this). */
export function batchSeqConsistent(b: TelemetryBatch): boolean {
  return b.seq[1] >= b.seq[0] && b.seq[1] - b.seq[0] + 1 === b.readings.length;
}
