/**
 * Backups (admins): the backups in the hub's backup folder (time, size, the check recorded when
 * each was made, the last check again), "Back up now" (a consistent online copy while the hub
 * runs), "Check again" (is the kept copy still sound and still the one made?), and what a backup
 * does not hold (the secret key) and how to restore (a command, with the hub stopped).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import type { BackupFile as Backup, BackupListing as Listing, BackupVerification as Verification } from '../../api/types.js';
import { fmtDateTime, fmtNumber } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import { TableHead } from '../../ui/table-head.js';
import { AdminNav } from './nav.js';
import { errorText } from './users.js';
import './admin.css';

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${fmtNumber(n / 1024, 1)} KiB`;
  if (n < 1024 ** 3) return `${fmtNumber(n / 1024 ** 2, 1)} MiB`;
  return `${fmtNumber(n / 1024 ** 3, 2)} GiB`;
}

export function BackupsPage() {
  useLang();
  const [list, setList] = useState<Listing | null>(null);
  const [off, setOff] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [checking, setChecking] = useState<string | null>(null);
  const [checked, setChecked] = useState<Record<string, Verification>>({});

  const load = useCallback(() => {
    api<Listing>('/backups').then(
      (r) => setList(r),
      (e: unknown) => (e instanceof ApiError && e.status === 404 ? setOff(true) : setError(errorText(e))),
    );
  }, []);
  useEffect(load, [load]);

  const now = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await api<{ backup: Backup & { durationMs: number } }>('/backups', { method: 'POST' });
      setDone(t('admin.backups.done', { file: r.backup.name, size: fmtBytes(r.backup.bytes), secs: fmtNumber(r.backup.durationMs / 1000, 1) }));
      load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const checkAgain = async (name: string) => {
    setChecking(name);
    setError(null);
    try {
      const r = await api<{ verification: Verification }>(`/backups/${encodeURIComponent(name)}/verify`, { method: 'POST' });
      setChecked((c) => ({ ...c, [name]: r.verification }));
      load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setChecking(null);
    }
  };

  const dir = list?.dir ?? '/var/backups/ioc';
  return (
    <div>
      <AdminNav />
      <div class="adm-sections">
        <h1>{t('admin.backups.title')}</h1>
        <section class="panel">
          <p>{t('admin.backups.intro')}</p>
          {off ? <p class="adm-warn">{t('admin.backups.off')}</p> : null}
          {list ? (
            <p>
              {t('admin.backups.dir')} <code data-testid="backup-dir">{list.dir}</code>
            </p>
          ) : null}
          {list ? (
            <div class="row">
              <button type="button" class="primary" onClick={() => void now()} disabled={busy || list.running}>
                {busy || list.running ? t('admin.backups.running') : t('admin.backups.now')}
              </button>
            </div>
          ) : null}
          {error ? <p class="error" role="alert">{error}</p> : null}
          {done ? <p class="adm-ok" role="status" data-testid="backup-done">{done}</p> : null}
        </section>
        {list ? (
          <section class="panel">
            {list.backups.length === 0 ? (
              <p class="muted">{t('admin.backups.none')}</p>
            ) : (
              <div class="adm-wrap">
                <table class="adm-table" data-testid="backups">
                  <TableHead cols={['admin.backups.file', 'admin.backups.time', 'admin.backups.size', 'admin.backups.verified', 'admin.backups.by', 'admin.backups.recheck']} />
                  <tbody>
                    {list.backups.map((b) => (
                      <tr key={b.name} data-backup={b.name}>
                        <th scope="row"><code>{b.name}</code></th>
                        <td>{fmtDateTime(b.createdAt)}</td>
                        <td>{fmtBytes(b.bytes)}</td>
                        <td data-col="check">
                          {b.check ? (
                            <span class="adm-ok" title={`sha256 ${b.check.sha256}`}>{t('admin.backups.verifiedOk', { v: b.check.schemaVersion })}</span>
                          ) : (
                            <span class="adm-warn">{t('admin.backups.unverified')}</span>
                          )}
                        </td>
                        <td>{b.check ? <code>{b.check.by}</code> : '—'}</td>
                        <td data-col="recheck">
                          <LastCheck b={b} result={checked[b.name]} />
                          <button type="button" disabled={checking !== null} onClick={() => void checkAgain(b.name)} aria-label={t('admin.backups.recheckOne', { file: b.name })}>
                            {checking === b.name ? t('admin.backups.rechecking') : t('admin.backups.recheck')}
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        ) : !off && !error ? (
          <p class="muted" aria-busy="true">{t('common.loading')}</p>
        ) : null}
        <section class="panel">
          {list ? <p class="adm-warn">{t('admin.backups.key', { key: list.secretKey })}</p> : null}
          <p class="muted">{t('admin.backups.offsite')}</p>
          <p>{t('admin.backups.cli')}</p>
          <pre><code>{`ioc-hub backup ${dir}/hub-$(date +%F).db --config /etc/ioc/hub.yaml`}</code></pre>
          <p>{t('admin.backups.restore')}</p>
          <pre><code>{`systemctl stop ioc-hub\nioc-hub restore ${dir}/<file>.db --config /etc/ioc/hub.yaml\nsystemctl start ioc-hub`}</code></pre>
        </section>
      </div>
    </div>
  );
}

/** The last check again: this session's answer with its reasons, or what the audit log recorded. */
function LastCheck(props: { b: Backup; result: Verification | undefined }) {
  const r = props.result;
  if (r) {
    return r.ok ? (
      <p class="adm-ok" data-verify="ok">{t('admin.backups.recheckOk', { secs: fmtNumber(r.durationMs / 1000, 1) })}</p>
    ) : (
      <div class="adm-warn" data-verify="failed" role="alert">
        <strong>{t('admin.backups.recheckBad')}</strong>
        <ul>{r.problems.map((p) => <li key={p} lang="en">{p}</li>)}</ul>
      </div>
    );
  }
  const v = props.b.lastVerified;
  if (!v) return null;
  return (
    <p class={v.ok ? 'muted' : 'adm-warn'} data-verify={v.ok ? 'ok' : 'failed'}>
      {t(v.ok ? 'admin.backups.lastOk' : 'admin.backups.lastBad', { at: fmtDateTime(v.at), by: v.by })}
    </p>
  );
}
