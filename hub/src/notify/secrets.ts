/**
 * Channel secrets (webhook signing keys, SMTP passwords) come from a file or an environment
 * variable, never from hub.yaml itself: the hub records its configuration in the audit log at
 * each start (hub.ts recordStart), and a secret written inline would be copied there.
 */
import { readFileSync, statSync } from 'node:fs';

export type SecretResult = { ok: true; value: string; warning?: string } | { ok: false; reason: string };

export function readSecret(source: { file?: string | undefined; env?: string | undefined }): SecretResult {
  if (source.file) {
    let value: string;
    try {
      value = readFileSync(source.file, 'utf8').trim();
    } catch (err) {
      return { ok: false, reason: `cannot read secret file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    if (!value) return { ok: false, reason: `secret file ${source.file} is empty` };
    const mode = statSync(source.file).mode & 0o777;
    const warning = mode & 0o077 ? `secret file ${source.file} is readable by others (mode ${mode.toString(8)}): chmod 600 it` : undefined;
    return { ok: true, value, ...(warning ? { warning } : {}) };
  }
  if (source.env) {
    const value = process.env[source.env]?.trim();
    return value ? { ok: true, value } : { ok: false, reason: `environment variable ${source.env} is not set` };
  }
  return { ok: false, reason: 'no secret source configured' };
}
