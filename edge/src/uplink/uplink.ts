/**
 * The gateway's link to the hub: MQTT over mutual TLS, QoS1 telemetry batches read from the
 * outbox, rows deleted only when the hub's end-to-end ack `{upTo}` covers them (never on PUBACK).
 *
 * One mqtt.js client per connection attempt, with mqtt.js's own reconnect off: the reconnect
 * policy (jittered backoff, retry on network change) lives here, and no client-side store can
 * replay stale packets — after every connect we resend from the outbox's ackedUpTo and the hub
 * de-duplicates by (gw, seq).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  Backoff, MAX_PAYLOAD_BYTES, MIN_PAYLOAD_BYTES, WIRE_VERSION, decodePayload, gatewayTopic, validateAck, validateGatewayConfigMessage,
  type DriverHealth, type GatewayTopicKind, type Logger, type OutboxHealth, type Status,
} from '@ioc/shared';
import { uplinkConfigProblems } from '../config/checks.js';
import type { UplinkConfig } from '../config/schema.js';
import type { Outbox, OutboxRun } from '../outbox/index.js';
import { Lanes, SentRanges, type Batch, type ReadRun } from './lanes.js';
import { NetWatch } from './netwatch.js';
import { BATCH_ENVELOPE_BYTES, LWT_PAYLOAD, batchPrefix, fitDropped, statusPayload, telemetryPayload } from './payload.js';

export type LinkState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface UplinkEvents {
  /** Connected, ack topic subscribed, sending started. */
  connect: [];
  /** A valid ack arrived (upTo clamped to lastSeq). */
  ack: [upTo: number];
  /** An established link was lost. */
  offline: [];
}

export interface UplinkOptions {
  gatewayId: string;
  /** ca/cert/key are absolute paths. (renewBefore is the renewer's: ../enroll/renew.ts.) */
  config: Omit<UplinkConfig, 'renewBefore'>;
  outbox: Outbox;
  logger: Logger;
  version: string;
  drivers: () => DriverHealth[];
  /** What the outbox cannot know about itself: writes that failed (added to the status's outbox figures). */
  outboxWrites?: () => Partial<OutboxHealth>;
  now?: () => number;
  /** How often to look for network changes while waiting to reconnect (default 3000 ms). */
  netPollMs?: number;
  /** Upper bound for stop() (default 3000 ms). */
  stopTimeoutMs?: number;
  /**
   * How long after the first subscription to wait for the hub's announced limits before assuming
   * a hub that announces none (default 3000 ms); until then payloads stay under MIN_PAYLOAD_BYTES.
   */
  hubConfigGraceMs?: number;
}

export interface UplinkCounters {
  batchesSent: number;
  readingsSent: number;
  /** Batches whose rows had been sent before (after a reconnect or an ack timeout). */
  resends: number;
  ackTimeouts: number;
  rejectedAcks: number;
  /** Successful connects after the first. */
  reconnects: number;
  connectFailures: number;
  dropEventsSent: number;
}

/** Covers TCP connect + TLS handshake + CONNACK on a slow cellular link. */
const CONNECT_TIMEOUT_MS = 20_000;

export class Uplink extends EventEmitter<UplinkEvents> {
  private readonly gw: string;
  private readonly cfg: Omit<UplinkConfig, 'renewBefore'>;
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private readonly version: string;
  private readonly drivers: () => DriverHealth[];
  private readonly outboxWrites: (() => Partial<OutboxHealth>) | undefined;
  private readonly now: () => number;
  private readonly stopTimeoutMs: number;
  private readonly topics: { telemetry: string; ack: string; status: string; events: string; config: string };
  private readonly prefix: string;
  private readonly backoff: Backoff;
  private readonly netwatch: NetWatch;
  private readonly lanes: Lanes;
  private readonly read: ReadRun;

