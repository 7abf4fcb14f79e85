/** What every ingest handler gets: the store, the rules, the way back to the gateway, counters. */
import type { Logger } from '@ioc/shared';
import type { AlertEngine } from '../alerts/engine.js';
import type { Registry } from '../config/registry.js';
import type { LiveFeed } from '../live.js';
import type { StorageHealth } from '../health/storage.js';
import type { HubMetrics } from '../metrics.js';
import type { Store } from '../store/types.js';
import type { RateLimitedLog } from '../util/rate-limited-log.js';
import type { PendingTelemetry } from './pending.js';
import type { SeqCeiling } from './seq-ceiling.js';

/** Bounded label set of ioc_hub_rejected_total. */
export type RejectReason =
  | 'malformed_json'
  | 'schema'
  | 'seq_mismatch'
  | 'gw_mismatch'
  | 'oversize'
  | 'unknown_gateway'
  | 'unknown_topic'
  | 'invalid_range'
  | 'seq_ahead'
  | 'store_error'
  | 'internal_error';

export interface IngestContext {
  store: Store;
  registry: Registry;
  alerts: AlertEngine;
  live: LiveFeed;
  metrics: HubMetrics;
  logger: Logger;
  maxPayloadBytes: number;
  /** Told of every failed and successful commit: a full disk makes the hub report itself degraded. */
  storage?: Pick<StorageHealth, 'writeFailed' | 'writeSucceeded'> | undefined;
  /** The highest seq each gateway has shown (./seq-ceiling.ts): ranges above it are refused. */
  seqCeiling: SeqCeiling;
  now(): number;
  /** Logs at most a few lines per key and interval (a misbehaving gateway cannot flood the log). */
  logLimited: RateLimitedLog;
  /** Counts and logs (rate-limited) a refused message; the process carries on. */
  reject(reason: RejectReason, gw: string | null, detail: string): void;
  /** Publishes `{upTo}` QoS 1 to ioc/v1/{gw}/ack. Call only after the state it reports is committed. */
  publishAck(gw: string, upTo: number): void;
  /**
   * Queues a validated telemetry batch for the group commit (./group-queue.ts): a batch that may
   * change an alert at once, routine ones grouped once input pauses.
   */
  enqueueTelemetry(p: PendingTelemetry): void;
  /** Writes (and acknowledges) the queued telemetry batches now. */
  flushTelemetry(): void;
  /** True once close() was called: nothing more is handled. */
  readonly closed: boolean;
  /**
   * For shutdown, after the broker has closed its listener and client connections: commits the
   * queued telemetry batches (without acks: their clients are gone; a gateway learns upTo when it
   * reconnects), then drops whatever is still delivered, unhandled and unacknowledged (the
   * gateway resends it). The store is not used after this returns.
   */
  close(): void;
}
