/** edge.yaml: one schema validates the file and gives the TypeScript type. */
import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, GATEWAY_ID_PATTERN, MAX_PAYLOAD_BYTES, MIN_PAYLOAD_BYTES } from '@ioc/shared';

/** "33%" (share of the certificate's validity) or a duration "30d", "12h", "90s". */
export const RENEW_BEFORE_PATTERN = '^([0-9]{1,2}(\\.[0-9]{1,3})?%|[0-9]{1,9}[smhd])$';

export const ModbusConnection = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1 }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }),
  },
  { additionalProperties: false },
);
export type ModbusConnection = Static<typeof ModbusConnection>;

export const DeviceConfig = Type.Object(
  {
    id: Type.String({ pattern: DEVICE_ID_PATTERN }),
    /** Profile model name: firmware-configs/profiles/{profile}.yaml */
    profile: Type.String({ minLength: 1 }),
    driver: Type.Literal('modbus'),
    connection: ModbusConnection,
    /** Overrides the profile's poll interval. */
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 10 })),
    /** Metrics that feed alert rules (never dropped by the outbox); defaults to the catalog's. */
    alertMetrics: Type.Optional(Type.Array(Type.String())),
    enabled: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type DeviceConfig = Static<typeof DeviceConfig>;

export const UplinkConfig = Type.Object(
  {
    /** mqtts://host:port of the hub's broker (mqtt:// only with `insecure: true`). */
    url: Type.String({ pattern: '^mqtts?://' }),
    /**
     * Allows an mqtt:// url (no TLS). Lab set-ups only: anyone on the path reads the readings, and
     * a broker posing as the hub can acknowledge rows it never stored, which the gateway then
     * deletes. Without it an mqtt:// url is refused at start (./load.ts).
     */
    insecure: Type.Optional(Type.Boolean()),
    ca: Type.String(),
    cert: Type.String(),
    key: Type.String(),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4 }),
    /** Readings per telemetry batch (measured: see README, store-and-forward). */
    batchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    /**
     * Largest MQTT payload this gateway publishes (a batch, a status, a drop notice); default the
     * wire maximum. The gateway also keeps under the hub's own limit, which the hub announces on
     * ioc/v1/{gw}/config. batchSize readings must be able to fit (checked at start).
     */
    maxPayloadBytes: Type.Optional(Type.Integer({ minimum: MIN_PAYLOAD_BYTES, maximum: MAX_PAYLOAD_BYTES })),
    /** How long a partial batch waits for more readings before it is sent. */
    lingerMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 50 }),
    /** Batches sent but not yet acknowledged by the hub, per lane. */
    maxInflightBatches: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
    /** Resend everything unacknowledged when the hub has not acknowledged for this long. */
    ackTimeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    backoff: Type.Object(
      {
        initialMs: Type.Integer({ minimum: 10, default: 500 }),
        maxMs: Type.Integer({ minimum: 100, default: 30_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    statusIntervalMs: Type.Integer({ minimum: 500, default: 10_000 }),
    /** Verify the hub's certificate name (off only for lab set-ups addressing the hub by IP without SAN). */
    checkServerName: Type.Boolean({ default: true }),
    /**
     * Renew the client certificate over the link when less than this much of its validity is left:
     * a share ("33%") or a time ("30d", "12h"). The gateway makes a new key, sends a CSR on
     * ioc/v1/{gw}/cert/csr, swaps cert and key files atomically and reconnects.
     */
    renewBefore: Type.String({ pattern: RENEW_BEFORE_PATTERN, default: '33%' }),
  },
  { additionalProperties: false },
);
export type UplinkConfig = Static<typeof UplinkConfig>;

export const OutboxConfig = Type.Object(
  {
    /** Hard caps; when reached, the oldest routine rows are dropped, counted and reported. */
    maxRows: Type.Integer({ minimum: 100, default: 10_000_000 }),
    maxBytes: Type.Integer({ minimum: 65_536, default: 2 * 1024 * 1024 * 1024 }),
    /** Routine rows older than this are dropped (reported) — 0 keeps them until the caps. */
    maxAgeHours: Type.Number({ minimum: 0, default: 0 }),
    /**
     * SQLite synchronous mode of the outbox (WAL). FULL: a reading whose append returned survives a
     * power cut. NORMAL: faster on slow flash, but a power cut can lose the last seconds (measured
     * and explained in test/bench/README.md).
     */
    synchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')], { default: 'FULL' }),
  },
  { additionalProperties: false, default: {} },
);
export type OutboxConfig = Static<typeof OutboxConfig>;

export const EdgeConfig = Type.Object(
  {
    gateway: Type.Object(
      {
        id: Type.String({ pattern: GATEWAY_ID_PATTERN }),
        /** Holds outbox.db; relative paths are resolved against the config file's folder. */
        dataDir: Type.String({ default: './data' }),
      },
      { additionalProperties: false },
    ),
    uplink: UplinkConfig,
    outbox: OutboxConfig,
    /** Folder of device profiles; relative to the config file. */
    profilesDir: Type.String({ default: './profiles' }),
    devices: Type.Array(DeviceConfig, { default: [] }),
    log: Type.Object(
      { level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }) },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type EdgeConfig = Static<typeof EdgeConfig>;
