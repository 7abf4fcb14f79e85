/**
 * The stations as the consoles show them: the devices in the caller's scope (GET /devices — the
 * hub scopes it), their gateways' links (GET /gateways), kept live from the stream, and each
 * one's state — alert level, stale, offline or normal. Stale and offline are states of their own:
 * a station that stopped talking must never look calm.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { AlertMessage, ReadingsMessage, StatusMessage, StreamMessage } from '../../api/stream.js';
import type { DeviceView, LatestValue } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { CATALOG } from '../../i18n/catalog.js';
import { lang, t, type MessageKey } from '../../i18n/index.js';
import { fmtNumber } from '../../format.js';
import { coalesce } from '../coalesce.js';

export interface GatewayLink {
  id: string;
  name: string | null;
  online: boolean;
  lastSeen: number | null;
}

export type StationKind = 'alert' | 'normal' | 'stale' | 'offline';

export interface StationState {
  kind: StationKind;
  /** The open alert's current level (0 when none or its condition has gone). */
  level: number;
  /** The newest reading's time, if any. */
  lastTs: number | null;
}

/** As the hub's no-data reckoning: stale after staleAfterS, else 3 × intervalS, at least 10 min. */
export function staleAfterMs(d: DeviceView): number {
  // Registry fields the hub sends with every device (DeviceEntry), not in the console's DeviceView yet.
  const { intervalS, staleAfterS } = d as DeviceView & { intervalS?: number; staleAfterS?: number };
  if (staleAfterS) return staleAfterS * 1000;
  return Math.max(3 * (intervalS ?? 0), 600) * 1000;
}

export function newestTs(d: DeviceView): number | null {
  let ts: number | null = null;
  for (const v of Object.values(d.latest)) if (ts === null || v.ts > ts) ts = v.ts;
  return ts;
}

export function stationState(d: DeviceView, gateways: ReadonlyMap<string, GatewayLink>, now: number): StationState {
  const lastTs = newestTs(d);
  const a = d.openAlert;
  const level = a && a.active ? a.level : 0;
  if (gateways.get(d.gateway)?.online === false) return { kind: 'offline', level, lastTs };
  if (a?.stale || lastTs === null || now - lastTs > staleAfterMs(d)) return { kind: 'stale', level, lastTs };
  return { kind: level > 0 ? 'alert' : 'normal', level, lastTs };
}

/** The metric a station is about: its alert's, else the first of these it reports, else any. */
const PRIMARY = ['water_level', 'rainfall', 'smoke', 'temperature', 'co', 'pm2_5', 'lamp_on'];
export function primaryMetric(d: DeviceView): string | null {
  const alertMetric = (d.openAlert as { metric?: string | null } | null)?.metric;
  if (alertMetric && d.latest[alertMetric]) return alertMetric;
  return PRIMARY.find((m) => d.latest[m]) ?? Object.keys(d.latest)[0] ?? null;
}

