/**
 * Live feed of what the hub stores and decides, for the watch desk's WebSocket stream and other
 * in-process listeners. Emitted after the data is committed.
 *
 * Every publication gets the next id of ONE sequence for all kinds, and is kept for a while
 * (./live-history.ts), so a stream client resumes after a reconnect with exactly what it missed.
 */
import { EventEmitter } from 'node:events';
import type { DeviceEvent, Logger } from '@ioc/shared';
import type { AlertChange } from './alerts/types.js';
import { DEFAULT_HISTORY_BOUNDS, LiveHistory, type HistoryBounds } from './live-history.js';
import type { GatewayState, StoredReading } from './store/types.js';

export interface LivePayloads {
  /** Newly stored readings of one batch, in seq order. */
  readings: { gw: string; readings: StoredReading[] };
  /** Alert episode changes (also on the alert engine's "change" event). */
  alert: AlertChange;
  status: GatewayState;
  event: { gw: string; event: DeviceEvent };
}

export type LiveKind = keyof LivePayloads;
export const LIVE_KINDS: readonly LiveKind[] = ['readings', 'alert', 'status', 'event'];

/** One publication, as kept in the history. */
export interface LiveEntry<K extends LiveKind = LiveKind> {
  id: number;
  at: number;
  kind: K;
  data: LivePayloads[K];
  items: number;
}

/** Each kind's listeners get the payload and its id; "entry" listeners get every publication. */
export type LiveEvents = { [K in LiveKind]: [LivePayloads[K], number] } & { entry: [LiveEntry] };

export interface LiveFeedOptions {
  history?: Partial<HistoryBounds>;
  now?: () => number;
  /**
   * Id before the first publication. Default: the start time in microseconds, so ids keep
   * increasing across restarts and a client's `since` from an earlier run is always older than
   * anything this run holds (it gets a reset, never another run's messages under the same ids).
   */
  startId?: number;
}

export class LiveFeed extends EventEmitter<LiveEvents> {
  readonly history: LiveHistory<LiveEntry>;
  private last = 0;
  private readonly now: () => number;

  constructor(
    private readonly logger?: Logger,
    opts: LiveFeedOptions = {},
  ) {
    super();
    // Many WebSocket clients may listen; a leak warning at 10 would be noise.
    this.setMaxListeners(0);
    this.now = opts.now ?? Date.now;
    this.history = new LiveHistory({ ...DEFAULT_HISTORY_BOUNDS, ...opts.history }, this.now);
    this.last = opts.startId ?? this.now() * 1000;
  }

  /** Id of the last publication (0 before the first). */
  get lastId(): number {
    return this.last;
  }

  /**
   * Numbers, keeps and emits one publication; returns its id. A failing listener never reaches the
   * caller (the ingest path).
   */
  publish<K extends LiveKind>(kind: K, data: LivePayloads[K]): number {
    const entry: LiveEntry<K> = { id: ++this.last, at: this.now(), kind, data, items: kind === 'readings' ? (data as LivePayloads['readings']).readings.length : 1 };
    this.history.append(entry as unknown as LiveEntry);
    this.emitSafely(kind, data, entry.id);
    this.emitSafely('entry', entry);
    return entry.id;
  }

  private emitSafely(event: string, ...args: unknown[]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.logger?.error({ err, event }, 'live feed listener failed');
    }
  }
}
