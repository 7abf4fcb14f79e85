/**
 * The audit log (admins): the chain's verify result first and unmistakable (intact with its count
 * and head hash, or broken at which entry), then the entries newest first with the API's filters,
 * a page at a time (`before` = the oldest seq shown).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import { fmtDateTime } from '../../format.js';
import { t, useLang, type MessageKey } from '../../i18n/index.js';
import { TableHead } from '../../ui/table-head.js';
import { AdminNav } from './nav.js';
import { errorText } from './users.js';
import './admin.css';

/** As GET /api/v1/audit answers it: the hub's own record type. */
import type { AuditEntry } from '../../../../src/audit/types.js';

interface Verify {
  ok: boolean;
  entries: number;
  head?: string;
  firstBad?: { seq: number; problem: string };
  message?: string;
}

interface Filters {
  action: string;
  actor: string;
  target: string;
  from: string;
  to: string;
}

const PAGE = 50;
const EMPTY: Filters = { action: '', actor: '', target: '', from: '', to: '' };

/** A date picked in the form is a day in Asia/Ho_Chi_Minh (UTC+7, no DST). */
function dayStart(d: string): number {
  return Date.parse(`${d}T00:00:00+07:00`);
}

function query(f: Filters, before: number | null): string {
  const p = new URLSearchParams({ limit: String(PAGE) });
  if (f.action.trim()) p.set('action', f.action.trim());
  if (f.actor.trim()) p.set('actor', f.actor.trim());
  if (f.target.trim()) p.set('target', f.target.trim());
  if (f.from) p.set('from', String(dayStart(f.from)));
  if (f.to) p.set('to', String(dayStart(f.to) + 86_400_000 - 1));
  if (before !== null) p.set('before', String(before));
  return p.toString();
}

function VerifyBanner() {
  useLang();
  const [v, setV] = useState<Verify | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(() => {
    setV(null);
    setError(null);
    api<Verify>('/audit/verify').then(setV, (e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(run, [run]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!v) return <p class="muted" aria-busy="true">{t('admin.audit.verifying')}</p>;
  const problem = v.message ?? v.firstBad?.problem ?? '';
  return (
    <div class={`adm-verify ${v.ok ? 'ok' : 'broken'}`} role={v.ok ? 'status' : 'alert'} data-testid="audit-verify" data-ok={String(v.ok)}>
      <span class={`msg ${v.ok ? 'adm-ok' : 'adm-bad'}`}>
        {v.ok
          ? t('admin.audit.verifyOk', { n: v.entries, head: v.head ?? '—' })
          : v.firstBad
            ? t('admin.audit.verifyBroken', { seq: v.firstBad.seq, problem })
            : t('admin.audit.verifyBrokenNoSeq', { problem })}
      </span>
      <button type="button" onClick={run}>{t('admin.audit.verifyAgain')}</button>
    </div>
  );
}

function Outcome(props: { o: string }) {
  const known = ['ok', 'refused', 'failed'].includes(props.o);
  const text = known ? t(`admin.audit.outcome.${props.o}` as MessageKey) : props.o;
  return <span class={props.o === 'ok' ? '' : 'adm-warn'}>{text}</span>;
}

export function AuditPage() {
  useLang();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Pages visited: the `before` of each (null: the newest), to go back without guessing.
  const [pages, setPages] = useState<Array<number | null>>([null]);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const before = pages[pages.length - 1] ?? null;

  useEffect(() => {
    let live = true;
    setEntries(null);
    setError(null);
    api<{ entries: AuditEntry[] }>(`/audit?${query(filters, before)}`).then(
      (r) => live && setEntries(r.entries),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => void (live = false);
  }, [filters, before]);

  const field = (k: keyof Filters) => ({
    name: k,
    value: form[k],
    onInput: (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value }),
  });
  const apply = (f: Filters) => {
    setFilters(f);
    setPages([null]);
  };
  const last = entries?.[entries.length - 1];

  return (
    <div>
      <AdminNav />
      <div class="adm-sections">
        <h1>{t('admin.audit.title')}</h1>
        <VerifyBanner />
        <form
          class="panel adm-form"
          aria-label={t('admin.audit.filters')}
          onSubmit={(e) => {
            e.preventDefault();
            apply(form);
          }}
        >
          <label>{t('admin.audit.action')}<input {...field('action')} pattern="[a-z_]+(\.[a-z_]+)?" /></label>
          <label>{t('admin.audit.actor')}<input {...field('actor')} maxLength={100} /></label>
          <label>{t('admin.audit.target')}<input {...field('target')} maxLength={200} /></label>
          <label>{t('admin.audit.from')}<input type="date" {...field('from')} /></label>
          <label>{t('admin.audit.to')}<input type="date" {...field('to')} /></label>
          <div class="row">
            <button type="submit" class="primary">{t('admin.audit.apply')}</button>
            <button type="button" onClick={() => { setForm(EMPTY); apply(EMPTY); }}>{t('admin.audit.clear')}</button>
          </div>
        </form>
        {error ? <p class="error" role="alert">{error}</p> : null}
        <section class="panel">
          {!entries ? (
            <p class="muted" aria-busy="true">{t('common.loading')}</p>
          ) : entries.length === 0 ? (
            <p class="muted">{t('admin.audit.empty')}</p>
          ) : (
            <>
              <p class="muted">{t('admin.audit.page', { first: entries[0]!.seq, last: last!.seq })}</p>
              <div class="adm-wrap">
                <table class="adm-table" data-testid="audit-entries">
                  <TableHead cols={['admin.audit.seq', 'common.time', 'admin.audit.colActor', 'admin.audit.colAction', 'admin.audit.colTarget', 'admin.audit.outcome', 'admin.audit.summary']} />
                  <tbody>
                    {entries.map((e) => (
                      <tr key={e.seq} data-seq={e.seq} data-action={e.action}>
                        <td>#{e.seq}</td>
                        <td>{fmtDateTime(e.ts)}</td>
                        <td><code>{e.actor}</code>{e.ip ? <div class="muted">{e.ip}</div> : null}</td>
                        <td><code>{e.action}</code></td>
                        <td>{e.target ? <code>{e.target}</code> : '—'}</td>
                        <td><Outcome o={e.outcome} /></td>
                        <td class="wrap">
                          {e.summary ?? ''}
                          {e.before != null || e.after != null ? (
                            <details>
                              <summary>{t('admin.audit.details')}</summary>
                              {e.before != null ? <><div class="muted">{t('admin.audit.before')}</div><pre>{JSON.stringify(e.before, null, 2)}</pre></> : null}
                              {e.after != null ? <><div class="muted">{t('admin.audit.after')}</div><pre>{JSON.stringify(e.after, null, 2)}</pre></> : null}
                            </details>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          <div class="row" style={{ marginTop: '0.6em' }}>
            {pages.length > 1 ? <button type="button" onClick={() => setPages([null])}>{t('admin.audit.newest')}</button> : null}
            {entries && entries.length === PAGE && last ? (
              <button type="button" onClick={() => setPages([...pages, last.seq])}>{t('admin.audit.older')}</button>
            ) : null}
          </div>
        </section>
      </div>
    </div>
  );
}
