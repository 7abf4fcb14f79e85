/**
 * Technical problems a gateway reports about itself that lose or endanger data and that nobody at
 * the hub would otherwise see: outbox writes failing (disk full or failing: those polls are lost
 * and, having no seq, leave no gap the hub could notice) and an outbox over its cap (only alerting
 * rows are left, which are never dropped, so it grows until the link returns or the disk is full).
 *
 * Until the alert engine has technical rules, a problem is shown in the gateway's view
 * (`gatewayProblems`), as metrics, as a gateway event in device_events when it starts, and in the
 * log at error level (see ingest/handlers/status.ts). Derived from the last status alone: no
 * state of its own, so it survives a hub restart and follows the gateway's own figures.
 */
import type { Status } from '@ioc/shared';

export type GatewayProblemKind = 'outbox_write_failed' | 'outbox_over_cap';

export interface GatewayProblem {
  problem: GatewayProblemKind;
  /** One line for the watch desk and the technician: what happens and what to check. */
  message: string;
  /** When the gateway last saw it (epoch ms, gateway clock). */
  lastAt: number | null;
  detail: Record<string, number | string | null>;
}

/**
 * A write failure counts as a current problem until this long after the last one. The gateway's
 * counter only grows (until it restarts); without this a disk that was full for a minute last
 * week would be shown as a problem forever.
 */
export const WRITE_FAILURE_CURRENT_MS = 10 * 60_000;

export function gatewayProblems(status: Status | null | undefined): GatewayProblem[] {
  const o = status?.outbox;
  if (!o) return [];
  const out: GatewayProblem[] = [];
  const last = o.lastWriteError;
  const at = status.ts ?? last?.ts ?? 0;
  if (o.writeFailures && last && at - last.ts < WRITE_FAILURE_CURRENT_MS) {
    out.push({
      problem: 'outbox_write_failed',
      message:
        `${o.writeFailures} poll(s), ${o.writeFailedReadings ?? '?'} reading(s), could not be written to the gateway's outbox and are lost ` +
        `(${last.code ?? 'error'}: ${last.message}); check the gateway's free disk space and storage`,
      lastAt: last.ts,
      detail: { writeFailures: o.writeFailures, writeFailedReadings: o.writeFailedReadings ?? null, code: last.code ?? null, error: last.message },
    });
  }
  if (o.overCap) {
    const c = o.overCap;
    out.push({
      problem: 'outbox_over_cap',
      message:
        `the outbox is ${c.rows} row(s) / ${c.bytes} byte(s) over its cap (maxRows ${c.maxRows}, maxBytes ${c.maxBytes}) with only alerting readings left, ` +
        'which are never dropped: it grows until the link to the hub returns or the gateway\'s disk is full',
      lastAt: status.ts ?? null,
      detail: { rows: c.rows, bytes: c.bytes, maxRows: c.maxRows, maxBytes: c.maxBytes, depth: o.depth },
    });
  }
  return out;
}
