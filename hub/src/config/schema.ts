/**
 * hub.yaml: one TypeBox schema validates the file (unknown keys refused everywhere, defaults filled)
 * and gives the TypeScript type. Checks a schema cannot express (alarm levels increasing, ids
 * unique, devices on registered gateways) live in ./load.ts and fail with the key named.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, DURATION_PATTERN, GATEWAY_ID_PATTERN, MAX_PAYLOAD_BYTES, MIN_PAYLOAD_BYTES } from '@ioc/shared';
import { AREA_PATTERN } from './areas.js';
import { NotifyConfigSchema, type NotifyConfig, type NotifyConfigInput } from '../notify/config.js';
import { DEFAULT_GROUP_BOUNDS } from '../ingest/group-bounds.js';

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
    /**
     * The CA's private key (PEM file), for the hub to sign gateway certificates at enrolment and
     * renewal. Optional: without it `POST /api/v1/enrol` and renewals are refused with a message
     * saying so, and gateways get certificates from the province's CA by hand.
     */
    caKey: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type TlsFiles = Static<typeof TlsFiles>;

/** The API's own certificate (PEM files), e.g. one browsers trust; see http.tls. */
export const HttpTlsFiles = Type.Object(
  {
    cert: Type.String({ minLength: 1 }),
    key: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type HttpTlsFiles = Static<typeof HttpTlsFiles>;

/** A system that reads alert changes from the broker (see mqtt.consumers). */
export const MqttConsumer = Type.Object(
  {
    id: Type.String({ pattern: GATEWAY_ID_PATTERN }),
    /** `*`, province or commune codes. */
    areas: Type.Array(Type.String({ pattern: AREA_PATTERN }), { minItems: 1, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type MqttConsumer = Static<typeof MqttConsumer>;

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

/** A commune's name, for alert messages and CAP areaDesc. */
export const CommuneEntry = Type.Object(
  {
    code: Type.String({ pattern: COMMUNE_CODE_PATTERN }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    provinceCode: Type.Optional(Type.String({ pattern: PROVINCE_CODE_PATTERN })),
    /** The commune centre (the consoles' map marks it). */
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  },
  { additionalProperties: false },
);
export type CommuneEntry = Static<typeof CommuneEntry>;

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
    /**
     * The station's zone (khu vực 1–4) in QĐ 18/2021/QĐ-TTg, for the candidate disaster-risk level
     * of its flood alerts.
     */
    zone: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
    /** The highest flood level on record at the station (metres, station datum): the top flood tier. */
    historicPeakM: Type.Optional(Type.Number()),
    /** Devices with the same site (a building, a pumping station) can be judged together (e.g. fire). */
    site: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })),
    /** How often the device reports (seconds): silence is judged against it (default: the rule's). */
    intervalS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400 })),
    /** How long without readings before the device's open alerts are marked stale (seconds; default max(3 × intervalS, 600)). */
    staleAfterS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 7 * 86_400 })),
  },
  { additionalProperties: false },
);
export type DeviceEntry = Static<typeof DeviceEntry>;

/**
 * A rule as written in hub.yaml or sent to /api/v1/rules: the common keys here; the kind's own
 * keys are checked by the kind (hub/src/alerts/kinds) when the rule is compiled.
 */
