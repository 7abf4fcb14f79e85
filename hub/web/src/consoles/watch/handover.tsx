/**
 * Shift handover: what happened since the last handover of this desk (alerts opened, escalated,
 * acknowledged, cleared, closed; notes written on alerts), what is open now, and the form the
 * outgoing shift writes its note in. Submitting moves "since" to now.
 */
import './handover.css';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { AlertBrief, HandoverChange as Change, HandoverSummary as Summary } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtDateTime } from '../../format.js';
import { local, t, useLang, type MessageKey } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { linkProps } from '../../ui/router.js';

const KINDS = new Set(['raised', 'escalated', 'acknowledged', 'cleared', 'closed']);
const kindText = (k: string) => t((KINDS.has(k) ? `handover.kind.${k}` : 'handover.kind.other') as MessageKey);

function AlertLink(props: { a: AlertBrief; level?: number }) {
  return (
    <a {...linkProps(`/watch/alerts/${props.a.id}`)}>
      #{props.a.id} {props.a.deviceName ?? ''} — {local(props.a.message)}
    </a>
  );
}

function ChangeList(props: { items: Change[]; testid: string; notes?: boolean }) {
  if (!props.items.length) return <p class="muted">{t('handover.nothing')}</p>;
  return (
    <ul class="handover-list" data-testid={props.testid}>
      {props.items.map((c, i) => (
        <li key={`${c.alert.id}-${c.ts}-${i}`}>
          <time class="muted">{fmtDateTime(c.ts)}</time> <strong>{kindText(c.kind)}</strong>{' '}
          {c.level > 0 ? <LevelBadge level={c.level} /> : null} <AlertLink a={c.alert} />
          {c.by ? <span class="muted"> · {t('handover.by', { by: c.by })}</span> : null}
          {c.note ? <blockquote class="handover-note">{c.note}</blockquote> : null}
        </li>
      ))}
    </ul>
  );
}

export function HandoverPage() {
  useLang();
  const { stream, me } = useApp();
  const [data, setData] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<number | null>(null);
  const canWrite = me.role === 'operator' || me.role === 'admin';

  const load = () =>
    api<Summary>('/handovers/current')
      .then((s) => {
        setData(s);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));

  useEffect(() => {
    void load();
    // Alerts change during the shift: the summary follows them.
    return stream.subscribe((m) => {
      if (m.type === 'alert' || m.type === 'reset') void load();
    });
  }, [stream]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!note.trim() || busy) return;
    setBusy(true);
    try {
      const r = await api<{ handover: { at: number } }>('/handovers', { method: 'POST', body: { note: note.trim() } });
      setNote('');
      setDone(r.handover.at);
      await load();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="handover grid">
      <h1>{t('handover.title')}</h1>
      {error ? <p class="error" role="alert">{t('common.error', { message: error })}</p> : null}
      {!data ? (
        <p class="muted">{t('common.loading')}</p>
      ) : (
        <>
          <p data-testid="handover-since">
            {t('handover.since', { time: fmtDateTime(data.since) })} {data.lastHandover ? null : <span class="muted">{t('handover.sinceDefault')}</span>}
          </p>
          <section class="panel" data-testid="handover-last">
            <h2>{t('handover.last')}</h2>
            {data.lastHandover ? (
              <>
                <p class="muted">{t('handover.lastBy', { by: data.lastHandover.by, time: fmtDateTime(data.lastHandover.at) })}</p>
                <blockquote class="handover-note" data-testid="handover-last-note">{data.lastHandover.note}</blockquote>
              </>
            ) : (
              <p class="muted">{t('handover.none')}</p>
            )}
          </section>
          <section class="panel">
            <h2>{t('handover.open', { n: data.openAlerts.length })}</h2>
            {data.openAlerts.length ? (
              <ul class="handover-list" data-testid="handover-open">
                {data.openAlerts.map((a) => (
                  <li key={a.id}>
                    <LevelBadge level={a.level} label={a.levelLabel} /> <AlertLink a={a} /> <span class="muted">· {t(`state.${a.state}` as MessageKey)}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">{t('handover.nothing')}</p>
            )}
          </section>
          <section class="panel">
            <h2>{t('handover.changes', { n: data.alertsChanged.length })}</h2>
            <ChangeList items={data.alertsChanged} testid="handover-changes" />
          </section>
          <section class="panel">
            <h2>{t('handover.notes', { n: data.notes.length })}</h2>
            <ChangeList items={data.notes} testid="handover-notes" notes />
          </section>
        </>
      )}
      {canWrite ? (
        <form class="panel" onSubmit={submit}>
          <label>
            {t('handover.write')}
            <textarea name="note" rows={5} maxLength={4000} required value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} aria-describedby="handover-help" />
          </label>
          <p id="handover-help" class="muted">{t('handover.writeHelp')}</p>
          <button type="submit" class="primary" disabled={busy || !note.trim()}>{t('handover.submit')}</button>
          {done !== null ? <p role="status" data-testid="handover-done">{t('handover.done', { time: fmtDateTime(done) })}</p> : null}
        </form>
      ) : null}
    </div>
  );
}
