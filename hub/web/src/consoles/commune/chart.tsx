/**
 * One metric of a device over the last 24 h (uPlot): one-minute averages from GET /readings with
 * step, with the min–max band, times on the axis in Asia/Ho_Chi_Minh. Reloaded every minute.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import { fmtNumber, fmtTime, TIME_ZONE } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import { metricLabel } from '../../ui/map/stations.js';

interface Bucket {
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

const DAY = 24 * 3_600_000;
const STEP = 60_000;

export function MetricChart(props: { dev: string; metric: string }) {
  const lang = useLang();
  const host = useRef<HTMLDivElement>(null);
  const [data, setData] = useState<{ unit: string; from: number; to: number; buckets: Bucket[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () => {
      const to = Date.now();
      api<{ unit: string; buckets?: Bucket[] }>(`/readings?dev=${encodeURIComponent(props.dev)}&metric=${encodeURIComponent(props.metric)}&from=${to - DAY}&to=${to}&step=${STEP}&limit=${DAY / STEP + 1}`)
        .then((r) => live && setData({ unit: r.unit, from: to - DAY, to, buckets: r.buckets ?? [] }))
        .catch((e: Error) => live && setError(e.message));
    };
    load();
    const id = setInterval(load, 60_000);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [props.dev, props.metric]);

  useEffect(() => {
    const el = host.current;
    if (!el || !data || !data.buckets.length) return;
    const unit = data.unit === 'bool' ? '' : data.unit;
    const xs = data.buckets.map((b) => b.t / 1000);
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      // uPlot's own axis labels in the hub's zone, whatever the browser's.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      // Always the whole day, however little of it has data yet.
      scales: { x: { time: true, range: () => [data.from / 1000, data.to / 1000] } },
      axes: [
        // 24-hour clock in Asia/Ho_Chi_Minh, as every time in the consoles (uPlot's default is US style).
        { stroke: '#9fb0c2', grid: { stroke: '#2c3a4a' }, ticks: { stroke: '#2c3a4a' }, values: (_u, vals) => vals.map((v) => fmtTime(v * 1000)) },
        { stroke: '#9fb0c2', grid: { stroke: '#2c3a4a' }, ticks: { stroke: '#2c3a4a' }, values: (_u, vals) => vals.map((v) => `${fmtNumber(v)}${unit ? ' ' + unit : ''}`), size: 70 },
      ],
      series: [
        {},
        { label: 'min', stroke: 'rgba(78,161,255,0.25)', width: 1 },
        { label: 'max', stroke: 'rgba(78,161,255,0.25)', width: 1 },
        { label: metricLabel(props.metric), stroke: '#4ea1ff', width: 2, spanGaps: false },
      ],
      bands: [{ series: [2, 1], fill: 'rgba(78,161,255,0.12)' }],
    };
    const plot = new uPlot(opts, [xs, data.buckets.map((b) => b.min), data.buckets.map((b) => b.max), data.buckets.map((b) => b.avg)], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, lang]);

  const last = data?.buckets[data.buckets.length - 1];
  return (
    <figure class="metric-chart panel" data-testid={`chart-${props.metric}`}>
      <figcaption>
        <strong>{metricLabel(props.metric)}</strong> <span class="muted">{t('commune.chart24h')}</span>
        {last ? <span class="muted"> · {t('commune.chartLast', { time: fmtTime(last.t) })}</span> : null}
      </figcaption>
      {error ? <p class="error">{t('common.error', { message: error })}</p> : null}
      {data && !data.buckets.length ? <p class="muted">{t('commune.noData24h')}</p> : null}
      <div ref={host} class="chart-canvas" role="img" aria-label={`${metricLabel(props.metric)} — ${t('commune.chart24h')}`} />
    </figure>
  );
}
