/**
 * Live feed of what the hub stores and decides, for the watch desk's WebSocket stream and other
 * in-process listeners. Emitted after the data is committed.
 */
import { EventEmitter } from 'node:events';
import type { DeviceEvent, Logger } from '@ioc/shared';
import type { AlertChange } from './alerts/types.js';
import type { GatewayState, StoredReading } from './store/types.js';

export interface LiveEvents {
  /** Newly stored readings of one batch, in seq order. */
  readings: [{ gw: string; readings: StoredReading[] }];
  /** Alert episode changes (also on the alert engine's "change" event). */
  alert: [AlertChange];
  status: [GatewayState];
  event: [{ gw: string; event: DeviceEvent }];
}

export class LiveFeed extends EventEmitter<LiveEvents> {
  constructor(private readonly logger?: Logger) {
    super();
    // Many WebSocket clients may listen; a leak warning at 10 would be noise.
    this.setMaxListeners(0);
  }

  /** Emits without letting a failing listener reach the caller (the ingest path). */
  publish<K extends keyof LiveEvents>(event: K, ...args: LiveEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.logger?.error({ err, event }, 'live feed listener failed');
    }
  }
}
