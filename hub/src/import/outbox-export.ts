/**
 * `ioc-hub import`: loads a gateway's exported outbox (carried on a USB stick from a site without
 * a link) straight into the store, de-duplicated by (gw, seq) like any batch, so importing a file
 * that overlaps what already arrived over MQTT is harmless. The hub may be running or stopped:
 * SQLite WAL serialises the writers and the running hub re-reads its accounting when it sees the
 * import's commits.
 *
 * Format — JSON lines, UTF-8:
 *   1. header {"kind":"ioc-outbox-export","v":1,"gw":"…","exportedAt":ms, …}
 *   2. then, in any order and mix:
 *      - one reading per line: {"seq":N,"reading":{…Reading}}
 *      - a TelemetryBatch as on ioc/v1/{gw}/telemetry: {"v":1,"gw":"…","seq":[a,b],"readings":[…]}
 *      - a DroppedEvent as on ioc/v1/{gw}/events: {"v":1,"kind":"dropped","ranges":[[a,b]],…}
 * An invalid line is counted and reported (line number and reason) and skipped: its seq stays
 * unaccounted, so the gateway still holds it and will send it. That includes seqs above what the
 * gateway had assigned (`seq_ahead`, ../ingest/seq-ceiling.ts): above the header's lastSeq (the
 * gateway outbox's last seq at export) or a batch's own lastSeq; a dropped range must end at or
 * below the header's lastSeq, or, in a file without one, below the highest seq the hub or the
 * file has shown for the gateway.
 *
 * Imported readings are history: they are stored but do not drive the alert rules (the engine
 * only moves forward in time on the live path).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Type } from '@sinclair/typebox';
import {
  GATEWAY_ID_PATTERN,
  MAX_BATCH_READINGS,
  Reading,
  batchSeqConsistent,
  compile,
  validateGatewayEvent,
  validateTelemetryBatch,
  type Reading as ReadingT,
} from '@ioc/shared';
import type { Registry } from '../config/registry.js';
import { shownInStore } from '../ingest/seq-ceiling.js';
import type { Store } from '../store/types.js';

export const EXPORT_KIND = 'ioc-outbox-export';

const Header = Type.Object({
  kind: Type.Literal(EXPORT_KIND),
  v: Type.Literal(1),
  gw: Type.String({ pattern: GATEWAY_ID_PATTERN }),
  exportedAt: Type.Integer({ minimum: 0 }),
  /** The gateway outbox's last assigned seq at export (every export has it; optional for hand-made files). */
  lastSeq: Type.Optional(Type.Integer({ minimum: 0 })),
});
const Row = Type.Object({ seq: Type.Integer({ minimum: 1 }), reading: Reading }, { additionalProperties: false });
const validateHeader = compile(Header);
const validateRow = compile(Row);

export interface ImportProgress {
  lines: number;
  readings: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  dropped: number;
  invalid: number;
  /** Readings stored as q bad, clock_skew (ts outside the hub's window: hub.yaml ingest). Included in stored. */
  clockSkew: number;
}

export interface ImportSummary extends ImportProgress {
  file: string;
  gw: string;
  exportedAt: number;
  /** The gateway's high-water mark at the hub after the import. */
  upTo: number;
  /** First few invalid lines (line number, reason). */
  invalidLines: Array<{ line: number; reason: string }>;
}

