/**
 * The gateway process: drivers → normalizer → outbox (SQLite) → uplink. Every reading a driver
 * emits is written to the outbox before emit() returns; the uplink only ever reads from there.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, metricDef, type DeviceProfile, type Logger, type Reading } from '@ioc/shared';
import type { EdgeConfig, DeviceConfig } from './config/schema.js';
import { loadProfiles } from './config/profiles.js';
import { driverFactories } from './drivers/index.js';
import type { Driver } from './drivers/types.js';
import { Outbox, OutboxGroupWriter } from './outbox/index.js';
import { Uplink } from './uplink/index.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  config: EdgeConfig;
  logger: Logger;
  now?: () => number;
}

export function outboxPath(config: EdgeConfig): string {
  return join(config.gateway.dataDir, 'outbox.db');
}

/** Where the running gateway leaves its last status for `ioc-edge status` to read. */
export function statusFilePath(config: EdgeConfig): string {
  return join(config.gateway.dataDir, 'status.json');
}

/** Checks the device list against the profiles before anything starts: fail fast, name the key. */
export function resolveDevices(config: EdgeConfig, profiles: Map<string, DeviceProfile>, file = 'edge.yaml') {
  const seen = new Set<string>();
  return config.devices.map((device, i) => {
    if (seen.has(device.id)) throw new ConfigError(file, `devices.${i}.id: duplicate device id "${device.id}"`);
    seen.add(device.id);
    const profile = profiles.get(device.profile);
    if (!profile) {
      const known = [...profiles.keys()].join(', ') || 'none';
      throw new ConfigError(file, `devices.${i}.profile: no profile "${device.profile}" in ${config.profilesDir} (known: ${known})`);
    }
    if (profile.protocol !== device.driver) {
      throw new ConfigError(file, `devices.${i}.driver: profile "${profile.model}" speaks ${profile.protocol}, not ${device.driver}`);
    }
    for (const m of device.alertMetrics ?? []) {
      if (!metricDef(m)) throw new ConfigError(file, `devices.${i}.alertMetrics: unknown metric "${m}"`);
    }
    return { device, profile };
  });
}

function alertingSet(device: DeviceConfig, profile: DeviceProfile): Set<string> {
  if (device.alertMetrics) return new Set(device.alertMetrics);
  return new Set(profile.points.map((p) => p.metric).filter((m) => metricDef(m)?.alerting));
}

export class Gateway {
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  private readonly drivers: Driver[] = [];
  private readonly log: Logger;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly writer: OutboxGroupWriter;
  /** writePolls / writeGroups: polls per outbox transaction (per fsync with FULL). */
  private readonly counters = { readings: 0, appendErrors: 0, writeGroups: 0, writePolls: 0 };

  constructor(private readonly opts: GatewayOptions) {
    const { config } = opts;
    this.log = opts.logger;
    const profiles = loadProfiles(config.profilesDir);
    const devices = resolveDevices(config, profiles);
    mkdirSync(config.gateway.dataDir, { recursive: true });
    this.outbox = Outbox.open({
      path: outboxPath(config),
      synchronous: config.outbox.synchronous,
      maxRows: config.outbox.maxRows,
      maxBytes: config.outbox.maxBytes,
      maxAgeMs: config.outbox.maxAgeHours * 3_600_000,
      // Drops and a cap held only by alerting rows are logged, not only counted.
      logger: this.log.child({ part: 'outbox' }),
    });
    this.writer = new OutboxGroupWriter(this.outbox, {
      onCommit: (_range, polls) => {
        this.counters.writeGroups++;
        this.counters.writePolls += polls;
        this.uplink.notify();
      },
    });
    this.uplink = new Uplink({
      gatewayId: config.gateway.id,
      config: config.uplink,
      outbox: this.outbox,
      logger: this.log.child({ part: 'uplink' }),
      version: VERSION,
      drivers: () => this.drivers.map((d) => d.health()),
    });
    const now = opts.now ?? Date.now;
    for (const { device, profile } of devices) {
      if (!device.enabled) continue;
      const factory = driverFactories[device.driver];
      if (!factory) throw new ConfigError('edge.yaml', `devices: no driver "${device.driver}"`);
      const alerting = alertingSet(device, profile);
      const driverLog = this.log.child({ dev: device.id, driver: device.driver });
      this.drivers.push(
        factory(device, profile, {
          logger: driverLog,
          now,
          emit: (readings) => this.append(readings, alerting, driverLog),
        }),
      );
    }
  }

  /**
   * Writes one poll to the outbox, grouped with the polls of other drivers that arrive in the same
   * event-loop turn; resolves once committed (then the readings survive a crash). Never rejects.
   */
  private async append(readings: Reading[], alerting: Set<string>, log: Logger): Promise<void> {
    if (readings.length === 0) return;
    try {
      await this.writer.write(readings, readings.map((r) => alerting.has(r.metric)));
      this.counters.readings += readings.length;
    } catch (err) {
      // A full or failing disk must not kill the drivers; the error is counted and visible in status.
      this.counters.appendErrors++;
      log.error({ err }, 'outbox write failed; readings of this poll are lost');
    }
  }

  async start(): Promise<void> {
    this.uplink.start();
    await Promise.all(this.drivers.map((d) => d.start()));
    this.writeStatusFile();
    this.statusTimer = setInterval(() => this.writeStatusFile(), 2000);
    this.statusTimer.unref();
    this.log.info({ gw: this.opts.config.gateway.id, devices: this.drivers.length, outbox: this.outbox.stats() }, 'gateway started');
  }

  /** Drivers first (no new readings), then the uplink (status offline), then the outbox. */
  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    await Promise.allSettled(this.drivers.map((d) => d.stop()));
    this.writer.flush();
    await this.uplink.stop();
    this.writeStatusFile();
    this.outbox.close();
  }

  status() {
    return { ...this.uplink.buildStatus(), counters: { ...this.counters, ...this.uplink.counters() } };
  }

  private writeStatusFile(): void {
    const file = statusFilePath(this.opts.config);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(this.status()));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ err }, 'cannot write status file');
    }
  }
}
