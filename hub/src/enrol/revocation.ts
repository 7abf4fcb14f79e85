/**
 * Which gateways and certificates are revoked, as the broker asks at every connect. Kept in
 * memory and re-read from hub.db only when SQLite's PRAGMA data_version says another connection
 * committed (`ioc-hub gateway revoke` runs in its own process): checking it costs about a
 * microsecond (measured in hub/test/enrol.test.ts), so it is done at every connect and on a short
 * timer, and a gateway revoked from the command line is cut off within `intervalMs`.
 * The hub's own commits do not change data_version: after a revocation through the API the
 * caller reloads at once (reload()).
 */
import type { Logger } from '@ioc/shared';
import type { EnrolStore } from './store.js';

export interface RevocationListOptions {
  store: EnrolStore;
  logger: Logger;
  /** Called for each gateway found newly revoked (to cut its connection). */
  onRevoked(gateway: string): void;
  /** How often to look for revocations by other processes (default 1000 ms). */
  intervalMs?: number;
}

export class RevocationList {
  private gateways = new Set<string>();
  private serials = new Set<string>();
  private version = Number.NaN;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: RevocationListOptions) {
    this.reload();
  }

  /** True when the gateway, or this certificate of it, is revoked. */
  isRevoked(gateway: string, serial: string | undefined): boolean {
    this.refresh();
    return this.gateways.has(gateway) || (serial !== undefined && this.serials.has(serial));
  }

  /** Re-reads the tables when another connection committed since the last look. */
  refresh(): void {
    let v: number;
    try {
      v = this.opts.store.dataVersion();
    } catch (err) {
      // The database is closing (hub shutdown): keep what we know.
      this.opts.logger.debug({ err }, 'revocation check skipped');
      return;
    }
    if (v !== this.version) this.reload(v);
  }

  /** Re-reads now, and reports gateways revoked since the last read. */
  reload(version?: number): void {
    const first = Number.isNaN(this.version);
    const before = this.gateways;
    this.version = version ?? this.opts.store.dataVersion();
    this.gateways = new Set(this.opts.store.revokedGateways());
    this.serials = new Set(this.opts.store.revokedSerials());
    // At start nobody is connected yet: nothing to cut.
    if (first) return;
    for (const gw of this.gateways) {
      if (before.has(gw)) continue;
      this.opts.logger.warn({ gw }, 'gateway revoked: its connection is closed and it is refused from now on');
      this.opts.onRevoked(gw);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.refresh(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
