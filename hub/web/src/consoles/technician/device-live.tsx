/**
 * A device while it is being installed: its last values from the hub (GET /devices/:id), then
 * every reading the live feed brings, at once, with its quality and age — is the sensor wired,
 * does the value make sense, does the next poll arrive?
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import type { DeviceView, LatestValue } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtAge, fmtDateTime, fmtNumber } from '../../format.js';
import { t, useLang, type MessageKey } from '../../i18n/index.js';
import { metricLabel } from '../../ui/map/stations.js';
import { linkProps, navigate } from '../../ui/router.js';
import { TableHead } from '../../ui/table-head.js';
import { useNow } from './use-now.js';

interface Arrival {
  metric: string;
  value: number | boolean | null;
  q: string;
  ts: number;
  seq: number;
  receivedAt: number;
}

const RECENT = 20;

function fmtValue(v: number | boolean | null, unit?: string | null): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  return `${fmtNumber(v, 3)}${unit && unit !== 'bool' ? ' ' + unit : ''}`;
}

function Quality(props: { q: string }) {
  const known = props.q === 'good' || props.q === 'uncertain' || props.q === 'bad';
  return <span class={`tech-q-${props.q}`}>{known ? t(`technician.quality.${props.q}` as MessageKey) : props.q}</span>;
}

/** Picks one of the caller's devices and opens its live page. */
export function DevicePicker() {
  useLang();
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [pick, setPick] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ devices: DeviceView[] }>('/devices')
      .then((r) => {
        setDevices(r.devices);
        setPick(r.devices[0]?.id ?? '');
      })
      .catch((e: Error) => setError(t('common.error', { message: e.message })));
  }, []);
  return (
    <section class="panel" aria-labelledby="live-title">
      <h2 id="live-title">{t('technician.live.title')}</h2>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <form
        class="tech-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (pick) navigate(`/technician/devices/${encodeURIComponent(pick)}`);
        }}
      >
        <label>
          {t('technician.live.pick')}
          <select name="device" value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)} disabled={!devices?.length}>
            {(devices ?? []).map((d) => (
              <option key={d.id} value={d.id}>{`${d.name} (${d.id}, ${d.gateway})`}</option>
            ))}
          </select>
        </label>
        <div>
          <button type="submit" class="primary" disabled={!pick}>{t('technician.live.open')}</button>
        </div>
      </form>
    </section>
  );
}

export function DeviceLivePage(props: { params: Record<string, string> }) {
  useLang();
  const { stream } = useApp();
  const id = props.params.id ?? '';
  const now = useNow(1000);
  const [device, setDevice] = useState<DeviceView | null>(null);
  const [latest, setLatest] = useState<Record<string, LatestValue>>({});
  const [recent, setRecent] = useState<Arrival[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setDevice(null);
    setRecent([]);
    setError(null);
    const load = () =>
      api<{ device: DeviceView }>(`/devices/${encodeURIComponent(id)}`)
        .then((r) => {
          if (!live) return;
          setDevice(r.device);
          setLatest(r.device.latest);
        })
        .catch((e: unknown) => live && setError(e instanceof ApiError && e.status === 404 ? t('technician.live.notFound') : t('common.error', { message: String((e as Error).message) })));
    void load();
    const off = stream.subscribe((m) => {
      if (m.type === 'reset') void load();
      if (m.type !== 'readings') return;
      const mine = m.readings.filter((r) => r.dev === id);
      if (!mine.length) return;
      const at = Date.now();
      setLatest((prev) => {
        const next = { ...prev };
        for (const r of mine) {
          const cur = next[r.metric];
          if (!cur || r.ts >= cur.ts) next[r.metric] = { value: r.value, unit: cur?.unit ?? null, ts: r.ts, q: r.q, gw: r.gw, seq: r.seq };
        }
        return next;
      });
      setRecent((prev) => [...mine.map((r) => ({ metric: r.metric, value: r.value, q: r.q, ts: r.ts, seq: r.seq, receivedAt: at })).reverse(), ...prev].slice(0, RECENT));
    });
    return () => {
      live = false;
      off();
    };
  }, [id, stream]);

  const metrics = Object.keys(latest).sort();
  return (
    <div class="tech-sections">
      <p><a {...linkProps('/technician')}>← {t('common.back')}</a></p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {device ? (
        <>
          <section class="panel" aria-labelledby="dev-title">
            <h1 id="dev-title">{t('technician.live.device', { name: device.name })}</h1>
            <p class="muted">
              <code>{device.id}</code> · {device.profile} · {t('technician.live.gateway', { gw: device.gateway })} · {t('common.commune')} {device.communeCode}
            </p>
            <p class="muted">{t('technician.live.intro')}</p>
            {metrics.length === 0 ? (
              <p>{t('technician.live.noValue')}</p>
            ) : (
              <table data-testid="live-values">
                <TableHead cols={['technician.live.metric', 'common.value', 'technician.live.quality', 'common.time', 'technician.live.age']} />
                <tbody>
                  {metrics.map((k) => {
                    const v = latest[k]!;
                    return (
                      <tr key={k} data-metric={k}>
                        <th scope="row"><MetricName id={k} /></th>
                        <td class="tech-live-value" data-col="value">{fmtValue(v.value, v.unit)}</td>
                        <td><Quality q={v.q} />{v.reason ? <div class="muted">{v.reason}</div> : null}</td>
                        <td>{fmtDateTime(v.ts)}</td>
                        <td data-col="age">{fmtAge(v.ts, now)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </section>
          <section class="panel" aria-labelledby="recent-title">
            <h2 id="recent-title">{t('technician.live.recent')}</h2>
            {recent.length === 0 ? (
              <p class="muted" aria-busy="true">{t('technician.live.waiting')}</p>
            ) : (
              <table data-testid="live-recent">
                <tbody>
                  {recent.map((r) => (
                    <tr key={`${r.seq}-${r.metric}`}>
                      <td>{fmtDateTime(r.ts)}</td>
                      <td><MetricName id={r.metric} /></td>
                      <td>{fmtValue(r.value, latest[r.metric]?.unit)}</td>
                      <td><Quality q={r.q} /></td>
                      <td class="muted">#{r.seq}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      ) : !error ? (
        <p class="muted" aria-busy="true">{t('common.loading')}</p>
      ) : null}
    </div>
  );
}

/** The metric's name in the reader's language, and its id (what a technician configures) beside it. */
function MetricName(props: { id: string }) {
  const label = metricLabel(props.id);
  return label === props.id ? <code>{props.id}</code> : <>{label} <code class="muted">{props.id}</code></>;
}
