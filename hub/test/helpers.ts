/** Test helpers: temp folders, a small registry, readings, MQTT clients with the demo PKI, an ingest rig. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { createLogger, type Logger, type Reading } from '@ioc/shared';
import { AlertEngine } from '../src/alerts/engine.js';
import { AlertActions } from '../src/alerts/lifecycle.js';
import { RuleSet } from '../src/alerts/rule-set.js';
import { SqliteAuditLog } from '../src/audit/sqlite.js';
import type { AuditLog } from '../src/audit/types.js';
import { compileRules } from '../src/alerts/spec.js';
import { AlertViews } from '../src/alerts/views.js';
import type { Registry } from '../src/config/registry.js';
import type { AlertChange } from '../src/alerts/types.js';
import type { AlertEngineOptions } from '../src/alerts/engine.js';
import type { CompiledRule } from '../src/alerts/rule.js';
import type { Bus } from '../src/broker/bus.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import type { HubConfig } from '../src/config/schema.js';
import { clockWindow, createAdmission } from '../src/ingest/admission.js';
import { createIngestContext, dispatch } from '../src/ingest/index.js';
import { LiveFeed } from '../src/live.js';
import { createHubMetrics } from '../src/metrics.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import type { StoredReading } from '../src/store/types.js';

export const GW = 'gw-test-01';
export const GW2 = 'gw-test-02';
export const KIM_LONG = 'wl-kimlong';
export const DETECTOR = 'fd-dongba';
export const LEVELS = { bd1: 1.0, bd2: 2.0, bd3: 3.5 };

export function tempDir(prefix = 'ioc-hub-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const silentLogger = (): Logger => createLogger({ name: 'test', level: 'silent' });

/** Registry: two gateways; Kim Long station and a smoke detector on GW, one device on GW2. */
export function testConfig(dataDir: string, extra: Partial<HubConfig> = {}): HubConfig {
  return {
    hub: { dataDir },
    mqtt: { host: '127.0.0.1', port: 0 },
    // Plain HTTP on loopback: these tests fetch without the hub CA (test/enrol*.test.ts use HTTPS).
    http: { host: '127.0.0.1', port: 0, tls: false },
    // The data-path tests read the API without logging in; test/auth*.test.ts cover logins.
    auth: { open: true },
    registry: {
      gateways: [{ id: GW, name: 'Test gateway 1' }, { id: GW2 }],
      devices: [
        {
          id: KIM_LONG, gateway: GW, profile: 'radar-water-level', name: 'Trạm Kim Long', station: 'Kim Long', river: 'Hương',
          communeCode: '19816', provinceCode: '46', lat: 16.4637, lon: 107.5588, alarmLevels: LEVELS,
        },
        { id: DETECTOR, gateway: GW, profile: 'smoke-heat-detector', name: 'Chợ Đông Ba', communeCode: '19801', provinceCode: '46', lat: 16.4722, lon: 107.5856 },
        { id: 'wl-other', gateway: GW2, profile: 'radar-water-level', name: 'Other', communeCode: '19801', provinceCode: '46', lat: 16.4, lon: 107.5 },
      ],
    },
    ...extra,
  };
}

export function wl(value: number | null, ts: number, q: Reading['q'] = 'good', dev = KIM_LONG): Reading {
  return { dev, metric: 'water_level', value, unit: 'm', ts, q };
}

export function batch(gw: string, first: number, readings: Reading[]) {
  return { v: 1 as const, gw, seq: [first, first + readings.length - 1] as [number, number], readings };
}

export interface ClientOptions {
  port: number;
  pkiDir: string;
  clientId: string;
  /** Which client certificate to present (default: the clientId's); null = none. */
  certOf?: string | null;
  will?: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
}

export function clientTls(pkiDir: string, cn: string | null) {
  const ca = readFileSync(join(pkiDir, 'ca.crt'));
  if (cn === null) return { ca };
  return { ca, cert: readFileSync(join(pkiDir, 'clients', `${cn}.crt`)), key: readFileSync(join(pkiDir, 'clients', `${cn}.key`)) };
}

export async function connectGateway(o: ClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtts://localhost:${o.port}`, {
    ...clientTls(o.pkiDir, o.certOf === undefined ? o.clientId : o.certOf),
    clientId: o.clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(o.will ? { will: o.will } : {}),
  });
}

/** Collects messages on one topic; `next()` resolves with the next one (or an already queued one). */
export function collect(client: MqttClient, topic: string) {
  const queue: unknown[] = [];
  const waiters: Array<(v: unknown) => void> = [];
  client.on('message', (t, payload) => {
    if (t !== topic) return;
    const v = JSON.parse(payload.toString());
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  });
  return {
    all: queue,
    next(timeoutMs = 5000): Promise<unknown> {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((v) => {
          clearTimeout(t);
          resolve(v);
        });
      });
    },
  };
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  if (!client.connected) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connection stayed open')), timeoutMs);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Value of one sample in Prometheus text, e.g. metric('ioc_hub_rejected_total', {reason: 'schema'}). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

export interface TestLike {
  after(fn: () => void): void;
}

/** Log lines (parsed JSON) written by a logger at `level` and above. */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  return { logger: createLogger({ name: 'test', level, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }), lines };
}

