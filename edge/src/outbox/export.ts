/**
 * `ioc-edge export`: writes the unacknowledged part of an outbox to a file a hub can import.
 *
 * Format — JSON lines, UTF-8, one JSON object per line:
 *   1. header: {"kind":"ioc-outbox-export","v":1,"gw":"…","exportedAt":ms,"rows":n,"ackedUpTo":a,"lastSeq":l}
 *   2. zero or more `TelemetryBatch` lines exactly as on `ioc/v1/{gw}/telemetry` (lane "backlog"):
 *      contiguous seq runs, readings[i] has seq first + i, at most `batchSize` readings each
 *   3. zero or more `DroppedEvent` lines ({"v":1,"kind":"dropped",…}) as on `ioc/v1/{gw}/events`
 * An importer validates each line with the shared schemas (validateTelemetryBatch /
 * validateGatewayEvent) and feeds it to the same ingest handlers as live MQTT traffic; the hub's
 * (gw, seq) dedup makes importing an export that overlaps what already arrived harmless.
 * The file is written to `{file}.tmp`, fsynced, then renamed: a partial export never looks complete.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { batchPrefix, droppedPayload, telemetryPayload } from '../uplink/payload.js';
import type { PendingDrop } from './drops.js';

export const EXPORT_KIND = 'ioc-outbox-export';
export const EXPORT_VERSION = 1;

export interface ExportOptions {
  /** Gateway id: goes into the header and every batch. */
  gw: string;
  /** Readings per batch line (default 500). */
  batchSize?: number | undefined;
  /** Called after each batch line with rows written so far and the total. */
  onProgress?: ((written: number, total: number) => void) | undefined;
}

export interface ExportSource {
  /** Unacknowledged rows in ascending seq order: [seq, body]. */
  rows: Iterable<[number, string]>;
  total: number;
  drops: PendingDrop[];
  ackedUpTo: number;
  lastSeq: number;
  now: number;
}

/** Returns the number of rows written. */
export function writeExportFile(file: string, src: ExportSource, opts: ExportOptions): number {
  const prefix = batchPrefix(opts.gw);
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  let pending = '';
  const flush = (force: boolean): void => {
    if (pending.length > 0 && (force || pending.length >= 1 << 20)) {
      writeSync(fd, pending);
      pending = '';
    }
  };
  let written = 0;
  try {
    pending += JSON.stringify({
      kind: EXPORT_KIND, v: EXPORT_VERSION, gw: opts.gw, exportedAt: src.now,
      rows: src.total, ackedUpTo: src.ackedUpTo, lastSeq: src.lastSeq,
    }) + '\n';
    let first = 0;
    let prev = 0;
    let bodies: string[] = [];
    const emit = (): void => {
      pending += telemetryPayload(prefix, first, prev, 'backlog', bodies, src.lastSeq) + '\n';
      written += bodies.length;
      bodies = [];
      flush(false);
      opts.onProgress?.(written, src.total);
    };
    for (const [seq, body] of src.rows) {
      if (bodies.length > 0 && (seq !== prev + 1 || bodies.length >= batchSize)) emit();
      if (bodies.length === 0) first = seq;
      bodies.push(body);
      prev = seq;
    }
    if (bodies.length > 0) emit();
    for (const d of src.drops) pending += droppedPayload(d) + '\n';
    flush(true);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  return written;
}
