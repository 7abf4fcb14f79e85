/**
 * Admin: notifications. The channels, routes and escalation tiers in force (from hub.yaml, shown
 * without secrets), recent notifications with each attempt and its outcome, and the dead letters
 * with replay one / replay all.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../../api/client.js';
import { fmtDateTime, fmtDuration } from '../../format.js';
import { t, useLang, type MessageKey } from '../../i18n/index.js';
import { TableHead } from '../../ui/table-head.js';
import { AdminNav } from './nav.js';
import './rules.css';

type Status = 'pending' | 'delivered' | 'dead';
interface Attempt {
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'dead';
  error: string | null;
}
interface Notification {
  id: number;
  notificationId: string;
  channel: string;
  alertId: number;
  eventKind: string;
  status: Status;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  deadReason: string | null;
  replays: number;
  attemptLog: Attempt[];
}
interface Channel {
  id: string;
  type: string;
  destination: string;
  secret: boolean;
  maxAttempts: number;
  maxAgeMinutes: number;
  pending: number;
  dead: number;
}
interface Route {
  channels: string[];
  areas: string[];
  minSeverity?: string;
  levels?: number[];
  kinds?: string[];
  categories?: string[];
  events?: string[];
  includeExercise: boolean;
}
interface Tier {
  afterMinutes: number;
  channels: string[];
  areas: string[];
  minSeverity?: string;
  includeExercise: boolean;
}
interface RoutesView {
  channels: Channel[];
  routes: Route[];
  escalation: Tier[];
}

const errorText = (err: unknown) => t('common.error', { message: err instanceof Error ? err.message : String(err) });
const sevText = (s: string | undefined) => (s && ['minor', 'moderate', 'severe', 'extreme'].includes(s) ? `≥ ${t(`severity.${s}` as MessageKey)}` : t('admin.notify.anySeverity'));
const EVENT_KINDS = ['raised', 'escalated', 'deescalated', 'cleared', 'reopened', 'acknowledged', 'closed', 'unacknowledged', 'stale', 'missed'];
/** An alert event's kind in the user's language (an unknown one as the hub names it). */
const eventText = (k: string) => (EVENT_KINDS.includes(k) ? t(`admin.notify.ev.${k}` as MessageKey) : k);
const areasText = (areas: string[]) => (areas.includes('*') ? t('admin.notify.allAreas') : areas.join(', '));

function StatusText(props: { status: Status }) {
  return <span class={`notify-status st-${props.status}`}>{t(`admin.notify.status.${props.status}` as MessageKey)}</span>;
}

