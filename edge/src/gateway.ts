/**
 * The gateway process: drivers → normalizer → outbox (SQLite) → uplink. Every reading a driver
 * emits is written to the outbox before emit() returns; the uplink only ever reads from there.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDirLock, ConfigError, metricDef, type DeviceProfile, type DirLock, type Logger, type Reading } from '@ioc/shared';
import type { EdgeConfig, DeviceConfig } from './config/schema.js';
import { loadProfiles } from './config/profiles.js';
import { driverFactories } from './drivers/index.js';
import { CertRenewer } from './enroll/renew.js';
import type { Driver } from './drivers/types.js';
import { Outbox, OutboxGroupWriter } from './outbox/index.js';
import { WriteFailures } from './outbox/write-failures.js';
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

/** What applying a new device list did (see Gateway.applyConfig). */
export interface ApplyResult {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
  /** Top-level config sections that differ from the running ones and take effect only at restart. */
  restartNeeded: string[];
}

/** Sections a running gateway cannot change under its outbox and uplink. */
const RESTART_SECTIONS = ['gateway', 'uplink', 'outbox', 'log'] as const;

interface RunningDriver {
  driver: Driver;
  /** The device entry and its profile as started, to tell a changed device from an unchanged one. */
  key: string;
}

function alertingSet(device: DeviceConfig, profile: DeviceProfile): Set<string> {
  if (device.alertMetrics) return new Set(device.alertMetrics);
  return new Set(profile.points.map((p) => p.metric).filter((m) => metricDef(m)?.alerting));
}

export class Gateway {
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  /** Renews the client certificate over the link before it expires (./enroll/renew.ts). */
  readonly renewer: CertRenewer;
  private readonly drivers = new Map<string, RunningDriver>();
  private config: EdgeConfig;
  private readonly now: () => number;
  /** Applies run one after another: a second SIGHUP waits for the first. */
  private applying: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopping = false;
  private readonly log: Logger;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly writer: OutboxGroupWriter;
  /** This gateway's hold on its data directory (one instance per outbox), released by stop(). */
  private readonly lock: DirLock;
  /** Failed outbox writes: counted, reported to the hub in the status, logged without flooding. */
  private readonly writeFailures: WriteFailures;
  /** writePolls / writeGroups: polls per outbox transaction (per fsync with FULL). */
  private readonly counters = { readings: 0, appendErrors: 0, writeGroups: 0, writePolls: 0 };

