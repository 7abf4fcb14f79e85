/**
 * The far side of a benchmark, in its own process (on a 2-core box the gateway and the hub then
 * each get a core, as in production where they are separate machines). Started by ./peer.ts with
 * an IPC channel; argv[2] is a JSON PeerSpec.
 *
 * - mode "hub": the real hub (`startHub`: aedes + mutual TLS + ACL, ingest, SQLite store, alert
 *   engine, API), counting what `hub.live` reports as stored.
 * - mode "raw": the baseline — a bare aedes broker behind the same TLS server options (mutual TLS,
 *   TLS ≥ 1.2) with one in-process subscriber that takes each telemetry payload and lets it go.
 *
 * Messages (parent → child): {id, cmd: 'stats' | 'close'}. Replies carry the same id.
 * Unsolicited (child → parent): {event: 'ready', port, httpPort?}, {event: 'probe', seq, value, t} for each
 * stored reading of the probe device (t = wall-clock ms when the hub's commit was reported).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { createLogger } from '@ioc/shared';
import { startHub, type Hub } from '../../../hub/src/hub.js';
import { GATEWAYS, PROBE_DEV, registry, wallNow } from './common.js';

export interface PeerSpec {
  mode: 'hub' | 'raw';
  dataDir: string;
  pki: { caCert: string; serverCert: string; serverKey: string };
  /** Gateways (and their devices) in the hub registry. */
  gateways?: string[];
  /** raw mode: the subscriber also JSON.parses each payload. */
  parse?: boolean;
  /** hub mode: the telemetry group commit's bounds (hub.yaml ingest.groupCommit). */
  groupCommit?: { maxBatches?: number; maxReadings?: number; maxWaitMs?: number; quietMs?: number; urgentLane?: boolean };
  /** hub mode: the API over plain HTTP without logins (loopback), for a WebSocket stream client. */
  openApi?: boolean;
}

export interface PeerStats {
  /** Readings newly stored (hub); raw mode: readings parsed (only with `parse`). */
  readings: number;
  batches: number;
  bytes: number;
  /** Process CPU time so far (ms). */
  cpuMs: number;
  t: number;
  upTo: Record<string, number>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as PeerSpec;
const gateways = spec.gateways ?? GATEWAYS;
const send = (m: unknown) => process.send?.(m);
const stats: Omit<PeerStats, 'cpuMs' | 't' | 'upTo'> = { readings: 0, batches: 0, bytes: 0 };
let closeFn: () => Promise<void> = async () => undefined;
let hub: Hub | null = null;

async function startRaw(): Promise<number> {
  const aedes = await Aedes.createBroker();
  const server = createServer(
    {
      ca: readFileSync(spec.pki.caCert),
      cert: readFileSync(spec.pki.serverCert),
      key: readFileSync(spec.pki.serverKey),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      noDelay: true, // as the hub's broker (hub/src/broker/server.ts)
    },
    (socket: TLSSocket) => aedes.handle(socket),
  );
  await new Promise<void>((res) => aedes.subscribe('ioc/v1/+/telemetry', (packet, cb) => {
    stats.batches++;
    stats.bytes += (packet.payload as Buffer).length;
    if (spec.parse) stats.readings += (JSON.parse((packet.payload as Buffer).toString()) as { readings: unknown[] }).readings.length;
    cb();
  }, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closeFn = async () => {
    await new Promise<void>((res) => aedes.close(() => res()));
    await new Promise<void>((res) => server.close(() => res()));
  };
  return (server.address() as AddressInfo).port;
}

async function startRealHub(): Promise<number> {
  const logger = createLogger({ name: 'bench-hub', level: process.env.BENCH_HUB_LOG ?? 'error' });
  hub = await startHub(
    {
      hub: { dataDir: spec.dataDir },
      mqtt: {
        host: '127.0.0.1', port: 0, tls: { ca: spec.pki.caCert, cert: spec.pki.serverCert, key: spec.pki.serverKey },
        // BENCH_HUB_MSGS_PER_S: another per-gateway rate cap than the shipped one (mqtt.rateLimit).
        ...(process.env.BENCH_HUB_MSGS_PER_S ? { rateLimit: { messagesPerS: Number(process.env.BENCH_HUB_MSGS_PER_S), burst: Math.max(1, 2 * Number(process.env.BENCH_HUB_MSGS_PER_S)) } } : {}),
      },
      http: { host: '127.0.0.1', port: 0, ...(spec.openApi ? { tls: false as const } : {}) },
      ...(spec.openApi ? { auth: { open: true } } : {}),
      // BENCH_HUB_URGENT_LANE=false: the hub without the urgent lane (ingest.groupCommit.urgentLane).
      ...(spec.groupCommit || process.env.BENCH_HUB_URGENT_LANE
        ? { ingest: { groupCommit: { ...spec.groupCommit, ...(process.env.BENCH_HUB_URGENT_LANE ? { urgentLane: process.env.BENCH_HUB_URGENT_LANE !== 'false' } : {}) } } }
        : {}),
      registry: registry(gateways),
    },
    { logger },
  );
  hub.live.on('readings', ({ readings }) => {
    stats.batches++;
    stats.readings += readings.length;
    for (const r of readings) {
      if (r.dev.startsWith(PROBE_DEV)) send({ event: 'probe', gw: r.gw, seq: r.seq, value: r.value, t: wallNow() });
    }
  });
  const h = hub;
  closeFn = () => h.close();
  return h.mqttPort;
}

process.on('message', (msg: { id: number; cmd: string }) => {
  if (msg.cmd === 'stats') {
    const c = process.cpuUsage();
    const upTo: Record<string, number> = {};
    if (hub) for (const gw of gateways) upTo[gw] = hub.store.upTo(gw);
    const reply: PeerStats = { ...stats, cpuMs: (c.user + c.system) / 1000, t: wallNow(), upTo };
    send({ id: msg.id, ...reply });
  } else if (msg.cmd === 'close') {
    void closeFn().finally(() => {
      send({ id: msg.id, closed: true });
      process.disconnect?.();
      setImmediate(() => process.exit(0));
    });
  }
});
// The parent went away (crash or Ctrl-C): do not linger.
process.on('disconnect', () => process.exit(0));

const port = await (spec.mode === 'raw' ? startRaw() : startRealHub());
const started = hub as Hub | null; // set by startRealHub (TypeScript cannot see it)
send({ event: 'ready', port, ...(started ? { httpPort: started.httpPort } : {}) });