export function NotificationsPage() {
  useLang();
  const [routes, setRoutes] = useState<RoutesView | null | 'off'>(null);
  const [recent, setRecent] = useState<Notification[] | null>(null);
  const [dead, setDead] = useState<Notification[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      const [r, n, d] = await Promise.all([
        api<RoutesView>('/notifications/routes'),
        api<{ notifications: Notification[] }>('/notifications?limit=50'),
        api<{ notifications: Notification[] }>('/notifications/dead?limit=200'),
      ]);
      setRoutes(r);
      setRecent(n.notifications);
      setDead(d.notifications);
      setError(null);
    } catch (err) {
      // No notify section on this hub: the routes answer 404.
      if (err instanceof ApiError && err.status === 404) setRoutes('off');
      else setError(errorText(err));
    }
  };
  useEffect(() => void load(), []);

  const replay = async (path: string, body?: unknown) => {
    setBusy(true);
    try {
      const r = await api<{ replayed?: number }>(path, { method: 'POST', body: body ?? {} });
      setMessage(t('admin.notify.replayed', { n: r.replayed ?? 1 }));
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="notify-page">
      <AdminNav />
      <div class="row notify-head">
        <h1>{t('admin.notify.title')}</h1>
        <span class="spacer" />
        <button type="button" onClick={() => void load()}>{t('admin.notify.refresh')}</button>
      </div>
      <p class="muted">{t('admin.notify.intro')}</p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {message ? <p class="ok" role="status">{message}</p> : null}
      {routes === 'off' ? <p class="panel muted" data-testid="notify-off">{t('admin.notify.off')}</p> : null}
      {routes === null && !error ? <p class="muted">{t('common.loading')}</p> : null}
      {routes && routes !== 'off' ? (
        <>
          <section class="panel" aria-labelledby="notify-channels-h" data-testid="notify-channels">
            <h2 id="notify-channels-h">{t('admin.notify.channels')}</h2>
            {routes.channels.length ? (
              <div class="table-scroll">
                <table>
                  <TableHead cols={['admin.notify.channel', 'admin.notify.type', 'admin.notify.destination', 'admin.notify.secret', 'admin.notify.retries', 'admin.notify.queue']} />
                  <tbody>
                    {routes.channels.map((c) => (
                      <tr key={c.id}>
                        <td><code>{c.id}</code></td>
                        <td>{c.type}</td>
                        <td><code>{c.destination || '—'}</code></td>
                        <td>{c.secret ? t('common.yes') : t('common.no')}</td>
                        <td>{t('admin.notify.retriesValue', { n: c.maxAttempts, min: c.maxAgeMinutes })}</td>
                        <td>{c.pending} / <strong class={c.dead ? 'error' : ''}>{c.dead}</strong></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p class="muted">{t('admin.notify.noChannels')}</p>
            )}
          </section>

          <section class="panel" aria-labelledby="notify-routes-h" data-testid="notify-routes">
            <h2 id="notify-routes-h">{t('admin.notify.routes')}</h2>
            {routes.routes.length ? (
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th>#</th>
                      <th>{t('admin.notify.channels')}</th>
                      <th>{t('admin.notify.areas')}</th>
                      <th>{t('admin.notify.minSeverity')}</th>
                      <th>{t('admin.notify.filters')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {routes.routes.map((r, i) => (
                      <tr key={i}>
                        <td>{i + 1}</td>
                        <td>{r.channels.map((c) => <code key={c}>{c}</code>)}</td>
                        <td>{areasText(r.areas)}</td>
                        <td>{sevText(r.minSeverity)}</td>
                        <td>
                          {[
                            r.kinds ? `${t('admin.rules.kind')}: ${r.kinds.join(', ')}` : '',
                            r.categories ? r.categories.join(', ') : '',
                            r.levels ? `${t('admin.rules.peak')}: ${r.levels.join(', ')}` : '',
                            r.events ? `${t('admin.notify.event')}: ${r.events.map(eventText).join(', ')}` : '',
                            r.includeExercise ? t('admin.notify.exercise') : '',
                          ].filter(Boolean).join(' · ') || '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p class="warn">{t('admin.notify.noRoutes')}</p>
            )}
          </section>

          <section class="panel" aria-labelledby="notify-esc-h" data-testid="notify-escalation">
            <h2 id="notify-esc-h">{t('admin.notify.escalation')}</h2>
            {routes.escalation.length ? (
              <div class="table-scroll">
                <table>
                  <TableHead cols={['admin.notify.after', 'admin.notify.channels', 'admin.notify.areas', 'admin.notify.minSeverity']} />
                  <tbody>
                    {routes.escalation.map((e, i) => (
                      <tr key={i}>
                        <td>{t('admin.notify.afterValue', { min: e.afterMinutes })}</td>
                        <td>{e.channels.map((c) => <code key={c}>{c}</code>)}</td>
                        <td>{areasText(e.areas)}</td>
                        <td>{sevText(e.minSeverity)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p class="muted">{t('admin.notify.noEscalation')}</p>
            )}
          </section>

          <section class="panel" aria-labelledby="notify-dead-h" data-testid="notify-dead">
            <div class="row notify-head">
              <h2 id="notify-dead-h">{t('admin.notify.dead')}</h2>
              <span class="spacer" />
              {dead?.length ? (
                <button type="button" class="primary" disabled={busy} onClick={() => void replay('/notifications/dead/replay')}>{t('admin.notify.replayAll')}</button>
              ) : null}
            </div>
            {dead?.length ? (
              <NotificationTable rows={dead} action={(n) => (
                <button type="button" disabled={busy} onClick={() => void replay(`/notifications/${n.id}/replay`)}>{t('admin.notify.replay', { id: n.id })}</button>
              )} />
            ) : (
              <p class="muted">{t('admin.notify.deadNone')}</p>
            )}
          </section>

          <section class="panel" aria-labelledby="notify-recent-h" data-testid="notify-recent">
            <h2 id="notify-recent-h">{t('admin.notify.recent')}</h2>
            {recent?.length ? <NotificationTable rows={recent} /> : <p class="muted">{t('admin.notify.none')}</p>}
          </section>
        </>
      ) : null}
    </div>
  );
}

function NotificationTable(props: { rows: Notification[]; action?: (n: Notification) => preact.ComponentChildren }) {
  useLang();
  return (
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>{t('admin.notify.created')}</th>
            <th>{t('admin.notify.channel')}</th>
            <th>{t('admin.notify.alert')}</th>
            <th>{t('admin.notify.event')}</th>
            <th>{t('admin.notify.status')}</th>
            <th>{t('admin.notify.lastError')}</th>
            {props.action ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((n) => (
            <tr key={n.id} data-notification={n.id}>
              <td>{n.id}</td>
              <td>{fmtDateTime(n.createdAt)}</td>
              <td><code>{n.channel}</code></td>
              <td>#{n.alertId}</td>
              <td>{eventText(n.eventKind)}</td>
              <td>
                <StatusText status={n.status} />
                {n.attemptLog.length ? (
                  <details>
                    <summary>{t('admin.notify.attempts', { n: n.attemptLog.length })}</summary>
                    <ol class="attempts">
                      {n.attemptLog.map((a) => (
                        <li key={a.attempt}>
                          {fmtDateTime(a.startedAt)} · {a.durationMs < 1000 ? `${a.durationMs} ms` : fmtDuration(a.durationMs)} · {t(`admin.notify.outcome.${a.outcome}` as MessageKey)}
                          {a.error ? <span class="muted"> — {a.error}</span> : null}
                        </li>
                      ))}
                    </ol>
                  </details>
                ) : null}
              </td>
              <td>{n.deadReason ?? n.lastError ?? '—'}</td>
              {props.action ? <td>{props.action(n)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
