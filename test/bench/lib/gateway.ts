/**
 * The gateway side of a benchmark, in the bench process: the real Outbox and Uplink, configured
 * with the schema's defaults (so the benches measure what ships) plus whatever a sweep overrides.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { compile, createLogger, type Logger, type PkiPaths } from '@ioc/shared';
import { OutboxConfig, UplinkConfig } from '../../../edge/src/config/schema.js';
import { Outbox } from '../../../edge/src/outbox/index.js';
import { Uplink } from '../../../edge/src/uplink/index.js';

const fillUplinkDefaults = compile(UplinkConfig);

export const benchLogger: Logger = createLogger({ name: 'bench-gw', level: process.env.BENCH_GW_LOG ?? 'warn' });

/** UplinkConfig with every default the schema gives, then `over`. */
export function uplinkConfig(port: number, pki: PkiPaths, gw: string, over: Partial<UplinkConfig> = {}): UplinkConfig {
  const c = pki.client(gw);
  const cfg: Record<string, unknown> = { url: `mqtts://localhost:${port}`, ca: pki.caCert, cert: c.cert, key: c.key };
  if (!fillUplinkDefaults(cfg)) throw new Error(`uplink config: ${fillUplinkDefaults.lastError()}`);
  return { ...(cfg as UplinkConfig), ...over };
}

/** The shipped defaults (for the tables: "default" marks). */
export const DEFAULTS = (() => {
  const cfg: Record<string, unknown> = { url: 'mqtts://x:1', ca: '', cert: '', key: '' };
  fillUplinkDefaults(cfg);
  return cfg as UplinkConfig;
})();

/** The outbox's shipped synchronous mode (edge.yaml default). */
export const SHIPPED_SYNC: 'NORMAL' | 'FULL' = (() => {
  const cfg: Record<string, unknown> = {};
  compile(OutboxConfig)(cfg);
  return (cfg as OutboxConfig).synchronous;
})();

export interface BenchGateway {
  outbox: Outbox;
  uplink: Uplink;
  /** Starts the uplink and resolves on its first 'connect' (ack subscribed, lanes planned). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export function openGateway(opts: {
  dir: string;
  port: number;
  pki: PkiPaths;
  gw: string;
  uplink?: Partial<UplinkConfig>;
  synchronous?: 'NORMAL' | 'FULL';
}): BenchGateway {
  const outbox = Outbox.open({ path: join(opts.dir, 'outbox.db'), synchronous: opts.synchronous ?? SHIPPED_SYNC });
  const uplink = new Uplink({
    gatewayId: opts.gw,
    config: uplinkConfig(opts.port, opts.pki, opts.gw, { statusIntervalMs: 60_000, ...opts.uplink }),
    outbox,
    logger: benchLogger,
    version: 'bench',
    drivers: () => [],
  });
  return {
    outbox,
    uplink,
    async connect() {
      const connected = once(uplink, 'connect');
      uplink.start();
      await connected;
    },
    async close() {
      await uplink.stop();
      outbox.close();
    },
  };
}
