/**
 * One alert: its level, state and message; the station's hydrograph with the BĐ lines (flood and
 * level alerts of a device); the episode's level history; the candidate disaster-risk level and
 * its confirmation; acknowledge / hand over / shelve / close; the CAP message. Live: the alert from
 * the stream's 'alert' messages, the chart from its 'readings'.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, apiText, API } from '../../api/client.js';
import type { AlertView, DeviceView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtAge, fmtDateTime, fmtNumber } from '../../format.js';
import { local, t, useLang, type MessageKey } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { linkProps } from '../../ui/router.js';
import { TableHead } from '../../ui/table-head.js';
import { alertStore } from './alert-store.js';
import { canAct, errorText, Markers, useAlertStore, valueOf, whereOf } from './board.js';
import { Hydrograph, type Threshold } from './hydrograph.js';
import './watch.css';

/** QĐ 18/2021/QĐ-TTg colours of the disaster-risk levels (as hub/src/alerts/kinds/flood-risk.ts). */
const RISK_COLOURS: Record<number, { vi: string; en: string; hex: string }> = {
  1: { vi: 'xanh dương nhạt', en: 'light blue', hex: '#a6d8f0' },
  2: { vi: 'vàng nhạt', en: 'light yellow', hex: '#fff3a0' },
  3: { vi: 'da cam', en: 'orange', hex: '#f5a623' },
  4: { vi: 'đỏ', en: 'red', hex: '#d0021b' },
  5: { vi: 'tím', en: 'purple', hex: '#7b1fa2' },
};

const LINE_COLOURS = { 'alert.bd1': '#f2d43d', 'alert.bd2': '#ff9a2e', 'alert.bd3': '#ff4d4f', 'alert.historic': '#c158dc' } as const;

function RiskChip({ level }: { level: number }) {
  const c = RISK_COLOURS[level];
  if (!c) return null;
  return (
    <span class={`risk-chip risk-${level}`} style={{ background: c.hex }} data-risk={level}>
      {t('alert.riskLevel', { n: level, colour: local(c) })}
    </span>
  );
}

/** The lines to draw: the rule's thresholds (facts) for BĐ I–III, else the device's alarmLevels; the historic peak. */
function thresholdsOf(a: AlertView, device: DeviceView | null): Threshold[] {
  const facts = Array.isArray(a.facts.thresholds) ? (a.facts.thresholds as number[]) : [];
  const levels = device?.alarmLevels;
  const out: Threshold[] = [];
  const bd = [facts[0] ?? levels?.bd1, facts[1] ?? levels?.bd2, facts[2] ?? levels?.bd3];
  (['alert.bd1', 'alert.bd2', 'alert.bd3'] as const).forEach((key, i) => {
    const v = bd[i];
    if (typeof v === 'number') out.push({ key, value: v, colour: LINE_COLOURS[key] });
  });
  if (typeof device?.historicPeakM === 'number') out.push({ key: 'alert.historic', value: device.historicPeakM, colour: LINE_COLOURS['alert.historic'] });
  return out;
}

