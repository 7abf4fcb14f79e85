import type { OutboxHealth } from '@ioc/shared';

interface StatusReport {
  gateway: string;
  hub: string;
  outbox: OutboxHealth | null;
  lastStatus: {
    ts?: number;
    link?: string;
    drivers?: Array<{ dev: string; state: string; lastError?: string }>;
    online?: boolean;
    /** The running gateway's own figures: write failures are known only to the process that saw them. */
    outbox?: Pick<OutboxHealth, 'writeFailures' | 'writeFailedReadings' | 'lastWriteError'>;
    counters?: { appendErrors?: number; writeGroups?: number; writePolls?: number };
  } | null;
}

function age(s: number): string {
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Plain text for a technician's terminal: the facts that answer "is the uplink working?". */
export function formatStatus(r: StatusReport): string {
  const lines = [`gateway ${r.gateway} → ${r.hub}`];
  const st = r.lastStatus;
  const fresh = st?.ts !== undefined && Date.now() - st.ts < 10_000;
  lines.push(`  process:   ${fresh ? 'running' : 'not running (status file older than 10 s or missing)'}`);
  if (st?.link) lines.push(`  link:      ${st.link}`);
  if (r.outbox) {
    const o = r.outbox;
    lines.push(`  outbox:    ${o.depth} unsent, oldest ${age(o.oldestUnsentAgeS)}, ${(o.bytes / 1024).toFixed(0)} KiB`);
    lines.push(`  seq:       last ${o.lastSeq}, acknowledged by hub up to ${o.ackedUpTo}`);
    lines.push(`  last ack:  ${o.lastAckTs ? new Date(o.lastAckTs).toISOString() : 'never'}`);
    lines.push(`  dropped:   ${o.dropped}${o.dropped > 0 ? ' (disk cap; reported to the hub)' : ''}`);
    if (o.overCap) {
      const c = o.overCap;
      lines.push(
        `  over cap:  ${c.rows} row(s), ${(c.bytes / 1024).toFixed(0)} KiB above outbox.maxRows ${c.maxRows} / maxBytes ${c.maxBytes}: ` +
          'only alerting readings are left and they are never dropped, so the outbox grows until the link returns — watch the free disk space',
      );
    }
  } else {
    lines.push('  outbox:    none yet');
  }
  const failed = st?.counters?.appendErrors ?? 0;
  if (failed > 0) {
    const last = st?.outbox?.lastWriteError;
    lines.push(`  storage:   ${failed} poll(s) could not be written to the outbox and are lost — check free disk space and the log`);
    if (last) lines.push(`  last fail: ${new Date(last.ts).toISOString()} ${last.code ?? ''} ${last.message}`.trimEnd());
  }
  for (const d of st?.drivers ?? []) lines.push(`  device ${d.dev}: ${d.state}${d.lastError ? ` — ${d.lastError}` : ''}`);
  return lines.join('\n');
}