  private state: LinkState = 'stopped';
  private client: MqttClient | null = null;
  /** Ack topic subscribed and lanes planned on the current connection. */
  private ready = false;
  private everConnected = false;
  private startedAt = 0;
  /** droppedTotal of the outbox when drops were last reported. */
  private dropsReported = -1;
  /** Highest seq of a drop range reported on this connection (see sendDrops). */
  private dropsSentUpTo = 0;
  /** Seq ranges sent (on any connection) above the hub's ack: what a resend is. */
  private readonly sent: SentRanges;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private pumpImmediate: NodeJS.Immediate | null = null;
  /** Highest upTo received and not yet applied (-1: none); applied once per event-loop turn. */
  private pendingAckUpTo = -1;
  private ackImmediate: NodeJS.Immediate | null = null;
  private stopping: Promise<void> | null = null;
  private lastError = '';
  /** Handlers of other hub→gateway topics (certificate renewal), by topic. */
  private readonly hubHandlers = new Map<string, (payload: Buffer) => void>();
  /**
   * The hub's payload limit as it announced it on ioc/v1/{gw}/config: undefined = not heard yet,
   * null = heard, without a limit. Kept across connections; a new announcement replaces it.
   */
  private hubMaxPayloadBytes: number | null | undefined = undefined;
  private readonly hubConfigGraceMs: number;
  /** performance.now() of the first subscription (0: none yet), for hubConfigGraceMs. */
  private firstReadyAt = 0;
  private readonly c: UplinkCounters = {
    batchesSent: 0, readingsSent: 0, resends: 0, ackTimeouts: 0, rejectedAcks: 0,
    reconnects: 0, connectFailures: 0, dropEventsSent: 0,
  };

  constructor(opts: UplinkOptions) {
    super();
    this.gw = opts.gatewayId;
    this.cfg = opts.config;
    this.outbox = opts.outbox;
    this.log = opts.logger;
    this.version = opts.version;
    this.drivers = opts.drivers;
    this.outboxWrites = opts.outboxWrites;
    this.now = opts.now ?? Date.now;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 3000;
    this.prefix = batchPrefix(this.gw); // validates the id
    this.topics = {
      telemetry: gatewayTopic(this.gw, 'telemetry'),
      ack: gatewayTopic(this.gw, 'ack'),
      status: gatewayTopic(this.gw, 'status'),
      events: gatewayTopic(this.gw, 'events'),
      config: gatewayTopic(this.gw, 'config'),
    };
    // A config built in code gets the same checks as a file (mqtt:// without insecure, …).
    const problems = uplinkConfigProblems(this.cfg);
    if (problems.length) throw new Error(`uplink config: ${problems.join('; ')}`);
    this.hubConfigGraceMs = opts.hubConfigGraceMs ?? 3000;
    this.backoff = new Backoff(this.cfg.backoff.initialMs, this.cfg.backoff.maxMs);
    this.netwatch = new NetWatch(() => this.onNetworkChange(), opts.netPollMs ?? 3000);
    this.lanes = new Lanes(this.cfg.batchSize, this.cfg.maxInflightBatches);
    this.read = (after, limit, maxSeq) => this.outbox.readRun(after, limit, maxSeq, this.payloadLimit() - BATCH_ENVELOPE_BYTES);
    this.sent = new SentRanges(this.outbox.ackedUpTo);
  }

  /** Starts connecting; network trouble is retried with backoff, never thrown. */
  start(): void {
    if (this.state !== 'stopped') return;
    this.startedAt = this.now();
    if (!/^mqtts:/.test(this.cfg.url)) this.log.warn({ url: this.cfg.url }, 'uplink without TLS (uplink.insecure): only for a lab set-up');
    this.netwatch.start();
    this.statusTimer = setInterval(() => this.publishStatus(), this.cfg.statusIntervalMs);
    this.state = 'connecting';
    this.connect();
  }

  /** Rows were appended: send within lingerMs, at once when a full live batch is waiting. */
  notify(): void {
    if (!this.ready) return;
    if (this.outbox.lastSeq - this.lanes.liveCursor >= this.cfg.batchSize) this.schedulePump();
    else if (!this.lingerTimer) this.lingerTimer = setTimeout(this.onLinger, this.cfg.lingerMs);
  }

