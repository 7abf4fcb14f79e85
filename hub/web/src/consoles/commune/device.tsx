/**
 * One device of my commune: its state, last values, battery, charts of its metrics over 24 h and
 * its alerts. A device outside the caller's area answers 404 at the hub: the page then says so
 * and shows nothing else.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../../api/client.js';
import type { AlertView, DeviceView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtDateTime, fmtNumber } from '../../format.js';
import { local, t, useLang, type MessageKey } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { orderMetrics, stationState, useTick, type GatewayLink } from '../../ui/map/stations.js';
import { linkProps } from '../../ui/router.js';
import { TableHead } from '../../ui/table-head.js';
import { MetricChart } from './chart.js';
import { Battery, LastValues, LinkState } from './common.js';

const NOT_CHARTED = new Set(['status_word', 'counter']);

type Load = { kind: 'loading' } | { kind: 'missing' } | { kind: 'error'; message: string } | { kind: 'ok'; device: DeviceView };

export function DevicePage(props: { params: Record<string, string> }) {
  useLang();
  const id = props.params.id ?? '';
  const { stream } = useApp();
  const now = useTick();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [alerts, setAlerts] = useState<AlertView[]>([]);
  const [gateways, setGateways] = useState<Map<string, GatewayLink>>(new Map());

  useEffect(() => {
    let live = true;
    setLoad({ kind: 'loading' });
    setAlerts([]);
    const get = () =>
      api<{ device: DeviceView }>(`/devices/${encodeURIComponent(id)}`)
        .then((r) => {
          if (!live) return;
          setLoad({ kind: 'ok', device: r.device });
          // Only once the hub said the device is ours: nothing else is asked about another's.
          void api<{ alerts: AlertView[] }>(`/alerts?dev=${encodeURIComponent(id)}&limit=50`).then((a) => live && setAlerts(a.alerts)).catch(() => undefined);
          void api<{ gateways: GatewayLink[] }>('/gateways')
            .then((g) => live && setGateways(new Map(g.gateways.map((x) => [x.id, { id: x.id, name: x.name, online: x.online, lastSeen: x.lastSeen }]))))
            .catch(() => undefined);
        })
        .catch((e: Error) => {
          if (!live) return;
          setLoad(e instanceof ApiError && e.status === 404 ? { kind: 'missing' } : { kind: 'error', message: e.message });
        });
    void get();
    const off = stream.subscribe((m) => {
      if (m.type === 'readings' && m.readings.some((r) => r.dev === id)) {
        setLoad((cur) => {
          if (cur.kind !== 'ok') return cur;
          const latest = { ...cur.device.latest };
          for (const r of m.readings) {
            if (r.dev !== id) continue;
            const prev = latest[r.metric];
            if (prev && prev.ts > r.ts) continue;
            latest[r.metric] = { value: r.value, unit: prev?.unit ?? null, ts: r.ts, q: r.q, gw: r.gw, seq: r.seq };
          }
          return { kind: 'ok', device: { ...cur.device, latest } };
        });
      } else if ((m.type === 'alert' && m.alert.dev === id) || m.type === 'reset') {
        void get();
      } else if (m.type === 'status') {
        setGateways((prev) => {
          const cur = prev.get(m.gw);
          if (!cur || cur.online === m.online) return prev;
          return new Map(prev).set(m.gw, { ...cur, online: m.online, lastSeen: m.lastSeen });
        });
      }
    });
    return () => {
      live = false;
      off();
    };
  }, [id, stream]);

  const back = (
    <a {...linkProps('/commune')} class="back-link">← {t('commune.backToList')}</a>
  );
  if (load.kind === 'loading') return <div>{back}<p class="muted">{t('common.loading')}</p></div>;
  if (load.kind === 'missing') {
    return (
      <div class="commune">
        {back}
        <p class="empty" role="alert" data-testid="device-refused">{t('commune.notFound')}</p>
      </div>
    );
  }
  if (load.kind === 'error') return <div>{back}<p class="error" role="alert">{t('common.error', { message: load.message })}</p></div>;

  const d = load.device;
  const s = stationState(d, gateways, now);
  const metrics = orderMetrics(Object.keys(d.latest));
  // Charts of measured quantities; flags (smoke, fault) and status words read better as last values.
  const charted = metrics.filter((m) => typeof d.latest[m]!.value === 'number' && !NOT_CHARTED.has(m));
  const levels = d.alarmLevels as { bd1?: number; bd2?: number; bd3?: number } | undefined;
  return (
    <div class="commune grid" data-testid="commune-device" data-dev={d.id}>
      {back}
      <header>
        <h1>{d.name}</h1>
        <p class="muted">
          {d.id}
          {d.river ? ` · ${t('commune.river', { river: d.river })}` : ''} · {t('commune.place')}: {fmtNumber(d.lat, 4)}, {fmtNumber(d.lon, 4)} · {t('commune.gateway')}: {d.gateway}
        </p>
        {levels?.bd1 !== undefined && levels.bd2 !== undefined && levels.bd3 !== undefined ? (
          <p class="muted">{t('commune.levels', { bd1: fmtNumber(levels.bd1), bd2: fmtNumber(levels.bd2), bd3: fmtNumber(levels.bd3) })}</p>
        ) : null}
      </header>
      <section class="panel">
        <dl class="device-facts">
          <dt>{t('commune.link')}</dt>
          <dd><LinkState d={d} gateways={gateways} /></dd>
          <dt>{t('commune.alert')}</dt>
          <dd>
            {d.openAlert || s.kind === 'stale' || s.kind === 'offline' ? (
              <LevelBadge level={s.level} label={d.openAlert?.levelLabel ?? null} stale={s.kind === 'stale'} offline={s.kind === 'offline'} />
            ) : (
              <span class="muted">{t('commune.noAlert')}</span>
            )}
          </dd>
          <dt>{t('common.battery')}</dt>
          <dd><Battery d={d} /></dd>
          <dt>{t('commune.lastValues')}</dt>
          <dd>
            <LastValues d={d} metrics={metrics} now={now} />
          </dd>
        </dl>
      </section>
      <section aria-labelledby="charts-h">
        <h2 id="charts-h">{t('commune.charts')}</h2>
        <div class="chart-grid">
          {charted.map((m) => <MetricChart key={m} dev={d.id} metric={m} />)}
        </div>
      </section>
      <section class="panel" aria-labelledby="alerts-h">
        <h2 id="alerts-h">{t('commune.alerts')}</h2>
        {alerts.length ? (
          <table data-testid="device-alerts">
            <TableHead cols={['commune.alert', 'commune.message', 'commune.state', 'commune.opened']} />
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id}>
                  <td><LevelBadge level={a.active ? a.level : a.maxLevel} label={a.levelLabel} /></td>
                  <td>{local(a.message)}</td>
                  <td>{t(`state.${a.state}` as MessageKey)}</td>
                  <td>{fmtDateTime(a.openedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">{t('common.none')}</p>
        )}
      </section>
    </div>
  );
}