  constructor(private readonly opts: GatewayOptions) {
    const { config } = opts;
    this.config = config;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    const profiles = loadProfiles(config.profilesDir);
    const devices = resolveDevices(config, profiles);
    mkdirSync(config.gateway.dataDir, { recursive: true });
    // Before the outbox is opened: a second gateway on this folder is refused having touched nothing.
    this.lock = acquireDirLock(config.gateway.dataDir, 'ioc-edge');
    try {
      this.outbox = Outbox.open({
        path: outboxPath(config),
        synchronous: config.outbox.synchronous,
        maxRows: config.outbox.maxRows,
        maxBytes: config.outbox.maxBytes,
        maxAgeMs: config.outbox.maxAgeHours * 3_600_000,
        // Drops and a cap held only by alerting rows are logged, not only counted.
        logger: this.log.child({ part: 'outbox' }),
      });
    } catch (err) {
      this.lock.release();
      throw err;
    }
    try {
      // The hub hears of a failing disk with the next status, not up to statusIntervalMs later.
      this.writeFailures = new WriteFailures(this.log.child({ part: 'outbox' }), { now: this.now, onLogged: () => this.uplink.publishStatus() });
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
        drivers: () => [...this.drivers.values()].map((d) => d.driver.health()),
        outboxWrites: () => this.writeFailures.health(),
      });
      this.renewer = new CertRenewer({ gatewayId: config.gateway.id, config: config.uplink, uplink: this.uplink, logger: this.log.child({ part: 'cert' }) });
      for (const { device, profile } of devices) {
        if (device.enabled) this.drivers.set(device.id, this.createDriver(device, profile));
      }
    } catch (err) {
      this.outbox.close();
      this.lock.release();
      throw err;
    }
  }

  private createDriver(device: DeviceConfig, profile: DeviceProfile): RunningDriver {
    const factory = driverFactories[device.driver];
    if (!factory) throw new ConfigError('edge.yaml', `devices: no driver "${device.driver}"`);
    const alerting = alertingSet(device, profile);
    const driverLog = this.log.child({ dev: device.id, driver: device.driver });
    const driver = factory(device, profile, {
      logger: driverLog,
      now: this.now,
      emit: (readings) => this.append(readings, alerting),
    });
    return { driver, key: JSON.stringify([device, profile]) };
  }

  /**
   * Applies a new config's device list to the running gateway: drivers of removed or changed
   * devices stop (a poll in flight is still committed), new and changed ones start, unchanged ones
   * keep polling. The outbox and the uplink are never touched — nothing buffered is cleared,
   * recreated or held up, and seqs go on. A config that does not validate (bad profile, duplicate
   * id, …) throws a ConfigError and changes nothing. Sections other than the device list take
   * effect at the next restart; they are named in `restartNeeded`.
   */
  applyConfig(next: EdgeConfig, file = 'edge.yaml'): Promise<ApplyResult> {
    const run = this.applying.then(() => this.applyNow(next, file));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(next: EdgeConfig, file: string): Promise<ApplyResult> {
    if (this.stopping) throw new Error('the gateway is stopping; the device list was not applied');
    const wanted = new Map<string, RunningDriver>();
    for (const { device, profile } of resolveDevices(next, loadProfiles(next.profilesDir), file)) {
      if (!device.enabled) continue;
      const key = JSON.stringify([device, profile]);
      const running = this.drivers.get(device.id);
      wanted.set(device.id, running?.key === key ? running : this.createDriver(device, profile));
    }
    const result: ApplyResult = { added: [], removed: [], changed: [], unchanged: 0, restartNeeded: [] };
    const stopping: Driver[] = [];
    for (const [id, running] of this.drivers) {
      const keep = wanted.get(id);
      if (keep === running) result.unchanged++;
      else {
        (keep ? result.changed : result.removed).push(id);
        stopping.push(running.driver);
      }
    }
    for (const id of wanted.keys()) if (!this.drivers.has(id)) result.added.push(id);
    // Added and changed devices: the drivers created above rather than kept.
    const starting = [...wanted].filter(([id, r]) => this.drivers.get(id) !== r).map(([, r]) => r.driver);
    for (const section of RESTART_SECTIONS) {
      if (JSON.stringify(next[section]) !== JSON.stringify(this.config[section])) result.restartNeeded.push(section);
    }

    // Old drivers stop first, so a changed device is never polled by two drivers at once.
    await Promise.allSettled(stopping.map((d) => d.stop()));
    this.drivers.clear();
    for (const [id, running] of wanted) this.drivers.set(id, running);
    this.config = { ...this.config, profilesDir: next.profilesDir, devices: next.devices };
    if (this.started) await Promise.all(starting.map((d) => d.start()));
    this.log.info({ ...result, devices: this.drivers.size }, 'device list applied; the outbox was not touched');
    if (result.restartNeeded.length) {
      this.log.warn({ sections: result.restartNeeded }, 'these config sections changed and take effect only when the gateway restarts');
    }
    this.writeStatusFile();
    this.uplink.publishStatus();
    return result;
  }

  /**
   * Writes one poll to the outbox, grouped with the polls of other drivers that arrive in the same
   * event-loop turn; resolves once committed (then the readings survive a crash). Never rejects.
   */
  private async append(readings: Reading[], alerting: Set<string>): Promise<void> {
    if (readings.length === 0) return;
    try {
      await this.writer.write(readings, readings.map((r) => alerting.has(r.metric)));
      this.counters.readings += readings.length;
      this.writeFailures.succeeded();
    } catch (err) {
      // A full or failing disk must not kill the drivers; the loss is counted, sent to the hub in
      // the status and logged (rate-limited: it fails every poll of every device).
      this.counters.appendErrors++;
      this.writeFailures.failed(err, readings.length);
    }
  }

  async start(): Promise<void> {
    this.started = true;
    this.renewer.recover();
    this.uplink.start();
    this.renewer.start();
    await Promise.all([...this.drivers.values()].map((d) => d.driver.start()));
    this.writeStatusFile();
    this.statusTimer = setInterval(() => this.writeStatusFile(), 2000);
    this.statusTimer.unref();
    this.log.info({ gw: this.config.gateway.id, devices: this.drivers.size, outbox: this.outbox.stats() }, 'gateway started');
  }

  /** Drivers first (no new readings), then the uplink (status offline), then the outbox. */
  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.stopping = true;
    await this.applying;
    await Promise.allSettled([...this.drivers.values()].map((d) => d.driver.stop()));
    this.writer.flush();
    this.renewer.stop();
    await this.uplink.stop();
    this.writeStatusFile();
    this.outbox.close();
    this.lock.release();
  }

  status() {
    return { ...this.uplink.buildStatus(), counters: { ...this.counters, ...this.uplink.counters() } };
  }

  private writeStatusFile(): void {
    const file = statusFilePath(this.config);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(this.status()));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ err }, 'cannot write status file');
    }
  }
}