/** Measured quantities first (the station's purpose), housekeeping (status, fault) last. */
export function orderMetrics(metrics: readonly string[]): string[] {
  const rank = (m: string) => {
    const i = PRIMARY.indexOf(m);
    return i >= 0 ? i : m === 'status_word' || m === 'fault' ? 1000 : 100;
  };
  return [...metrics].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Metrics that tell a device's battery, in the order they are preferred. */
export const BATTERY_METRICS = ['battery', 'battery_v', 'battery_voltage'];

export function metricLabel(metric: string): string {
  const key = `map.metric.${metric}`;
  return key in CATALOG ? t(key as MessageKey) : metric;
}

export function fmtValue(v: Pick<LatestValue, 'value' | 'unit'> | undefined): string {
  if (!v || v.value === null) return '—';
  if (typeof v.value === 'boolean') return v.value ? t('map.yes') : t('map.no');
  const unit = v.unit && v.unit !== 'bool' ? ` ${v.unit}` : '';
  return `${fmtNumber(v.value, Math.abs(v.value) < 100 ? 2 : 0)}${unit}`;
}

/** The level's text: the alert's own label ("Báo động II"), or the state's word. */
export function stateText(d: DeviceView, s: StationState): string {
  if (s.kind === 'offline') return t('common.offline');
  if (s.kind === 'stale') return t('common.stale');
  if (s.level > 0 && d.openAlert) return d.openAlert.levelLabel[lang()];
  return t('common.normal');
}

export interface Stations {
  devices: DeviceView[];
  gateways: Map<string, GatewayLink>;
  loading: boolean;
  error: string | null;
  reload(): void;
}

const UPDATE_MS = 500;

/** The devices and gateways in scope, loaded once and then kept live from the stream. */
export function useStations(): Stations {
  const { stream } = useApp();
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const [gateways, setGateways] = useState<Map<string, GatewayLink>>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [gen, setGen] = useState(0);

  useEffect(() => {
    let live = true;
    const load = () =>
      Promise.all([api<{ devices: DeviceView[] }>('/devices'), api<{ gateways: GatewayLink[] }>('/gateways')])
        .then(([d, g]) => {
          if (!live) return;
          setDevices(d.devices);
          setGateways(new Map(g.gateways.map((x) => [x.id, { id: x.id, name: x.name, online: x.online, lastSeen: x.lastSeen }])));
          setError(null);
        })
        .catch((e: Error) => live && setError(e.message))
        .finally(() => live && setLoading(false));
    // One device again (its next open alert after one closed).
    const reloadDevice = (id: string) =>
      api<{ device: DeviceView }>(`/devices/${encodeURIComponent(id)}`)
        .then((r) => live && setDevices((ds) => ds.map((x) => (x.id === id ? r.device : x))))
        .catch(() => undefined);
    void load();
    // Messages are applied together, at most every UPDATE_MS and in an animation frame: each batch
    // re-renders the map's thousand stations (one canvas) and their list, and a map that follows
    // within half a second is live enough (the board itself follows within a quarter).
    const flush = (batch: StreamMessage[]) => {
      if (batch.some((m) => m.type === 'reset')) {
        void load();
        return;
      }
      const statuses = batch.filter((m): m is StatusMessage => m.type === 'status');
      if (statuses.length) {
        setGateways((prev) => {
          let next = prev;
          for (const m of statuses) {
            const cur = next.get(m.gw);
            if (cur && cur.online === m.online) continue;
            if (next === prev) next = new Map(prev);
            next.set(m.gw, { id: m.gw, name: cur?.name ?? null, online: m.online, lastSeen: m.lastSeen });
          }
          return next;
        });
      }
      // The newest reading per (device, metric) and the newest alert per device in this frame.
      const readings = new Map<string, ReadingsMessage['readings']>();
      const alerts = new Map<string, AlertMessage['alert']>();
      const closed = new Set<string>();
      for (const m of batch) {
        if (m.type === 'readings') for (const r of m.readings) readings.set(r.dev, [...(readings.get(r.dev) ?? []), r]);
        else if (m.type === 'alert' && m.alert.dev) {
          alerts.set(m.alert.dev, m.alert);
          if (m.alert.state === 'closed') closed.add(m.alert.dev);
          else closed.delete(m.alert.dev);
        }
      }
      if (!readings.size && !alerts.size) return;
      setDevices((ds) =>
        ds.map((d) => {
          const rs = readings.get(d.id);
          const a = alerts.get(d.id);
          if (!rs && !a) return d;
          let next = d;
          if (rs) {
            const latest = { ...d.latest };
            for (const r of rs) {
              const cur = latest[r.metric];
              if (cur && cur.ts > r.ts) continue;
              latest[r.metric] = { value: r.value, unit: cur?.unit ?? null, ts: r.ts, q: r.q, gw: r.gw, seq: r.seq };
            }
            next = { ...next, latest };
          }
          if (a) {
            if (a.state === 'closed') {
              if (next.openAlert?.id === a.id) next = { ...next, openAlert: null };
            } else if (!next.openAlert || next.openAlert.id <= a.id) {
              next = { ...next, openAlert: a };
            }
          }
          return next;
        }),
      );
      // Closed: the device may have another alert still open — ask the hub.
      for (const dev of closed) void reloadDevice(dev);
    };
    const incoming = coalesce(flush, UPDATE_MS);
    const off = stream.subscribe((m) => {
      if (m.type !== 'reset' && m.type !== 'status' && m.type !== 'readings' && m.type !== 'alert') return;
      incoming.push(m);
    });
    return () => {
      live = false;
      off();
      incoming.cancel();
    };
  }, [stream, gen]);

  return { devices, gateways, loading, error, reload: () => setGen((n) => n + 1) };
}

/** Re-renders every `ms` (ages, staleness). */
export function useTick(ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