  /** Publishes the retained offline status and disconnects cleanly (so no LWT); bounded in time. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop().finally(() => { this.stopping = null; });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    const wasConnected = this.state === 'connected';
    this.state = 'stopped';
    this.client = null; // callbacks of this client are ignored from here on
    this.ready = false;
    this.netwatch.stop();
    this.clearTimers();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    if (!client) return;
    // Wall-clock time here, not the injectable `now` (which only stamps messages).
    const deadline = Date.now() + this.stopTimeoutMs;
    const within = (p: Promise<void>): Promise<void> => {
      const ms = Math.max(0, deadline - Date.now());
      let t: NodeJS.Timeout | undefined;
      return Promise.race([p, new Promise<void>((res) => { t = setTimeout(res, ms); })]).finally(() => clearTimeout(t));
    };
    if (wasConnected && client.connected) {
      // Each wait also ends when the link drops meanwhile: a dead link costs no timeout.
      const closed = new Promise<void>((res) => { client.once('close', () => res()); });
      const offline = statusPayload({ ...this.buildStatus(), online: false, link: 'stopped' }, this.payloadLimit());
      await within(Promise.race([closed, new Promise<void>((res) => {
        client.publish(this.topics.status, offline, { qos: 1, retain: true }, () => res());
      })]));
      // end(false) sends DISCONNECT (the broker then discards the LWT) once in-flight PUBACKs are in.
      await within(Promise.race([closed, new Promise<void>((res) => { client.end(false, {}, () => res()); })]));
      // If the broker never answered, end(false) is still waiting: cut the socket (the LWT then fires).
      client.stream?.destroy();
    } else {
      client.end(true);
    }
    this.log.info({ wasConnected }, 'uplink stopped');
  }

  linkState(): LinkState {
    return this.state;
  }

  buildStatus(): Status {
    const now = this.now();
    const s: Status = {
      v: WIRE_VERSION,
      online: this.state !== 'stopped',
      ts: now,
      version: this.version,
      uptimeS: this.startedAt ? Math.max(0, Math.round((now - this.startedAt) / 1000)) : 0,
      link: this.state,
    };
    try {
      s.outbox = { ...this.outbox.stats(), ...this.outboxWrites?.() };
    } catch (err) {
      this.log.warn({ err }, 'status without outbox stats');
    }
    try {
      s.drivers = this.drivers();
    } catch (err) {
      this.log.warn({ err }, 'status without driver health');
    }
    return s;
  }

  counters(): UplinkCounters {
    return { ...this.c };
  }

  // --- connection ------------------------------------------------------------------------------

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    let client: MqttClient;
    try {
      // Read on every attempt: a renewed certificate is picked up without a restart.
      // mqtt.js passes TLS options through to tls.connect.
      const opts: IClientOptions & Pick<ConnectionOptions, 'checkServerIdentity'> = {
        clientId: this.gw,
        clean: true,
        protocolVersion: this.cfg.protocolVersion ?? 4,
        keepalive: this.cfg.keepaliveS,
        reconnectPeriod: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ca: readFileSync(this.cfg.ca),
        cert: readFileSync(this.cfg.cert),
        key: readFileSync(this.cfg.key),
        rejectUnauthorized: true,
        will: { topic: this.topics.status, payload: Buffer.from(LWT_PAYLOAD), qos: 1, retain: true },
      };
      // The chain is still verified against the CA; only the host name check is skipped.
      if (this.cfg.checkServerName === false) opts.checkServerIdentity = () => undefined;
      client = mqtt.connect(this.cfg.url, opts);
    } catch (err) {
      this.c.connectFailures++;
      this.log.error({ err }, 'uplink cannot start a connection attempt');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    client.on('error', (err) => {
      if (client !== this.client) return;
      // The same refusal every backoff step during an outage is logged once at warn.
      const level = err.message === this.lastError ? 'debug' : 'warn';
      this.lastError = err.message;
      this.log[level]({ err: err.message, state: this.state, attempt: this.backoff.attempts }, 'uplink error');
    });
    client.on('close', () => this.onClose(client));
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    // Nagle would hold small packets (a lone live batch, PUBACKs of acks) back until the hub's
    // delayed ACK: measured ~40 ms more per reading at field rates and ~40 % less throughput
    // (test/bench/README.md). tls.connect ignores a noDelay option, so it is set on the socket.
    (client.stream as { setNoDelay?: (on: boolean) => unknown } | undefined)?.setNoDelay?.(true);
    this.state = 'connected';
    this.backoff.reset();
    this.lastError = '';
    if (this.everConnected) this.c.reconnects++;
    this.everConnected = true;
    this.log.info({ url: this.cfg.url, ackedUpTo: this.outbox.ackedUpTo, lastSeq: this.outbox.lastSeq }, 'uplink connected');
    this.publishStatus();
    // The hub's config (retained: its payload limit) comes with the ack subscription. aedes sends
    // a retained message after the SUBACK, so the first batches may go out before it arrives:
    // payloadLimit() keeps them small until then.
    client.subscribe([this.topics.ack, this.topics.config], { qos: 1 }, (err, granted) => {
      if (client !== this.client) return;
      const grant = (topic: string) => granted?.find((g) => g.topic === topic);
      const ack = grant(this.topics.ack);
      if (err || !ack || ack.qos >= 128) { // 0x80: refused (v5 reason codes too)
        this.log.error({ err: err?.message, topic: this.topics.ack }, 'ack subscription refused; reconnecting');
        client.end(true);
        return;
      }
      const config = grant(this.topics.config);
      if ((!config || config.qos >= 128) && this.hubMaxPayloadBytes === undefined) {
        // A broker whose ACL does not allow it: nothing will be announced; our own limit applies.
        this.log.warn({ topic: this.topics.config }, 'hub config subscription refused: using uplink.maxPayloadBytes without the hub\'s limit');
        this.hubMaxPayloadBytes = null;
      }
      if (!this.firstReadyAt) this.firstReadyAt = performance.now();
      this.ready = true;
      this.lanes.plan(this.outbox.ackedUpTo, this.outbox.lastSeq);
      if (this.lanes.boundary !== null) {
        this.log.info({ backlogUpTo: this.lanes.boundary, ackedUpTo: this.outbox.ackedUpTo, lastSeq: this.outbox.lastSeq }, 'backlog: live lane first');
      }
      this.dropsReported = -1; // resend drop notices on every connect
      this.emit('connect');
      this.pump();
    });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    const wasConnected = this.state === 'connected';
    this.client = null;
    this.ready = false;
    this.clearTimers();
    client.end(true);
    if (wasConnected) {
      this.log.warn('uplink link lost');
      this.emit('offline');
    } else {
      this.c.connectFailures++;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    const delay = this.backoff.next();
    this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'uplink reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private onNetworkChange(): void {
    if (this.state !== 'backoff') return;
    this.log.info('network changed: reconnecting now');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  // --- inbound -------------------------------------------------------------------------------

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (client !== this.client) return;
    if (topic === this.topics.config) return this.onHubConfig(payload);
    if (topic !== this.topics.ack) {
      this.hubHandlers.get(topic)?.(payload);
      return;
    }
    const r = decodePayload(payload, validateAck);
    if (!r.ok) {
      this.c.rejectedAcks++;
      this.log.warn({ reason: r.reason, topic }, 'rejected ack');
      return;
    }
    // Acks that arrive together are applied once, with the highest upTo (one outbox transaction,
    // one fsync with FULL): upTo is cumulative, so the others add nothing.
    if (r.value.upTo > this.pendingAckUpTo) this.pendingAckUpTo = r.value.upTo;
    this.ackImmediate ??= setImmediate(() => {
      this.ackImmediate = null;
      const upTo = this.pendingAckUpTo;
      this.pendingAckUpTo = -1;
      if (client === this.client && upTo >= 0) this.applyAck(upTo);
    });
  }

  /** The hub's retained config: its payload limit caps every payload from now on. */
  private onHubConfig(payload: Buffer): void {
    const r = decodePayload(payload, validateGatewayConfigMessage);
    if (!r.ok) {
      this.log.warn({ reason: r.reason, topic: this.topics.config }, 'rejected hub config; payloads stay within the limit known so far');
      return;
    }
    const limit = r.value.limits?.maxPayloadBytes ?? null;
    if (limit === this.hubMaxPayloadBytes) return;
    const before = this.payloadLimit();
    this.hubMaxPayloadBytes = limit;
    const now = this.payloadLimit();
    this.log.info({ hubMaxPayloadBytes: limit, own: this.cfg.maxPayloadBytes ?? MAX_PAYLOAD_BYTES, payloadLimit: now }, 'hub announced its limits');
    // A status sent under the floor may have left out the drivers.
    if (now > before) this.publishStatus();
    this.schedulePump();
  }