/**
 * The hub's ingest path without the broker, wired as hub.ts does: SQLite store with the
 * registry's admission, the alert engine (flood rule unless another is given), the live feed,
 * metrics, and a bus that records the acks. `send` dispatches one telemetry batch of GW.
 */
/** The flood rule as the tests use it: BĐ levels with no deadband unless a test asks for one. */
export const FLOOD_RULE = { id: 'flood', kind: 'flood-levels', deadbandM: 0 };

/**
 * The alert parts wired as hub.ts wires them, over a store: views, engine (started), people's
 * actions; `changes` collects every announced change.
 */
export function alertStack(
  store: SqliteStore,
  registry: Registry,
  opts: { rules?: unknown[]; wrap?: (rules: CompiledRule[]) => CompiledRule[]; now?: () => number; logger?: Logger } & Partial<Pick<AlertEngineOptions, 'lateAfterMs' | 'lateHoldMs' | 'flapWindowMs' | 'gatewayOnline' | 'catchUpWindowMs'>> = {},
) {
  const { rules: specs, now, logger, wrap, ...engineOpts } = opts;
  const compiled = compileRules(specs ?? [FLOOD_RULE], registry);
  const rules = wrap ? wrap(compiled) : compiled;
  const views = new AlertViews(store.alerts, registry);
  views.setRules(rules);
  // Tests write readings at fixed past times: nothing is late unless a test says so.
  const engine = new AlertEngine({ alerts: store.alerts, readings: store, registry, rules, views, logger: logger ?? silentLogger(), lateAfterMs: 1e12, ...(now ? { now } : {}), ...engineOpts });
  const actions = new AlertActions(store.alerts, views, engine, now);
  const changes: AlertChange[] = [];
  engine.on('change', (c) => changes.push(c));
  engine.start();
  return { engine, views, actions, changes, rules };
}

/** The rule set of a test API (the flood rule as hub.yaml would name it). */
export function ruleSetOf(store: SqliteStore, registry: Registry, audit: AuditLog = new SqliteAuditLog(store.db, Buffer.alloc(32, 7))): RuleSet {
  return new RuleSet({ alerts: store.alerts, registry, audit, configured: [FLOOD_RULE] });
}

/** Rules whose evaluators call `spy` with each reading before judging it (it may throw). */
export function spyOnReadings(spy: (r: Reading) => void): (rules: CompiledRule[]) => CompiledRule[] {
  return (rules) =>
    rules.map((rule) => ({
      ...rule,
      evaluator: (target) => {
        const ev = rule.evaluator(target);
        return { ...ev, reading: (r: Reading) => (spy(r), ev.reading(r)) };
      },
    }));
}

export function ingestRig(t: TestLike, opts: { rules?: unknown[]; wrap?: (rules: CompiledRule[]) => CompiledRule[]; now?: () => number; urgentLane?: boolean } = {}) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const resolved = resolveHubConfig(testConfig(dir), dir);
  const registry = buildRegistry(resolved.registry);
  const path = join(dir, 'hub.db');
  // As hub.ts wires it: the clock window of hub.yaml's ingest defaults, on the rig's clock.
  const store = openSqliteStore({ path, admit: createAdmission(registry, clockWindow(resolved.ingest, opts.now)), maxClockSkewMs: resolved.ingest.maxClockSkewMs });
  t.after(() => store.close());
  // A second connection sees only what is committed.
  const reader = new Database(path, { readonly: true });
  t.after(() => reader.close());
  const count = (table: string) => reader.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const { logger, lines: logs } = capturingLogger();
  const { engine, changes } = alertStack(store, registry, { ...(opts.rules ? { rules: opts.rules } : {}), ...(opts.wrap ? { wrap: opts.wrap } : {}), ...(opts.now ? { now: opts.now } : {}), logger });
  const acks: number[] = [];
  const bus = { publish: async (_topic: string, payload: string) => void acks.push((JSON.parse(payload) as { upTo: number }).upTo) } as unknown as Bus;
  const metrics = createHubMetrics();
  const live = new LiveFeed();
  const liveReadings: StoredReading[] = [];
  live.on('readings', (e) => liveReadings.push(...e.readings));
  // Groups are the batches of one event-loop turn here: the time bounds (maxWaitMs, and quietMs
  // for a pause in input) would make them depend on the machine's speed.
  const ctx = createIngestContext({
    bus, store, registry, alerts: engine, live, metrics, logger, maxPayloadBytes: 256 * 1024, groupBounds: { maxWaitMs: 60_000, quietMs: 0 },
    ...(opts.urgentLane === undefined ? {} : { urgentLane: opts.urgentLane }),
  });
  let next = 1;
  /** Sends one batch (seq following the previous one unless `first` is given); returns its first seq. */
  const send = (readings: Reading[], first = next) => {
    next = Math.max(next, first + readings.length);
    dispatch(ctx, `ioc/v1/${GW}/telemetry`, Buffer.from(JSON.stringify(batch(GW, first, readings))));
    return first;
  };
  const turn = () => new Promise((r) => setImmediate(r));
  const kinds = () => changes.map((c) => `${c.event.kind}:${c.event.level}`);
  const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await metrics.registry.metrics(), name, labels);
  return { dir, path, store, engine, ctx, changes, acks, metrics, metric, logs, liveReadings, count, send, turn, kinds };
}
