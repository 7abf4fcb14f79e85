/**
 * Backups the hub makes itself, while it runs (the admin console's "Back up now"): the same
 * consistent online copy as `ioc-hub backup` (./backup.ts), into one folder (hub.yaml
 * `backup.dir`, default {dataDir}/backups), each audited as `hub.backup` like the CLI's.
 *
 * The copy reads through a connection of its own, opened read-only for the copy: the backup
 * holds a read transaction for its whole length across awaits, and on the hub's connection that
 * transaction would swallow every write the hub makes meanwhile. One backup at a time.
 *
 * The list is the folder's files, each with what the audit log recorded when it was made (sha256,
 * checked schema version, who): a file the log knows nothing about (copied in by hand) is listed
 * as not checked. A kept copy can be checked again (`verify`): the same check, and its sha256
 * against the one recorded, so a copy damaged or changed on disk since is found before a restore
 * needs it. Audited as `hub.backup.verify`; the list shows the last one.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AuditLog } from '../audit/types.js';
import { openHubDatabase } from '../db/database.js';
import { backupHubDatabase, sha256File } from './backup.js';
import { checkHubDatabaseFile } from './verify.js';
import type { BackupFile, BackupVerification } from './views.js';

export type { BackupFile, BackupVerification } from './views.js';

export class BackupNotFoundError extends Error {}

export class BackupBusyError extends Error {}

export class BackupService {
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly opts: {
      dir: string;
      dbPath: string;
      audit: AuditLog;
      /** Where the hub's secret key lives (shown: backups do not contain it). */
      secretKey: string;
      now?: () => number;
    },
  ) {}

  get dir(): string {
    return this.opts.dir;
  }

  get secretKey(): string {
    return this.opts.secretKey;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** The folder's backups, newest first. */
  list(): BackupFile[] {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir).filter((n) => n.endsWith('.db'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const recorded = this.recorded();
    const verified = new Map<string, BackupFile['lastVerified']>();
    for (const e of this.opts.audit.list({ action: 'hub.backup.verify', limit: 10_000 }).reverse()) {
      const a = e.after as { file?: string; ok?: boolean } | null;
      if (a?.file) verified.set(a.file, { at: e.ts, ok: a.ok === true, by: e.actor });
    }
    return names
      .map((name) => {
        const file = join(this.opts.dir, name);
        const st = statSync(file);
        return { name, file, bytes: st.size, createdAt: Math.round(st.mtimeMs), check: recorded.get(file) ?? null, lastVerified: verified.get(file) ?? null };
      })
      .filter((b) => b.bytes > 0)
      .sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name));
  }

  /** What the audit log recorded of each copy when it was made, by path; the newest record of a path wins. */
  private recorded(): Map<string, BackupFile['check']> {
    const recorded = new Map<string, BackupFile['check']>();
    for (const e of this.opts.audit.list({ action: 'hub.backup', limit: 10_000 }).reverse()) {
      const a = e.after as { file?: string; sha256?: string; schemaVersion?: number } | null;
      if (e.outcome !== 'ok' || !a?.file || !a.sha256) continue;
      recorded.set(a.file, { sha256: a.sha256, schemaVersion: a.schemaVersion ?? 0, by: e.actor, auditSeq: e.seq });
    }
    return recorded;
  }

  /** Checks a kept copy again, named as the list names it (nothing outside the folder). Audited. */
  async verify(name: string, actor: string, ip?: string): Promise<BackupVerification> {
    const b = this.list().find((x) => x.name === name);
    if (!b) throw new BackupNotFoundError(`no backup "${name}" in ${this.opts.dir}`);
    const started = Date.now();
    const check = await checkHubDatabaseFile(b.file);
    const sha256 = await sha256File(b.file);
    const matchesRecord = b.check ? b.check.sha256 === sha256 : null;
    const problems = [...check.problems];
    if (matchesRecord === false) problems.push(`the file changed since it was made: its sha256 is not the one recorded in audit entry #${b.check!.auditSeq}`);
    const ok = problems.length === 0;
    this.opts.audit.append({
      actor,
      action: 'hub.backup.verify',
      target: `file:${b.file}`,
      outcome: ok ? 'ok' : 'failed',
      summary: ok ? `backup ${b.file} checked: sound` : `backup ${b.file} checked: ${problems.join('; ')}`.slice(0, 300),
      after: { file: b.file, ok, sha256, matchesRecord, schemaVersion: check.schemaVersion, problems },
      ...(ip ? { ip } : {}),
    });
    return { name, ok, sha256, matchesRecord, schemaVersion: check.schemaVersion, problems, durationMs: Date.now() - started };
  }

  /** Makes one backup now; refuses while another runs. Audited, success or failure. */
  async create(actor: string, ip?: string): Promise<BackupFile & { durationMs: number }> {
    if (this.running) throw new BackupBusyError('a backup is already running');
    const work = this.make(actor, ip);
    this.running = work;
    try {
      return await work;
    } finally {
      this.running = null;
    }
  }

  private async make(actor: string, ip?: string): Promise<BackupFile & { durationMs: number }> {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date((this.opts.now ?? Date.now)()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const file = join(this.opts.dir, `hub-${stamp}.db`);
    const src = openHubDatabase(this.opts.dbPath, { readonly: true });
    let result;
    try {
      result = await backupHubDatabase(src, file);
    } catch (err) {
      this.opts.audit.append({ actor, action: 'hub.backup', target: `file:${file}`, outcome: 'failed', summary: (err as Error).message.slice(0, 300), ...(ip ? { ip } : {}) });
      throw err;
    } finally {
      src.close();
    }
    const entry = this.opts.audit.append({
      actor,
      action: 'hub.backup',
      target: `file:${file}`,
      summary: `hub.db backed up to ${file} (${result.bytes} bytes)`,
      after: { file, bytes: result.bytes, pages: result.pages, sha256: result.sha256, schemaVersion: result.check.schemaVersion, integrity: 'ok', durationMs: result.durationMs },
      ...(ip ? { ip } : {}),
    });
    const st = statSync(file);
    return {
      name: basename(file),
      file,
      bytes: result.bytes,
      createdAt: Math.round(st.mtimeMs),
      check: { sha256: result.sha256, schemaVersion: result.check.schemaVersion, by: actor, auditSeq: entry.seq },
      lastVerified: null,
      durationMs: result.durationMs,
    };
  }
}