  /**
   * Largest payload to publish now: our own uplink.maxPayloadBytes, and the hub's announced limit.
   * Before the hub has announced one, MIN_PAYLOAD_BYTES, which every hub accepts (a payload over
   * the hub's limit closes the connection, and a gateway resending it would never get through);
   * a hub that has said nothing hubConfigGraceMs after the first subscription announces nothing
   * (an older hub), and our own limit applies.
   */
  payloadLimit(): number {
    const own = this.cfg.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    const hub = this.hubMaxPayloadBytes;
    if (hub !== undefined) return hub === null ? own : Math.min(own, hub);
    if (this.firstReadyAt && performance.now() - this.firstReadyAt >= this.hubConfigGraceMs) {
      this.hubMaxPayloadBytes = null;
      this.log.info({ waitedMs: this.hubConfigGraceMs, payloadLimit: own }, 'the hub announced no limits (an older hub?): using uplink.maxPayloadBytes');
      return own;
    }
    return Math.min(own, MIN_PAYLOAD_BYTES);
  }

  private applyAck(upTo: number): void {
    try {
      if (upTo > this.outbox.lastSeq) {
        // The hub has seqs this outbox never assigned (outbox file replaced): continue after the
        // hub's, and send what is unsent again under the new numbers.
        this.outbox.rebase(upTo);
        this.sent.reset(this.outbox.ackedUpTo);
        this.lanes.plan(this.outbox.ackedUpTo, this.outbox.lastSeq);
      }
      this.outbox.ack(upTo);
      this.sent.ack(this.outbox.ackedUpTo);
    } catch (err) {
      this.log.error({ err }, 'outbox ack failed');
      return;
    }
    if (this.lanes.onAck(this.outbox.ackedUpTo)) {
      // Progress: the ack timeout measures silence from here.
      if (this.ackTimer) clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
    this.emit('ack', upTo);
    this.pump();
  }

  // --- outbound ------------------------------------------------------------------------------

  private readonly onLinger = (): void => {
    this.lingerTimer = null;
    this.pump();
  };

  private schedulePump(): void {
    if (this.pumpImmediate) return;
    this.pumpImmediate = setImmediate(() => {
      this.pumpImmediate = null;
      this.pump();
    });
  }

  /** Publishes whatever the lanes allow now. Called on connect, notify, ack, PUBACK, timers. */
  private pump(): void {
    const client = this.client;
    if (!this.ready || !client) return;
    try {
      // A partial live batch goes out only once its linger has run out.
      const flushLive = this.lingerTimer === null;
      for (let next = this.lanes.next(this.read, this.outbox.lastSeq, flushLive); next; next = this.lanes.next(this.read, this.outbox.lastSeq, flushLive)) {
        this.publishBatch(client, next.batch, next.run);
      }
      // After the batches: at a connect after cap drops the notices can be tens of thousands of
      // ranges, which the hub takes in order; the live lane's first batch goes ahead of them.
      if (this.outbox.droppedTotal !== this.dropsReported) this.sendDrops(client);
    } catch (err) {
      this.log.error({ err }, 'uplink send failed');
    }
    this.armAckTimer();
  }

  private publishBatch(client: MqttClient, batch: Batch, run: OutboxRun): void {
    const payload = telemetryPayload(this.prefix, run.first, run.last, batch.lane, run.bodies, this.outbox.lastSeq);
    this.c.batchesSent++;
    this.c.readingsSent += run.bodies.length;
    if (this.sent.add(run.first, run.last)) this.c.resends++;
    client.publish(this.topics.telemetry, payload, { qos: 1 }, (err) => {
      if (err || client !== this.client) return;
      if (this.lanes.onPuback(batch)) this.schedulePump();
    });
  }

  /**
   * Dropped-row notices until the hub's ack passes them; the hub counts those seqs as accounted for.
   * All of them at connect and after an ack timeout; in between, only ranges that end above what
   * this connection already reported (after a long outage there can be tens of thousands, and a
   * new drop every 1 % of the cap must not resend them all over a slow link).
   */
  private sendDrops(client: MqttClient): void {
    if (this.dropsReported < 0) this.dropsSentUpTo = 0;
    this.dropsReported = this.outbox.droppedTotal;
    const limit = this.payloadLimit();
    for (const d of this.outbox.pendingDrops(this.dropsSentUpTo)) {
      for (const payload of fitDropped(d, limit)) {
        client.publish(this.topics.events, payload, { qos: 1 });
        this.c.dropEventsSent++;
      }
      for (const [, last] of d.ranges) if (last > this.dropsSentUpTo) this.dropsSentUpTo = last;
    }
  }

  private armAckTimer(): void {
    if (this.ackTimer || !this.ready || !this.lanes.outstanding()) return;
    this.ackTimer = setTimeout(() => this.onAckTimeout(), this.cfg.ackTimeoutMs);
  }

  /**
   * No ack progress for ackTimeoutMs with batches outstanding: a broker may have dropped a QoS1
   * message to a slow subscriber, or the hub lost it. Resend from ackedUpTo (the hub dedups).
   */
  private onAckTimeout(): void {
    this.ackTimer = null;
    if (!this.ready || !this.lanes.outstanding()) return;
    this.c.ackTimeouts++;
    const lane = this.lanes.rewind();
    this.log.warn({ ackedUpTo: this.outbox.ackedUpTo, lane, timeoutMs: this.cfg.ackTimeoutMs }, 'no ack progress: resending');
    this.dropsReported = -1;
    this.pump();
  }

  /**
   * Subscribes, on the current connection, to one more topic the hub publishes to this gateway.
   * Resolves false when offline or when the hub refuses the subscription (an older hub).
   */
  subscribeHub(kind: GatewayTopicKind, handler: (payload: Buffer) => void): Promise<boolean> {
    const client = this.client;
    const topic = gatewayTopic(this.gw, kind);
    this.hubHandlers.set(topic, handler);
    if (!this.ready || !client) return Promise.resolve(false);
    return new Promise((resolve) => {
      client.subscribe(topic, { qos: 1 }, (err, granted) => resolve(!err && !!granted?.[0] && granted[0].qos < 128 && client === this.client));
    });
  }

  /** Publishes QoS 1 on one of this gateway's topics; false when offline. */
  publishGateway(kind: GatewayTopicKind, payload: string): boolean {
    const client = this.client;
    if (!this.ready || !client) return false;
    client.publish(gatewayTopic(this.gw, kind), payload, { qos: 1 });
    return true;
  }

  /**
   * Drops the connection and connects again at once, reading ca/cert/key anew (after a renewed
   * certificate was written). The outbox is untouched; unacknowledged rows are resent as after
   * any reconnect.
   */
  reconnect(reason: string): void {
    const client = this.client;
    if (!client || this.state === 'stopped') return;
    this.log.info({ reason }, 'uplink reconnecting');
    this.backoff.reset();
    client.end(true);
  }

  /** Publishes the retained status now (also on a timer and at connect); a no-op while offline. */
  publishStatus(): void {
    const client = this.client;
    if (this.state !== 'connected' || !client) return;
    client.publish(this.topics.status, statusPayload(this.buildStatus(), this.payloadLimit()), { qos: 1, retain: true });
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.pumpImmediate) clearImmediate(this.pumpImmediate);
    this.reconnectTimer = this.lingerTimer = this.ackTimer = null;
    this.pumpImmediate = null;
    if (this.ackImmediate) clearImmediate(this.ackImmediate);
    this.ackImmediate = null;
    this.pendingAckUpTo = -1;
  }
}
