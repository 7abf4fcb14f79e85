/**
 * The hydrograph of an alert's station: the last 6 / 24 / 72 h of its water level (uPlot), the
 * BĐ I/II/III lines and the historic flood level drawn and labelled, live from the stream, and the
 * trend of the last ~30 minutes as an arrow with its rate in words.
 *
 * 6 h is drawn from raw readings; 24 h and 72 h from ~720 averaged buckets (GET /readings?step=),
 * so a station polled every few seconds still draws in one request. Stream readings are appended.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { ReadingRow } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtDateTime, fmtNumber, TIME_ZONE } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import { errorText } from './board.js';

export interface Threshold {
  key: 'alert.bd1' | 'alert.bd2' | 'alert.bd3' | 'alert.historic';
  value: number;
  colour: string;
}

const RANGES = [6, 24, 72] as const;
const POINTS = 720;
const TREND_MS = 30 * 60_000;

interface Bucket {
  t: number;
  avg: number;
}

type Points = { ts: number[]; v: number[] };

/** Metres per hour over the last ~30 min (least squares), or null with fewer than 3 points. */
export function slopePerHour(p: Points): number | null {
  const last = p.ts.at(-1);
  if (last === undefined) return null;
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = p.ts.length - 1; i >= 0 && p.ts[i]! >= last - TREND_MS; i--) {
    const x = (p.ts[i]! - last) / 3_600_000;
    const y = p.v[i]!;
    n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  const d = n * sxx - sx * sx;
  if (n < 3 || d === 0) return null;
  return (n * sxy - sx * sy) / d;
}

export function Trend({ points, unit }: { points: Points; unit: string }) {
  useLang();
  const s = slopePerHour(points);
  let text: string;
  let dir: string;
  if (s === null) {
    text = t('alert.trendUnknown');
    dir = 'unknown';
  } else if (Math.abs(s) < 0.01) {
    text = t('alert.trendFlat');
    dir = 'flat';
  } else {
    const rate = `${fmtNumber(Math.abs(s), 2)} ${unit}`;
    text = s > 0 ? t('alert.trendUp', { rate }) : t('alert.trendDown', { rate });
    dir = s > 0 ? 'up' : 'down';
  }
  return (
    <p>
      {t('alert.trend')}: <span class="trend" data-testid="trend" data-trend={dir}>{text}</span>
    </p>
  );
}

async function loadPoints(dev: string, metric: string, hours: number): Promise<{ points: Points; unit: string }> {
  const now = Date.now();
  const from = now - hours * 3_600_000;
  const q = new URLSearchParams({ dev, metric });
  const points: Points = { ts: [], v: [] };
  if (hours <= 6) {
    // The newest readings (no `from`: the API pages forward from `from`), cut to the window.
    q.set('limit', '20000');
    const r = await api<{ unit: string; readings: ReadingRow[] }>(`/readings?${q}`);
    for (const row of r.readings ?? []) {
      if (row.ts >= from && typeof row.value === 'number' && row.q !== 'bad') {
        points.ts.push(row.ts);
        points.v.push(row.value);
      }
    }
    return { points, unit: r.unit };
  }
  q.set('from', String(from));
  q.set('step', String(Math.ceil((hours * 3_600_000) / POINTS)));
  q.set('limit', String(POINTS + 2));
  const r = await api<{ unit: string; buckets: Bucket[] }>(`/readings?${q}`);
  for (const b of r.buckets ?? []) {
    points.ts.push(b.t);
    points.v.push(b.avg);
  }
  return { points, unit: r.unit };
}

