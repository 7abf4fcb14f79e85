/** The audit log in hub.db (table audit_log, ../db/schema/audit.ts). */
import type { HubDatabase } from '../db/database.js';
import { chainHash, GENESIS, sameHash } from './chain.js';
import type { AuditEntry, AuditFilter, AuditInput, AuditLog, AuditVerifyResult } from './types.js';

type Row = Record<string, unknown>;

const parse = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(v as string));

function fromRow(r: Row): AuditEntry {
  return {
    seq: r.seq as number,
    ts: r.ts as number,
    actor: r.actor as string,
    action: r.action as string,
    target: (r.target as string | null) ?? null,
    summary: (r.summary as string | null) ?? null,
    before: parse(r.before),
    after: parse(r.after),
    ip: (r.ip as string | null) ?? null,
    outcome: r.outcome as AuditEntry['outcome'],
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}

/** JSON round trip: what the chain covers is exactly what is stored and read back. */
const normalize = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

export class SqliteAuditLog implements AuditLog {
  private readonly st;
  private readonly appendTx;

  constructor(
    private readonly db: HubDatabase,
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.st = {
      head: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(
        `INSERT INTO audit_log (seq, ts, actor, action, target, summary, before, after, ip, outcome, prev_hash, hash)
         VALUES (@seq, @ts, @actor, @action, @target, @summary, @before, @after, @ip, @outcome, @prevHash, @hash)`,
      ),
      all: db.prepare('SELECT * FROM audit_log ORDER BY seq'),
    };
    // The head is read inside the write transaction: `ioc-hub` commands on the same file chain on.
    this.appendTx = db.transaction((input: AuditInput): AuditEntry => {
      const head = this.st.head.get() as { seq: number; hash: string } | undefined;
      const base = {
        seq: (head?.seq ?? 0) + 1,
        ts: this.now(),
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        summary: input.summary ?? null,
        before: normalize(input.before),
        after: normalize(input.after),
        ip: input.ip ?? null,
        outcome: input.outcome ?? 'ok',
      };
      const prevHash = head?.hash ?? GENESIS;
      const entry: AuditEntry = { ...base, prevHash, hash: chainHash(this.key, prevHash, base) };
      this.st.insert.run({
        ...entry,
        before: entry.before === null ? null : JSON.stringify(entry.before),
        after: entry.after === null ? null : JSON.stringify(entry.after),
      });
      return entry;
    });
  }

  append(e: AuditInput): AuditEntry {
    // Inside a caller's transaction this is a savepoint: the entry commits with the change it records.
    return this.appendTx.immediate(e);
  }

  list(f: AuditFilter): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const eq = (col: string, v: unknown) => {
      where.push(`${col} = ?`);
      params.push(v);
    };
    if (f.action !== undefined) {
      // `auth` matches every auth.* action.
      if (f.action.includes('.')) eq('action', f.action);
      else {
        where.push('action LIKE ?');
        params.push(`${f.action}.%`);
      }
    }
    if (f.actor !== undefined) eq('actor', f.actor);
    if (f.target !== undefined) eq('target', f.target);
    if (f.from !== undefined) {
      where.push('ts >= ?');
      params.push(f.from);
    }
    if (f.to !== undefined) {
      where.push('ts <= ?');
      params.push(f.to);
    }
    if (f.beforeSeq !== undefined) {
      where.push('seq < ?');
      params.push(f.beforeSeq);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, f.limit) as Row[]).map(fromRow);
  }

  verify(): AuditVerifyResult {
    let prev = GENESIS;
    let expectSeq = 1;
    let entries = 0;
    for (const r of this.st.all.iterate() as Iterable<Row>) {
      const e = fromRow(r);
      entries++;
      if (e.seq !== expectSeq) {
        // A gap: the entries expectSeq … e.seq-1 were removed.
        const problem = e.seq > expectSeq ? 'missing' : 'reordered';
        return { ok: false, entries, firstBad: { seq: expectSeq, problem }, message: `audit entry ${expectSeq} is missing (the log jumps from ${expectSeq - 1} to ${e.seq})` };
      }
      const { hash, prevHash, ...content } = e;
      if (!sameHash(prevHash, prev)) {
        return { ok: false, entries, firstBad: { seq: e.seq, problem: 'missing' }, message: `audit entry ${e.seq} does not follow entry ${e.seq - 1} (an entry before it was removed or replaced)` };
      }
      if (!sameHash(chainHash(this.key, prev, content), hash)) {
        return { ok: false, entries, firstBad: { seq: e.seq, problem: 'altered' }, message: `audit entry ${e.seq} was altered (${e.ts ? new Date(e.ts).toISOString() : '?'} ${e.actor} ${e.action})` };
      }
      prev = hash;
      expectSeq++;
    }
    return { ok: true, entries, head: prev };
  }
}
