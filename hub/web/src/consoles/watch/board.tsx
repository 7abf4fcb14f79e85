/**
 * The live alert board: every alert not closed, most severe first, updated from the stream with no
 * reload (see alert-store.ts). A new BĐ3-or-higher flood or a fire flashes its row ("MỚI") and
 * sounds the alarm until acknowledged; acknowledging (a note is required) can be done right here.
 *
 * Rows are cheap: keyed by id, memoized on the alert object (a stream update replaces only that
 * alert's object), the store applies stream messages in batches a few times a second, and ages
 * tick on a shared clock every 15 s rather than per row.
 */
import { memo } from 'preact/compat';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError } from '../../api/client.js';
import type { AlertView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtAge, fmtDateTime, fmtNumber } from '../../format.js';
import { local, t, useLang, type MessageKey } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { linkProps } from '../../ui/router.js';
import { alertStore, compareAlerts } from './alert-store.js';
import { WatchMapPanel } from './map-panel.js';
import './watch.css';

const UNITS: Record<string, string> = { water_level: 'm', rain: 'mm', rainfall: 'mm', temperature: '°C' };

/** Operators and admins act on alerts; viewers only look. */
export function canAct(role: string): boolean {
  return role === 'operator' || role === 'admin';
}

export function useAlertStore(): number {
  const { stream } = useApp();
  const [version, setVersion] = useState(alertStore.version);
  useEffect(() => {
    alertStore.attach(stream);
    setVersion(alertStore.version);
    return alertStore.subscribe(() => setVersion(alertStore.version));
  }, [stream]);
  return version;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(h);
  }, [everyMs]);
  return now;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return t('common.error', { message: `${err.message} (${err.status})` });
  return t('common.error', { message: err instanceof Error ? err.message : String(err) });
}

export function Markers({ a }: { a: AlertView }) {
  const now = Date.now();
  return (
    <>
      {a.stale ? <span class="marker marker-stale">{t('watch.stale')}</span> : null}
      {a.late ? <span class="marker">{t('watch.late')}</span> : null}
      {a.missed ? <span class="marker">{t('watch.missed')}</span> : null}
      {a.shelvedUntil && a.shelvedUntil > now ? <span class="marker">{t('watch.shelved', { until: fmtDateTime(a.shelvedUntil) })}</span> : null}
      {a.exercise ? <span class="marker">{t('watch.exercise')}</span> : null}
    </>
  );
}

export function whereOf(a: AlertView): string {
  const dev = a.device ? (a.device.station ? `${a.device.name}` : a.device.name) : (a.dev ?? a.gw ?? a.target);
  return a.area.communeName ? `${dev} · ${a.area.communeName}` : dev;
}

export function valueOf(a: AlertView): string {
  if (a.lastValue == null) return '—';
  const unit = a.metric ? UNITS[a.metric] : undefined;
  return unit ? `${fmtNumber(a.lastValue)} ${unit}` : fmtNumber(a.lastValue);
}

interface RowProps {
  a: AlertView;
  flashing: boolean;
  now: number;
  lang: string;
  acting: boolean;
  ackOpen: boolean;
  onAck: (id: number | null) => void;
}

const Row = memo(function Row({ a, flashing, now, acting, ackOpen, onAck }: RowProps) {
  const href = `/watch/alerts/${a.id}`;
  return (
    <div class={`alert-row${flashing ? ' flashing' : ''}${a.stale ? ' is-stale' : ''}`} role="row" data-alert-id={a.id} data-level={a.level} data-state={a.state} data-flashing={flashing ? 'true' : undefined}>
      <div role="cell" class="level">
        <LevelBadge level={a.level} label={a.levelLabel} stale={a.stale} />
        {flashing ? <strong class="new-tag">{t('watch.new')}</strong> : null}
      </div>
      <div role="cell">{t(`category.${a.category}` as MessageKey)}</div>
      <div role="cell" class="where">{whereOf(a)}</div>
      <div role="cell">
        <span class="state">{t(`state.${a.state}` as MessageKey)}</span> <Markers a={a} />
      </div>
      <div role="cell">
        <time dateTime={new Date(a.openedAt).toISOString()} data-ts={a.openedAt}>{fmtDateTime(a.openedAt)}</time>
        <div class="muted small">{fmtAge(a.openedAt, now)}</div>
      </div>
      <div role="cell" class="num">{valueOf(a)}</div>
      <div role="cell" class="msg">{local(a.message)}</div>
      <div role="cell" class="actions">
        <a {...linkProps(href)}>{t('watch.open')}</a>
        {acting && a.state === 'open' ? (
          <button type="button" aria-expanded={ackOpen} onClick={() => onAck(ackOpen ? null : a.id)}>
            {t('watch.ack')}
          </button>
        ) : null}
      </div>
      {ackOpen ? (
        <div class="ack-cell">
          <AckForm ids={[a.id]} onDone={() => onAck(null)} />
        </div>
      ) : null}
    </div>
  );
});