export interface ImportOptions {
  store: Store;
  registry: Registry;
  /** Called every `progressEvery` readings (default 10 000) and at the end. */
  onProgress?: (p: ImportProgress) => void;
  progressEvery?: number;
}

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export async function importOutboxExport(file: string, opts: ImportOptions): Promise<ImportSummary> {
  const { store } = opts;
  const progressEvery = opts.progressEvery ?? 10_000;
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  const p: ImportProgress = { lines: 0, readings: 0, stored: 0, duplicates: 0, quarantined: 0, dropped: 0, invalid: 0, clockSkew: 0 };
  const invalidLines: ImportSummary['invalidLines'] = [];
  let header: { gw: string; exportedAt: number; lastSeq: number | undefined } | undefined;
  /** The highest seq this file has shown (its rows and batches, and their lastSeq). */
  let fileShown = 0;
  /** Why a line's seqs cannot be real yet, or null (../ingest/seq-ceiling.ts). */
  const ahead = (last: number, own?: number): string | null => {
    if (own !== undefined && last > own) return `seq_ahead: seq ${last} is above the batch's own lastSeq ${own}`;
    if (header!.lastSeq !== undefined && last > header!.lastSeq) return `seq_ahead: seq ${last} is above the header's lastSeq ${header!.lastSeq}`;
    return null;
  };
  let nextProgress = progressEvery;

  // Contiguous run of single-reading lines, written as one batch.
  let runFirst = 0;
  let run: ReadingT[] = [];

  const write = (first: number, readings: readonly ReadingT[]) => {
    const r = store.writeBatch(header!.gw, first, readings);
    p.readings += readings.length;
    p.stored += r.stored;
    p.duplicates += r.duplicates;
    p.quarantined += r.quarantined;
    p.clockSkew += r.clockSkew;
    if (p.readings >= nextProgress) {
      nextProgress = p.readings + progressEvery;
      opts.onProgress?.({ ...p });
    }
  };
  const flushRun = () => {
    if (run.length) write(runFirst, run);
    run = [];
  };
  const invalid = (line: number, reason: string) => {
    p.invalid++;
    if (invalidLines.length < 20) invalidLines.push({ line, reason: reason.slice(0, 300) });
  };

  try {
    for await (const text of lines) {
      p.lines++;
      const n = p.lines;
      if (!text.trim()) continue;
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        if (!header) throw new ImportError(`${file}: line 1 is not JSON (not an ${EXPORT_KIND} file): ${(err as Error).message}`);
        invalid(n, `malformed JSON: ${(err as Error).message}`);
        continue;
      }
      if (!header) {
        if (!validateHeader(doc)) throw new ImportError(`${file}: line 1 is not an ${EXPORT_KIND} v1 header: ${validateHeader.lastError()}`);
        if (!opts.registry.gateways.has(doc.gw)) {
          throw new ImportError(`${file}: gateway "${doc.gw}" is not in the hub registry (registry.gateways)`);
        }
        header = { gw: doc.gw, exportedAt: doc.exportedAt, lastSeq: doc.lastSeq };
        continue;
      }
      const o = doc as Record<string, unknown>;
      if (o && typeof o === 'object' && 'reading' in o) {
        if (!validateRow(doc)) {
          invalid(n, `row: ${validateRow.lastError()}`);
          continue;
        }
        const why = ahead(doc.seq);
        if (why) {
          invalid(n, `row: ${why}`);
          continue;
        }
        if (doc.seq > fileShown) fileShown = doc.seq;
        if (run.length && (doc.seq !== runFirst + run.length || run.length >= MAX_BATCH_READINGS)) flushRun();
        if (!run.length) runFirst = doc.seq;
        run.push(doc.reading);
      } else if (o && typeof o === 'object' && 'readings' in o) {
        if (!validateTelemetryBatch(doc)) {
          invalid(n, `batch: ${validateTelemetryBatch.lastError()}`);
          continue;
        }
        if (doc.gw !== header.gw) {
          invalid(n, `batch gw "${doc.gw}" differs from the header's "${header.gw}"`);
          continue;
        }
        if (!batchSeqConsistent(doc)) {
          invalid(n, `batch seq [${doc.seq[0]}, ${doc.seq[1]}] does not match ${doc.readings.length} readings`);
          continue;
        }
        const why = ahead(doc.seq[1], doc.lastSeq);
        if (why) {
          invalid(n, `batch: ${why}`);
          continue;
        }
        fileShown = Math.max(fileShown, doc.seq[1], doc.lastSeq ?? 0);
        flushRun();
        write(doc.seq[0], doc.readings);
      } else {
        if (!validateGatewayEvent(doc)) {
          invalid(n, `not a reading row, batch or event: ${validateGatewayEvent.lastError()}`);
          continue;
        }
        flushRun();
        if (doc.kind === 'dropped') {
          if (doc.ranges.some(([a, b]) => b < a)) {
            invalid(n, 'dropped range ends before it starts');
            continue;
          }
          const ceiling = header.lastSeq ?? Math.max(fileShown, shownInStore(store, header.gw));
          const over = doc.ranges.find(([, b]) => b > ceiling);
          if (over) {
            invalid(n, `seq_ahead: dropped range [${over[0]}, ${over[1]}] is above the gateway's lastSeq ${ceiling}`);
            continue;
          }
          p.dropped += store.markDropped(header.gw, doc.ranges, doc.reason).dropped;
        } else {
          store.addDeviceEvent(header.gw, doc, Date.now());
        }
      }
    }
    if (!header) throw new ImportError(`${file}: empty file (no ${EXPORT_KIND} header)`);
    flushRun();
  } finally {
    lines.close();
    input.destroy();
  }
  opts.onProgress?.({ ...p });
  return { file, gw: header.gw, exportedAt: header.exportedAt, upTo: store.upTo(header.gw), invalidLines, ...p };
}