/** One action's form: fields, a submit, the API's error if it refuses. */
function ActionForm(props: {
  title: string;
  submit: string;
  noteRequired: boolean;
  extra?: (set: (k: string, v: string) => void, values: Record<string, string>) => preact.ComponentChildren;
  send: (values: Record<string, string>) => Promise<AlertView>;
  onDone: (a: AlertView) => void;
  testid: string;
}) {
  useLang();
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const set = (k: string, v: string) => setValues((x) => ({ ...x, [k]: v }));
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (props.noteRequired && !(values.note ?? '').trim()) {
      setError(t('watch.noteRequired'));
      return;
    }
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      props.onDone(await props.send(values));
      setValues({});
      setDone(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="action-form" onSubmit={onSubmit} data-testid={props.testid}>
      <h3>{props.title}</h3>
      <div class="row">
        {props.extra?.(set, values)}
        <label>
          {props.noteRequired ? t('watch.ackNote') : t('alert.noteOptional')}
          <input name="note" value={values.note ?? ''} required={props.noteRequired} maxLength={1024} onInput={(e) => set('note', (e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>{props.submit}</button>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {done ? <p class="muted" role="status">{t('alert.done')}</p> : null}
    </form>
  );
}

function post(id: number, action: string, body: Record<string, unknown>): Promise<AlertView> {
  return api<{ alert: AlertView }>(`/alerts/${id}/${action}`, { method: 'POST', body }).then((r) => r.alert);
}

export function AlertDetailPage(props: { params: Record<string, string> }) {
  useLang();
  const app = useApp();
  const id = Number(props.params.id);
  const [alert, setAlert] = useState<AlertView | null>(null);
  const [device, setDevice] = useState<DeviceView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cap, setCap] = useState<string | null>(null);
  const [capError, setCapError] = useState<string | null>(null);
  // Keeps the board's store (and so the alarm) attached while this page is open.
  useAlertStore();

  const accept = (a: AlertView) => {
    setAlert((old) => (old && old.updatedAt > a.updatedAt ? old : a));
    alertStore.apply(a);
  };

  useEffect(() => {
    setAlert(null);
    setError(null);
    api<{ alert: AlertView }>(`/alerts/${id}`).then(
      (r) => setAlert(r.alert),
      (err) => setError(errorText(err)),
    );
    return app.stream.subscribe((m) => {
      if (m.type === 'alert' && m.alert.id === id) setAlert((old) => (old && old.updatedAt > m.alert.updatedAt ? old : m.alert));
    });
  }, [id, app.stream]);

  const dev = alert?.dev ?? null;
  useEffect(() => {
    if (!dev) return;
    api<{ device: DeviceView }>(`/devices/${encodeURIComponent(dev)}`).then(
      (r) => setDevice(r.device),
      () => setDevice(null), // the lines then come from the rule's facts alone
    );
  }, [dev]);

  // The CAP message follows the episode: fetched again when the alert changes.
  const updatedAt = alert?.updatedAt;
  useEffect(() => {
    if (updatedAt === undefined) return;
    apiText(`/alerts/${id}/cap.xml`).then(
      (x) => {
        setCap(x);
        setCapError(null);
      },
      (err) => setCapError(errorText(err)),
    );
  }, [id, updatedAt]);

  const thresholds = useMemo(() => (alert ? thresholdsOf(alert, device) : []), [alert?.id, JSON.stringify(alert?.facts.thresholds ?? null), device]);

  if (error) {
    return (
      <div class="alert-detail">
        <a {...linkProps('/watch')}>{t('alert.back')}</a>
        <p class="error" role="alert">{error}</p>
      </div>
    );
  }
  if (!alert) return <p class="muted">{t('common.loading')}</p>;

  const a = alert;
  const acting = canAct(app.me.role);
  const shelved = a.shelvedUntil !== null && a.shelvedUntil > Date.now();
  const showChart = a.dev !== null && a.metric !== null && (a.category === 'flood' || a.kind === 'levels' || a.kind === 'flood-levels');
  const candidate = typeof a.facts.candidateRisk === 'number' ? a.facts.candidateRisk : 0;
  const flashing = alertStore.alarming.has(a.id);

  return (
    <div class="alert-detail" data-alert-id={a.id}>
      <a {...linkProps('/watch')}>{t('alert.back')}</a>
      <div class="head panel">
        <h1>{t('alert.title', { id: a.id })}</h1>
        <LevelBadge level={a.level} label={a.levelLabel} stale={a.stale} />
        {flashing ? <strong class="new-tag flashing">{t('watch.new')}</strong> : null}
        <span class="state" data-testid="alert-state">{t(`state.${a.state}` as MessageKey)}</span>
        <Markers a={a} />
      </div>
      <p class="message" data-testid="alert-message"><strong>{local(a.message)}</strong></p>
      <p class="muted">
        {t(`category.${a.category}` as MessageKey)} · {whereOf(a)} · {t('alert.rule')}: {local(a.ruleName)} · {t('watch.col.opened')}:{' '}
        <time dateTime={new Date(a.openedAt).toISOString()} data-ts={a.openedAt}>{fmtDateTime(a.openedAt)}</time> ({fmtAge(a.openedAt)}) · {t('watch.col.value')}: {valueOf(a)}
        {a.maxLevel > a.level ? <> · {t('alert.maxLevel')}: {a.maxLevel}</> : null}
        {a.acknowledgedBy && a.acknowledgedAt ? <> · {t('alert.acknowledgedBy', { by: a.acknowledgedBy, at: fmtDateTime(a.acknowledgedAt) })}</> : null}
        {a.assignee ? <> · {t('alert.assignee')}: {a.assignee}</> : null}
      </p>

      <div class="cols">
        <div>
          {showChart ? (
            <section class="panel">
              <h2>{t('alert.hydrograph')}</h2>
              <Hydrograph dev={a.dev!} metric={a.metric!} thresholds={thresholds} />
            </section>
          ) : null}
          <section class="panel">
            <h2>{t('alert.history')}</h2>
            <div style={{ overflowX: 'auto' }}>
              <table data-testid="alert-history">
                <TableHead cols={['alert.h.time', 'alert.h.event', 'alert.h.level', 'alert.h.value', 'alert.h.by', 'alert.h.note']} />
                <tbody>
                  {a.history.map((h, i) => (
                    <tr key={i} data-event={h.kind}>
                      <td><time dateTime={new Date(h.ts).toISOString()} data-ts={h.ts}>{fmtDateTime(h.ts)}</time></td>
                      <td>{t(`event.${h.kind}` as MessageKey)}</td>
                      <td>{h.levelLabel ? local(h.levelLabel) : h.level > 0 ? String(h.level) : t('common.normal')}</td>
                      <td class="num">{h.value == null ? '—' : fmtNumber(h.value)}</td>
                      <td>{h.by ?? '—'}</td>
                      <td>{h.note ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </div>

        <div>
          {a.category === 'flood' ? (
            <section class="panel" data-testid="risk">
              <h2>{t('alert.risk')}</h2>
              {a.riskLevel ? (
                <p>
                  <RiskChip level={a.riskLevel} />{' '}
                  {t('alert.riskConfirmed', { n: a.riskLevel, by: a.riskConfirmedBy ?? '—', at: fmtDateTime(a.riskConfirmedAt) })}
                </p>
              ) : null}
              {candidate ? (
                <p>
                  <RiskChip level={candidate} /> <em>{t('alert.riskCandidate')}</em>
                </p>
              ) : !a.riskLevel ? (
                <p class="muted">{t('alert.riskNone')}</p>
              ) : null}
              {acting && a.state !== 'closed' ? (
                <ActionForm
                  testid="confirm-risk"
                  title={t('alert.riskConfirm')}
                  submit={t('alert.riskConfirm')}
                  noteRequired={false}
                  extra={(set, v) => (
                    <label>
                      {t('alert.riskPick')}
                      <select name="level" value={v.level ?? String(candidate || a.riskLevel || 1)} onChange={(e) => set('level', (e.target as HTMLSelectElement).value)}>
                        {[1, 2, 3, 4, 5].map((n) => (
                          <option value={n} key={n}>{t('alert.riskLevel', { n, colour: local(RISK_COLOURS[n]!) })}</option>
                        ))}
                      </select>
                    </label>
                  )}
                  send={(v) => post(a.id, 'confirm-risk', { level: Number(v.level ?? (candidate || a.riskLevel || 1)), ...(v.note?.trim() ? { note: v.note.trim() } : {}) })}
                  onDone={accept}
                />
              ) : null}
            </section>
          ) : null}

          <section class="panel" data-testid="actions">
            <h2>{t('alert.actions')}</h2>
            {!acting ? <p class="muted">{t('alert.readOnly')}</p> : null}
            {acting && a.state === 'open' ? (
              <ActionForm testid="ack" title={t('alert.ack')} submit={t('alert.ack')} noteRequired send={(v) => post(a.id, 'ack', { note: v.note!.trim() })} onDone={accept} />
            ) : null}
            {acting && a.state !== 'closed' ? (
              <ActionForm
                testid="assign"
                title={t('alert.assign')}
                submit={t('alert.assignSend')}
                noteRequired
                extra={(set, v) => (
                  <label>
                    {t('alert.assignee.input')}
                    <input name="assignee" required maxLength={128} value={v.assignee ?? ''} onInput={(e) => set('assignee', (e.target as HTMLInputElement).value)} />
                  </label>
                )}
                send={(v) => post(a.id, 'assign', { assignee: (v.assignee ?? '').trim(), note: v.note!.trim() })}
                onDone={accept}
              />
            ) : null}
            {acting && a.state !== 'closed' && !shelved ? (
              <ActionForm
                testid="shelve"
                title={t('alert.shelve')}
                submit={t('alert.shelve')}
                noteRequired
                extra={(set, v) => (
                  <label>
                    {t('alert.shelveMinutes')}
                    <input name="minutes" type="number" min={1} max={7 * 24 * 60} value={v.minutes ?? '60'} onInput={(e) => set('minutes', (e.target as HTMLInputElement).value)} />
                  </label>
                )}
                send={(v) => post(a.id, 'shelve', { minutes: Number(v.minutes ?? 60), note: v.note!.trim() })}
                onDone={accept}
              />
            ) : null}
            {acting && shelved ? (
              <ActionForm testid="unshelve" title={t('alert.unshelve')} submit={t('alert.unshelve')} noteRequired={false} send={(v) => post(a.id, 'unshelve', v.note?.trim() ? { note: v.note.trim() } : {})} onDone={accept} />
            ) : null}
            {acting && a.state === 'cleared' ? (
              <ActionForm testid="close" title={t('alert.close')} submit={t('alert.close')} noteRequired send={(v) => post(a.id, 'close', { note: v.note!.trim() })} onDone={accept} />
            ) : acting && a.state !== 'closed' ? (
              <p class="muted small">{t('alert.closeOnlyCleared')}</p>
            ) : null}
          </section>

          <section class="panel">
            <h2>{t('alert.cap')}</h2>
            <p>
              <a href={`${API}/alerts/${a.id}/cap.xml`} target="_blank" rel="noopener">{t('alert.capOpen')}</a>
            </p>
            {capError ? <p class="error" role="alert">{capError}</p> : null}
            {/* The message as sent, in both of its languages (vi-VN and en-US infos): never translated. */}
            {cap ? <pre class="cap" data-testid="cap" translate={false}>{cap}</pre> : null}
          </section>
        </div>
      </div>
    </div>
  );
}