/** A note, then POST /alerts/:id/ack for each id. */
export function AckForm({ ids, onDone }: { ids: number[]; onDone: () => void }) {
  useLang();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!note.trim()) {
      setError(t('watch.noteRequired'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      for (const id of ids) {
        const { alert } = await api<{ alert: AlertView }>(`/alerts/${id}/ack`, { method: 'POST', body: { note: note.trim() } });
        alertStore.apply(alert);
      }
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="ack-form row" onSubmit={submit}>
      <label>
        {t('watch.ackNote')}
        <input name="note" value={note} required maxLength={1024} onInput={(e) => setNote((e.target as HTMLInputElement).value)} autoFocus />
      </label>
      <button type="submit" disabled={busy}>{t('watch.ackSend')}</button>
      <button type="button" onClick={onDone}>{t('common.cancel')}</button>
      {error ? <p class="error" role="alert">{error}</p> : null}
    </form>
  );
}

export function BoardPage() {
  const lang = useLang();
  const app = useApp();
  const version = useAlertStore();
  const now = useNow(15_000);
  const [ackId, setAckId] = useState<number | null>(null);
  const [ackAll, setAckAll] = useState(false);
  const acting = canAct(app.me.role);
  const rows = useMemo(() => [...alertStore.alerts.values()].sort(compareAlerts), [version]);
  const load = alertStore.load;

  useEffect(() => {
    // The bench's "first meaningful paint": the board drawn with its alerts.
    if (load.kind === 'ready' && performance.getEntriesByName('ioc:board-ready').length === 0) {
      requestAnimationFrame(() => performance.mark('ioc:board-ready'));
    }
  }, [load.kind]);

  const alarmingIds = [...alertStore.alarming.keys()];
  return (
    <div class="watch-board">
      <div class="row board-head">
        <h1>{t('watch.title')}</h1>
        <span class="muted" data-testid="alert-count">{t('watch.count', { n: rows.length })}</span>
        <span class="spacer" />
        <a {...linkProps('/watch/handover')}>{t('watch.handover')}</a>
      </div>
      {alarmingIds.length > 0 ? (
        <div class={`alarm-banner${ackAll ? '' : ' flashing'}`} role="alert" data-testid="alarm-banner">
          <strong>{t('watch.alarming', { n: alarmingIds.length })}</strong>
          {acting ? (
            <button type="button" aria-expanded={ackAll} onClick={() => setAckAll(!ackAll)}>{t('watch.ackAll')}</button>
          ) : null}
          {ackAll ? <AckForm ids={alarmingIds} onDone={() => setAckAll(false)} /> : null}
        </div>
      ) : null}
      {load.kind === 'error' ? (
        <p class="error" role="alert">
          {t('common.error', { message: load.message })} <button type="button" onClick={() => void alertStore.reload()}>{t('common.retry')}</button>
        </p>
      ) : null}
      <div class="board-layout">
        <section class="panel board-panel" aria-label={t('watch.title')}>
          {load.kind === 'loading' && rows.length === 0 ? (
            <p class="muted">{t('common.loading')}</p>
          ) : rows.length === 0 ? (
            <p class="empty">{t('watch.empty')}</p>
          ) : (
            // Rows of a CSS grid, not a <table>: a table's column widths depend on every cell, so
            // one changed value would lay out all 1,000 rows; these rows are laid out alone, and
            // off-screen ones not at all (content-visibility in watch.css).
            <div class="board" role="table" aria-label={t('watch.title')} aria-rowcount={rows.length + 1}>
              <div class="board-header" role="row">
                <div role="columnheader">{t('watch.col.level')}</div>
                <div role="columnheader">{t('watch.col.category')}</div>
                <div role="columnheader">{t('watch.col.where')}</div>
                <div role="columnheader">{t('watch.col.state')}</div>
                <div role="columnheader">{t('watch.col.opened')}</div>
                <div role="columnheader">{t('watch.col.value')}</div>
                <div role="columnheader">{t('watch.col.message')}</div>
                <div role="columnheader">{t('watch.col.actions')}</div>
              </div>
              <div role="rowgroup">
                {rows.map((a) => (
                  <Row key={a.id} a={a} flashing={alertStore.alarming.has(a.id)} now={now} lang={lang} acting={acting} ackOpen={ackId === a.id} onAck={setAckId} />
                ))}
              </div>
            </div>
          )}
        </section>
        <WatchMapPanel />
      </div>
    </div>
  );
}
