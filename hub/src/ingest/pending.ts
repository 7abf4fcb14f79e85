/** A validated telemetry batch on its way from the handler to the group commit. */
import type { TelemetryBatch } from '@ioc/shared';

export interface PendingTelemetry {
  gw: string;
  batch: TelemetryBatch;
  /** process.hrtime.bigint() when the handler got it (ioc_hub_ingest_seconds covers the wait). */
  started: bigint;
}
