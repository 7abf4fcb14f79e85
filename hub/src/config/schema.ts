/**
 * hub.yaml: one TypeBox schema validates the file (unknown keys refused everywhere, defaults filled)
 * and gives the TypeScript type. Checks a schema cannot express (alarm levels increasing, ids
 * unique, devices on registered gateways) live in ./load.ts and fail with the key named.
 */
import { Type, type Static } from '@sinclair/typebox';
import { GATEWAY_ID_PATTERN, MAX_PAYLOAD_BYTES } from '@ioc/shared';

export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
/** Vietnamese administrative unit codes (GSO): province 2 digits, commune/ward 5 digits. */
export const PROVINCE_CODE_PATTERN = '^[0-9]{2}$';
export const COMMUNE_CODE_PATTERN = '^[0-9]{5}$';

export const TlsFiles = Type.Object(
  {
    /** CA that signed the gateways' client certificates (PEM file). */
    ca: Type.String({ minLength: 1 }),
    /** The broker's server certificate and key (PEM files). */
    cert: Type.String({ minLength: 1 }),
    key: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type TlsFiles = Static<typeof TlsFiles>;

export const AlarmLevels = Type.Object(
  {
    /** Báo động I / II / III in metres (station datum); must be increasing. */
    bd1: Type.Number(),
    bd2: Type.Number(),
    bd3: Type.Number(),
  },
  { additionalProperties: false },
);
export type AlarmLevels = Static<typeof AlarmLevels>;

export const GatewayEntry = Type.Object(
  {
    id: Type.String({ pattern: GATEWAY_ID_PATTERN }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    communeCode: Type.Optional(Type.String({ pattern: COMMUNE_CODE_PATTERN })),
  },
  { additionalProperties: false },
);
export type GatewayEntry = Static<typeof GatewayEntry>;

export const DeviceEntry = Type.Object(
  {
    id: Type.String({ pattern: DEVICE_ID_PATTERN }),
    /** The gateway this device reports through; readings of it from another gateway are quarantined. */
    gateway: Type.String({ pattern: GATEWAY_ID_PATTERN }),
    /** Device profile model (firmware-configs/profiles/{profile}.yaml). */
    profile: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    communeCode: Type.String({ pattern: COMMUNE_CODE_PATTERN }),
    provinceCode: Type.String({ pattern: PROVINCE_CODE_PATTERN }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    /** Hydrological station name (e.g. "Kim Long") and river (e.g. "Hương"), for alert messages. */
    station: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    river: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    alarmLevels: Type.Optional(AlarmLevels),
  },
  { additionalProperties: false },
);
export type DeviceEntry = Static<typeof DeviceEntry>;

const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
);

export const HubConfigSchema = Type.Object(
  {
    hub: Type.Object(
      {
        /** Holds hub.db and the demo PKI; relative paths are resolved against the config file's folder. */
        dataDir: Type.String({ minLength: 1, default: './data' }),
        /**
         * The hub's 256-bit secret key (base64): seals stored secrets (TOTP) and keys the audit
         * chain. Created 0600 at first start; $IOC_HUB_SECRET_KEY overrides it. Default: {dataDir}/secret.key.
         * Keep a copy apart from backups of hub.db: without it sealed secrets cannot be opened.
         */
        secretKeyFile: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * Below this much free space (MB) on the data directory's file system the hub reports
         * itself degraded (/api/v1/health, ioc_hub_disk_low) and logs an error: the warning before
         * a full disk stops every commit, every ack and every alert. 0 turns the check off.
         */
        minFreeDiskMB: Type.Integer({ minimum: 0, default: 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '0.0.0.0' }),
        /** 0 picks a free port (reported in the "hub ready" line). */
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
        /** When absent, a demo PKI is created in {dataDir}/pki on first start. */
        tls: Type.Optional(TlsFiles),
        /** Names in the demo server certificate (ignored when tls is given). */
        serverNames: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['localhost', '127.0.0.1'] }),
        /**
         * Largest PUBLISH payload accepted from a gateway; a larger one closes the connection
         * (MQTT 3.1.1 has no negative PUBACK). Never below what a gateway may build.
         */
        maxPayloadBytes: Type.Integer({ minimum: 1024, maximum: MAX_PAYLOAD_BYTES, default: MAX_PAYLOAD_BYTES }),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        /** 127.0.0.1 by default. Another address needs TLS and logins (auth.open refused). */
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        /**
         * Host header values accepted besides loopback names and the bound address (e.g. the name
         * the province's users type, "ioc.hue.gov.vn"); other Host headers get 421 (DNS rebinding).
         */
        allowedHosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    registry: Type.Object(
      {
        gateways: Type.Array(GatewayEntry, { default: [] }),
        devices: Type.Array(DeviceEntry, { default: [] }),
      },
      { additionalProperties: false },
    ),
    alerts: Type.Object(
      {
        /** A level is left only when the water falls this far (metres) below its threshold. */
        hysteresisM: Type.Number({ minimum: 0, maximum: 10, default: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        /**
         * true: no logins at all, every caller is a full-scope operator. Only for development and
         * tests on one machine: refused unless http.host is a loopback address.
         */
        open: Type.Boolean({ default: false }),
        /** A session lasts at most this long (a shift and some), and ends after idleMinutes without a request. */
        sessionHours: Type.Number({ minimum: 0.1, maximum: 168, default: 12 }),
        idleMinutes: Type.Number({ minimum: 1, maximum: 1440, default: 60 }),
        /** lockoutAttempts failed logins within lockoutWindowMinutes lock the account for lockMinutes. */
        lockoutAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
        lockoutWindowMinutes: Type.Number({ minimum: 1, maximum: 1440, default: 15 }),
        lockMinutes: Type.Number({ minimum: 1, maximum: 10080, default: 15 }),
        passwordMinLength: Type.Integer({ minimum: 8, maximum: 128, default: 10 }),
        /** Login attempts per client address per minute (on top of the per-account lockout). */
        loginRatePerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        /** When absent: $LOG_LEVEL, else info. */
        level: Type.Optional(LogLevel),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

/** hub.yaml as written (defaulted keys optional): what `startHub` accepts. */
export type HubConfig = {
  hub?: { dataDir?: string; secretKeyFile?: string; minFreeDiskMB?: number };
  mqtt?: {
    host?: string;
    port?: number;
    tls?: TlsFiles;
    serverNames?: string[];
    maxPayloadBytes?: number;
  };
  http?: { host?: string; port?: number; allowedHosts?: string[] };
  auth?: Partial<Static<typeof HubConfigSchema>['auth']>;
  registry: { gateways?: GatewayEntry[]; devices?: DeviceEntry[] };
  alerts?: { hysteresisM?: number };
  log?: { level?: Static<typeof LogLevel> };
};

/** After validation: defaults filled, paths absolute. */
export type ResolvedHubConfig = Static<typeof HubConfigSchema>;

/** Compile-time guard: every resolved config is also a valid input (the two types cannot drift). */
export type ResolvedIsInput = ResolvedHubConfig extends HubConfig ? true : never;
const resolvedIsInput: ResolvedIsInput = true;
void resolvedIsInput;