export const RuleSpecSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }),
    kind: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: true },
);
export type RuleSpecInput = Static<typeof RuleSpecSchema> & Record<string, unknown>;

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
         * (MQTT 3.1.1 has no negative PUBACK), and a packet announcing more (plus 64 KiB for its
         * topic) is refused from its fixed header before it is buffered. The hub announces it to
         * every gateway (retained on ioc/v1/{gw}/config), and gateways keep their batches under it.
         */
        maxPayloadBytes: Type.Integer({ minimum: MIN_PAYLOAD_BYTES, maximum: MAX_PAYLOAD_BYTES, default: MAX_PAYLOAD_BYTES }),
        /** Connections at once (TLS handshakes included); more are closed at accept, counted. */
        maxConnections: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
        /** A connection that has not sent MQTT CONNECT after this long is closed, counted. */
        connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
        /**
         * Other province systems that read alert changes on ioc/v1/alerts/{area} (read-only): mutual
         * TLS with a certificate of the hub's CA whose CN is the id (the demo PKI makes one for each).
         * They receive the alerts of their areas only, whatever they subscribe to.
         */
        consumers: Type.Array(MqttConsumer, { default: [] }),
        /**
         * Per-gateway publish rate cap (token bucket). A status or event counts as 10 messages
         * (each is a transaction of its own; telemetry shares one per group commit). Over the cap
         * a gateway's publishes are delayed, not dropped: it drains at the cap and loses nothing.
         */
        rateLimit: Type.Object(
          {
            messagesPerS: Type.Number({ exclusiveMinimum: 0, default: 5000 }),
            /** At least 10: a status alone costs that much. */
            burst: Type.Integer({ minimum: 10, default: 20_000 }),
          },
          { additionalProperties: false, default: {} },
        ),
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
        /**
         * HTTPS for the API. Absent (the default): HTTPS with the broker's server certificate
         * (mqtt.tls, or the demo PKI's server.crt), the CA sent along so `ioc-edge enroll` can pin
         * it. `{cert, key}`: these files instead (they must chain to the same CA for enrolment).
         * `false`: plain HTTP, only with a loopback http.host (development and tests).
         */
        tls: Type.Optional(Type.Union([Type.Literal(false), HttpTlsFiles])),
        /** The web consoles (hub/web) served at `/`. */
        console: Type.Object(
          {
            enabled: Type.Boolean({ default: true }),
            /** The built app; default: the hub's own hub/web/dist. */
            dir: Type.Optional(Type.String({ minLength: 1 })),
            /**
             * A map tile server the browsers can reach, e.g. the province's own
             * "https://tiles.ioc.example.vn/{z}/{x}/{y}.png". Absent (the default, for networks with
             * no internet): the map shows Vietnam's outline, the stations and the commune centres.
             */
            tiles: Type.Optional(
              Type.Object(
                {
                  url: Type.String({ pattern: '^https?://[^\\s]+\\{z\\}[^\\s]*$', maxLength: 500 }),
                  attribution: Type.String({ maxLength: 300, default: '' }),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    registry: Type.Object(
      {
        gateways: Type.Array(GatewayEntry, { default: [] }),
        devices: Type.Array(DeviceEntry, { default: [] }),
        communes: Type.Array(CommuneEntry, { default: [] }),
      },
      { additionalProperties: false },
    ),
    enrolment: Type.Object(
      {
        /** Default lifetime of an enrolment token (`ioc-hub gateway token --ttl` overrides it): 90s, 15m, 24h, 7d. */
        tokenTtl: Type.String({ pattern: DURATION_PATTERN, default: '24h' }),
        /** Lifetime of a gateway certificate the hub signs, at enrolment and at each renewal. */
        certificateValidity: Type.String({ pattern: DURATION_PATTERN, default: '365d' }),
        /** Enrolment attempts (POST /api/v1/enrol) per client address per minute. */
        ratePerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    ingest: Type.Object(
      {
        /**
         * A reading dated more than this after the hub's clock is stored as q "bad", reason
         * "clock_skew": it never becomes a device's latest value and never feeds an alert rule.
         */
        maxClockSkewMs: Type.Integer({ minimum: 1000, default: 10 * 60_000 }),
        /**
         * The same for a reading older than this many days (a gateway clock reset to 1970 or 2000);
         * 0 = no limit. Raise it before `ioc-hub import` of an export older than this.
         */
        maxReadingAgeDays: Type.Number({ minimum: 0, default: 30 }),
        /**
         * The telemetry group commit (batches arriving together are written in one transaction):
         * a group holds at most maxBatches batches and maxReadings readings (a batch is never
         * split). With the urgent lane, a batch that may change an alert is committed at once,
         * ahead of routine batches, which are written one group per event-loop turn once no
         * telemetry has arrived for quietMs (0: at the end of the turn), each after at most
         * maxWaitMs. Without it, a group is written when it reaches its bounds or its first batch
         * has waited maxWaitMs, else at the end of the turn.
         * Reads of the API may lag ingest by the routine batches waiting.
         */
        groupCommit: Type.Object(
          {
            maxBatches: Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULT_GROUP_BOUNDS.maxBatches }),
            maxReadings: Type.Integer({ minimum: 1, maximum: 100_000_000, default: DEFAULT_GROUP_BOUNDS.maxReadings }),
            maxWaitMs: Type.Number({ minimum: 0, maximum: 60_000, default: DEFAULT_GROUP_BOUNDS.maxWaitMs }),
            quietMs: Type.Number({ minimum: 0, maximum: 1000, default: DEFAULT_GROUP_BOUNDS.quietMs }),
            urgentLane: Type.Boolean({ default: true }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The WebSocket stream (/api/v1/stream). */
    stream: Type.Object(
      {
        /** Publications kept for clients that resume (`since=`): readings count one each, anything else one. */
        resumeMaxItems: Type.Integer({ minimum: 1000, maximum: 10_000_000, default: 100_000 }),
        /** ... and for at most this long. */
        resumeMaxAgeS: Type.Integer({ minimum: 10, maximum: 86_400, default: 600 }),
        /** Ping interval: a client that has not answered the previous ping is dropped. */
        heartbeatS: Type.Number({ minimum: 1, maximum: 3600, default: 30 }),
        /** Connections at once; more are refused (503). */
        maxClients: Type.Integer({ minimum: 1, maximum: 100_000, default: 500 }),
        /** A client whose next message has waited this long (its socket not draining) is closed as slow. */
        maxLagS: Type.Number({ minimum: 1, maximum: 3600, default: 30 }),
        /** Sending to a client pauses while its socket holds this much unsent data. */
        highWaterKB: Type.Integer({ minimum: 16, maximum: 65_536, default: 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    alerts: Type.Object(
      {
        /**
         * The rules (see the README, "Alert rules"). Absent: the built-in set (flood levels at every
         * station with alarm levels, rain accumulation, fire, silent devices, offline gateways,
         * suspect sensors, gateway problems). Rules changed through /api/v1/rules are kept in
         * hub.db, versioned; a rule named here is set back to this text at each start.
         */
        rules: Type.Optional(Type.Array(RuleSpecSchema, { maxItems: 5000 })),
        /** A reading judged this long after its measurement (a gateway's backlog) is late: see "event time". */
        lateAfterS: Type.Number({ minimum: 1, maximum: 86_400, default: 120 }),
        /** How often the clock is applied to rules (silence, staleness, waiting late episodes). */
        tickS: Type.Number({ minimum: 0.05, maximum: 60, default: 1 }),
        /** A condition that comes back within this many minutes of clearing reopens its alert (flapping). */
        flapWindowMinutes: Type.Number({ minimum: 0, maximum: 1440, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    cap: Type.Object(
      {
        /** CAP `sender` of every message (default "ioc@{hostname}"); no spaces, commas, "<" or "&". */
        sender: Type.Optional(Type.String({ pattern: '^[^\\s,<&]{1,200}$' })),
        /** CAP `senderName`, the organisation people see (default: the operations centre, in vi and en). */
        senderName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        /** Actual, or Test for a hub whose messages nobody should act on (drills give Exercise per alert). */
        status: Type.Union([Type.Literal('Actual'), Type.Literal('Test')], { default: 'Actual' }),
        /** A message of an active alert expires this long after it was sent (a Cancel after 1 h). */
        expiresHours: Type.Number({ exclusiveMinimum: 0, maximum: 720, default: 6 }),
        /** Radius of the CAP circle around the station. */
        radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 500, default: 5 }),
        /** The watch-desk console's base URL: each message links to {webBase}/alerts/{id}. */
        webBase: Type.Optional(Type.String({ pattern: '^https?://[^\\s<>"]+$', maxLength: 500 })),
        /** The feed keeps an ended alert (its Cancel) this long. */
        keepEndedHours: Type.Number({ minimum: 0, maximum: 720, default: 6 }),
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
    /** Alert notifications: channels, routes, escalation (../notify/config.ts). None by default. */
    notify: NotifyConfigSchema,
    backup: Type.Object(
      {
        /**
         * Where the running hub writes the backups an admin makes from the console (POST
         * /api/v1/backups); default {dataDir}/backups. Put it on another disk if you can, and copy
         * the files off the machine: a backup next to hub.db dies with its disk.
         */
        dir: Type.Optional(Type.String({ minLength: 1 })),
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
    maxConnections?: number;
    connectTimeoutMs?: number;
    rateLimit?: { messagesPerS?: number; burst?: number };
    consumers?: MqttConsumer[];
  };
  http?: { host?: string; port?: number; allowedHosts?: string[]; tls?: false | HttpTlsFiles };
  enrolment?: Partial<Static<typeof HubConfigSchema>['enrolment']>;
  auth?: Partial<Static<typeof HubConfigSchema>['auth']>;
  registry: { gateways?: GatewayEntry[]; devices?: DeviceEntry[]; communes?: CommuneEntry[] };
  ingest?: { maxClockSkewMs?: number; maxReadingAgeDays?: number; groupCommit?: Partial<Static<typeof HubConfigSchema>['ingest']['groupCommit']> };
  alerts?: Partial<Omit<Static<typeof HubConfigSchema>['alerts'], 'rules'>> & { rules?: RuleSpecInput[] };
  cap?: Partial<Static<typeof HubConfigSchema>['cap']>;
  notify?: NotifyConfigInput;
  stream?: Partial<Static<typeof HubConfigSchema>['stream']>;
  backup?: { dir?: string };
  log?: { level?: Static<typeof LogLevel> };
};

/** After validation: defaults filled, paths absolute. */
export type ResolvedHubConfig = Omit<Static<typeof HubConfigSchema>, 'notify'> & { notify: NotifyConfig };

/** Compile-time guard: every resolved config is also a valid input (the two types cannot drift). */
export type ResolvedIsInput = ResolvedHubConfig extends HubConfig ? true : never;
const resolvedIsInput: ResolvedIsInput = true;
void resolvedIsInput;