export function Hydrograph({ dev, metric, thresholds }: { dev: string; metric: string; thresholds: Threshold[] }) {
  const lang = useLang();
  const { stream } = useApp();
  const [hours, setHours] = useState<number>(6);
  const [data, setData] = useState<{ points: Points; unit: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    let gone = false;
    setError(null);
    loadPoints(dev, metric, hours).then(
      (d) => !gone && setData(d),
      (err) => !gone && setError(errorText(err)),
    );
    return () => void (gone = true);
  }, [dev, metric, hours]);

  // Live: the device's new readings appended (the window's start moves on with them).
  useEffect(
    () =>
      stream.subscribe((m) => {
        if (m.type !== 'readings') return;
        const fresh = m.readings.filter((r) => r.dev === dev && r.metric === metric && typeof r.value === 'number' && r.q !== 'bad');
        if (fresh.length === 0) return;
        setData((d) => {
          if (!d) return d;
          const ts = [...d.points.ts];
          const v = [...d.points.v];
          for (const r of fresh) {
            if (ts.length && r.ts <= ts.at(-1)!) continue;
            ts.push(r.ts);
            v.push(r.value as number);
          }
          const from = Date.now() - hours * 3_600_000;
          let cut = 0;
          while (cut < ts.length && ts[cut]! < from) cut++;
          return { unit: d.unit, points: { ts: ts.slice(cut), v: v.slice(cut) } };
        });
      }),
    [stream, dev, metric, hours],
  );

  // The chart: made once per (thresholds, language, range), fed with setData afterwards.
  useEffect(() => {
    const el = box.current;
    if (!el || !data) return;
    const xs = data.points.ts.map((x) => x / 1000);
    // Tick labels in station time: the date on long ranges, seconds when ticks are under a minute apart.
    const loc = lang === 'vi' ? 'vi-VN' : 'en-GB';
    const base = { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hour12: false } as const;
    const tickDay = new Intl.DateTimeFormat(loc, { ...base, day: '2-digit', month: '2-digit' });
    const tickMin = new Intl.DateTimeFormat(loc, base);
    const tickSec = new Intl.DateTimeFormat(loc, { ...base, second: '2-digit' });
    const ticks = (splits: number[]) => {
      const gap = splits.length > 1 ? splits[1]! - splits[0]! : 3600;
      const f = gap < 60 ? tickSec : hours > 12 && gap >= 3600 ? tickDay : tickMin;
      return splits.map((x) => f.format(x * 1000));
    };
    const series: uPlot.Series[] = [
      { label: t('common.time'), value: (_u, v) => (v == null ? '—' : fmtDateTime(v * 1000)) },
      { label: `${t('alert.series')} (${data.unit})`, stroke: '#4ea1ff', width: 2, points: { show: false } },
      ...thresholds.map((th) => ({ label: `${t(th.key)} ${fmtNumber(th.value)} ${data.unit}`, stroke: th.colour, width: 1.5, dash: [8, 6], points: { show: false } })),
    ];
    const rows = [xs, data.points.v, ...thresholds.map((th) => xs.map(() => th.value))] as uPlot.AlignedData;
    if (plot.current) {
      plot.current.setData(rows);
      return;
    }
    const axis = { stroke: '#9fb0c2', grid: { stroke: '#2c3a4a' }, ticks: { stroke: '#2c3a4a' } };
    plot.current = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 320,
        series,
        axes: [{ ...axis, values: (_u, splits) => ticks(splits) }, { ...axis, label: data.unit, values: (_u, splits) => splits.map((x) => fmtNumber(x)) }],
        scales: { x: { time: true } },
        // Station times, whatever the browser's zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
        legend: { live: true },
      },
      rows,
      el,
    );
  }, [data, thresholds, lang]);

  // A new chart when the range, language or thresholds change; gone with the page.
  useEffect(() => () => {
    plot.current?.destroy();
    plot.current = null;
  }, [hours, thresholds, lang]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 320 }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  return (
    <div>
      <div class="row range-toggle" role="group" aria-label={t('alert.rangeLabel')}>
        {RANGES.map((h) => (
          <button type="button" aria-pressed={h === hours} onClick={() => setHours(h)} key={h}>
            {t('alert.range', { h })}
          </button>
        ))}
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {data && data.points.ts.length === 0 ? <p class="muted">{t('alert.noReadings')}</p> : null}
      <div class="hydrograph" ref={box} data-testid="hydrograph" />
      {data ? <Trend points={data.points} unit={data.unit} /> : null}
      <p class="muted small">
        {thresholds.map((th) => (
          <span key={th.key} style={{ marginRight: '1em' }}>
            <span class="legend-line" style={{ borderColor: th.colour }} aria-hidden="true" />
            {t(th.key)}: {fmtNumber(th.value)} {data?.unit ?? ''}
          </span>
        ))}
      </p>
    </div>
  );
}
