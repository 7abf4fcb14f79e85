/**
 * The station map (watch desk, commune console): Leaflet with the configured tile server, or —
 * with none configured, or when its tiles fail — Vietnam's outline bundled with the app (no
 * request leaves the hub's origin then). Stations are markers shaped and coloured by state, with
 * a tooltip (name, last value and its age, level text); commune centres are small labelled dots.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './map.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtAge } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import outline from '../../map/outline.generated.json';
import { shapeSvg, stateClass } from './shapes.js';
import { fmtValue, metricLabel, primaryMetric, stateText, stationState, useTick, type GatewayLink, type StationState } from './stations.js';

export interface StationMapProps {
  devices: DeviceView[];
  gateways: ReadonlyMap<string, GatewayLink>;
  /** A station was chosen (click, or Enter on the focused marker). */
  onStation?: (d: DeviceView, s: StationState) => void;
  /** Show commune centres (default true). */
  communes?: boolean;
  /** Accessible name of the map region. */
  label?: string;
  class?: string;
}

type Outline = GeoJSON.FeatureCollection<GeoJSON.Geometry, { iso: string }>;

function el(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The tooltip's content as DOM nodes (textContent: names from the registry are never HTML). */
function tooltipFor(d: DeviceView, s: StationState, now: number): HTMLElement {
  const box = el('div', 'st-tip');
  box.append(el('strong', '', d.name));
  const m = primaryMetric(d);
  const v = m ? d.latest[m] : undefined;
  box.append(el('div', '', m && v ? `${metricLabel(m)}: ${fmtValue(v)} · ${fmtAge(v.ts, now)}` : `${t('map.lastValue')}: — · ${fmtAge(s.lastTs, now)}`));
  box.append(el('div', `st-tip-state ${stateClass(s)}`, stateText(d, s)));
  return box;
}

function iconFor(d: DeviceView, s: StationState): L.DivIcon {
  return L.divIcon({ className: 'st-marker', html: shapeSvg(s), iconSize: [26, 26], iconAnchor: [13, 13], tooltipAnchor: [12, 0] });
}

export function StationMap(props: StationMapProps) {
  const lang = useLang();
  const { config } = useApp();
  const now = useTick();
  const host = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const markers = useRef(new Map<string, L.Marker>());
  const fitted = useRef(false);
  const onStation = useRef(props.onStation);
  onStation.current = props.onStation;
  const [offlineBase, setOfflineBase] = useState(config.tiles === null);

  // The map itself, once.
  useEffect(() => {
    if (!host.current) return;
    const map = L.map(host.current, { zoomControl: true, attributionControl: config.tiles !== null, worldCopyJump: false, minZoom: 4, maxZoom: 17 });
    mapRef.current = map;
    const outlineLayer = L.geoJSON(outline as Outline, {
      interactive: false,
      style: (f) => {
        const vn = f?.properties.iso === 'VN';
        return { className: `map-outline map-outline-${f?.properties.iso ?? 'x'}`, color: vn ? '#6f8fb0' : '#3b4b5c', weight: vn ? 1.5 : 1, fillColor: vn ? '#24384d' : '#18222d', fillOpacity: vn ? 0.9 : 0.6 };
      },
    });
    const useOutline = () => {
      if (!map.hasLayer(outlineLayer)) outlineLayer.addTo(map).bringToBack();
      setOfflineBase(true);
    };
    if (config.tiles) {
      const tiles = L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 19, crossOrigin: false });
      // A tile server out of reach (no internet, server down): the outline instead, and say so.
      let fellBack = false;
      tiles.on('tileerror', () => {
        if (fellBack) return;
        fellBack = true;
        map.removeLayer(tiles);
        useOutline();
      });
      tiles.addTo(map);
    } else {
      useOutline();
    }
    // Vietnam until the stations are known.
    map.fitBounds(L.latLngBounds([8.2, 102.1], [23.4, 109.5]));
    // The container's size is known only after layout (a panel that was just shown, a phone rotated).
    const ro = new ResizeObserver(() => map.invalidateSize());
    ro.observe(host.current);
    return () => {
      ro.disconnect();
      map.remove();
      mapRef.current = null;
      markers.current.clear();
      drawn.current.clear();
      fitted.current = false;
    };
  }, [config.tiles]);

  // Commune centres: small labelled dots (not interactive: the stations are what one clicks).
  useEffect(() => {
    const map = mapRef.current;
    if (!map || props.communes === false) return;
    const layer = L.layerGroup(
      config.communes
        .filter((c) => typeof c.lat === 'number' && typeof c.lon === 'number')
        .map((c) =>
          L.circleMarker([c.lat!, c.lon!], { radius: 4, color: '#cfd6dd', weight: 1, fillColor: '#cfd6dd', fillOpacity: 0.8, className: 'commune-centre', interactive: false })
            .bindTooltip(c.name, { permanent: true, direction: 'bottom', className: 'commune-label', offset: [0, 4] }),
        ),
    ).addTo(map);
    return () => void layer.remove();
  }, [config.communes, props.communes]);

  // Stations: add, update, remove as the devices and their states change. Only what changed is
  // touched: a changed device arrives as a new object (useStations), and a marker's icon is rebuilt
  // only when its state or level changed — 200 alert changes a second must not redraw 1,000 icons.
  const drawn = useRef(new Map<string, { d: DeviceView; key: string }>());
  const drawnWith = useRef<{ gateways: unknown; now: number; lang: string } | null>(null);
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const all = drawnWith.current?.gateways !== props.gateways || drawnWith.current.now !== now || drawnWith.current.lang !== lang;
    drawnWith.current = { gateways: props.gateways, now, lang };
    const seen = new Set<string>();
    for (const d of props.devices) {
      if (!Number.isFinite(d.lat) || !Number.isFinite(d.lon)) continue;
      seen.add(d.id);
      const prev = drawn.current.get(d.id);
      if (!all && prev?.d === d) continue;
      const s = stationState(d, props.gateways, now);
      const label = `${d.name}: ${stateText(d, s)}`;
      let m = markers.current.get(d.id);
      if (!m) {
        m = L.marker([d.lat, d.lon], { keyboard: true, riseOnHover: true, title: label, alt: label, icon: iconFor(d, s) });
        const choose = () => {
          const cur = markers.current.get(d.id) as (L.Marker & { _dev?: DeviceView; _state?: StationState }) | undefined;
          if (cur?._dev && cur._state) onStation.current?.(cur._dev, cur._state);
        };
        m.on('click', choose);
        // Leaflet makes the marker focusable (keyboard: true) but fires click on Enter only with a popup.
        m.on('keypress', (e) => {
          if ((e as L.LeafletKeyboardEvent).originalEvent.key === 'Enter') choose();
        });
        // The tooltip is built when it opens, from the marker's current device and state.
        const marker = m as L.Marker & { _dev?: DeviceView; _state?: StationState };
        m.bindTooltip(() => (marker._dev && marker._state ? tooltipFor(marker._dev, marker._state, Date.now()) : ''), { direction: 'top', offset: [0, -10] });
        m.addTo(map);
        markers.current.set(d.id, m);
      } else if (prev && (prev.d.lat !== d.lat || prev.d.lon !== d.lon)) {
        m.setLatLng([d.lat, d.lon]);
      }
      Object.assign(m, { _dev: d, _state: s });
      const key = `${s.kind}|${s.level}|${label}`;
      if (prev?.key !== key) {
        const iconEl = m.getElement();
        // The shape is redrawn in the marker's own element: Leaflet's setIcon would replace and
        // reposition the element for every change.
        if (prev && (prev.key.split('|')[0] !== s.kind || prev.key.split('|')[1] !== String(s.level))) {
          m.options.icon = iconFor(d, s);
          if (iconEl) iconEl.innerHTML = shapeSvg(s);
          m.setZIndexOffset(s.kind === 'alert' ? 1000 * s.level : s.kind === 'normal' ? 0 : 500);
        } else if (!prev) {
          m.setZIndexOffset(s.kind === 'alert' ? 1000 * s.level : s.kind === 'normal' ? 0 : 500);
        }
        if (iconEl) {
          iconEl.dataset.dev = d.id;
          iconEl.dataset.state = s.kind;
          iconEl.dataset.level = String(s.level);
          iconEl.setAttribute('aria-label', label);
          iconEl.setAttribute('role', 'button');
          iconEl.title = label;
        }
      }
      if (m.isTooltipOpen()) m.setTooltipContent(tooltipFor(d, s, now));
      drawn.current.set(d.id, { d, key });
    }
    for (const [id, m] of markers.current) {
      if (!seen.has(id)) {
        m.remove();
        markers.current.delete(id);
        drawn.current.delete(id);
      }
    }
    // Fit to the stations once they are known (later updates leave the operator's view alone).
    if (!fitted.current && seen.size) {
      const pts = props.devices.filter((d) => seen.has(d.id)).map((d) => L.latLng(d.lat, d.lon));
      // Wide enough to see where the stations are (a single station alone would fill the screen).
      map.fitBounds(L.latLngBounds(pts).pad(0.5), { maxZoom: 12 });
      fitted.current = true;
    }
  }, [props.devices, props.gateways, now, lang]);

  return (
    <div class={`station-map ${props.class ?? ''}`}>
      <div ref={host} class="station-map-canvas" role="region" aria-label={props.label ?? t('map.title')} data-testid="station-map" data-base={offlineBase ? 'outline' : 'tiles'} />
      {offlineBase ? <p class="map-note muted" data-testid="map-offline-note">{t('map.offlineBase')}</p> : null}
      <MapLegend />
    </div>
  );
}

const LEGEND: Array<{ s: Pick<StationState, 'kind' | 'level'>; key: Parameters<typeof t>[0] }> = [
  { s: { kind: 'normal', level: 0 }, key: 'common.normal' },
  { s: { kind: 'alert', level: 1 }, key: 'map.level1' },
  { s: { kind: 'alert', level: 2 }, key: 'map.level2' },
  { s: { kind: 'alert', level: 3 }, key: 'map.level3' },
  { s: { kind: 'alert', level: 4 }, key: 'map.level4' },
  { s: { kind: 'stale', level: 0 }, key: 'map.legendStale' },
  { s: { kind: 'offline', level: 0 }, key: 'map.legendOffline' },
];

export function MapLegend() {
  useLang();
  return (
    <div class="map-legend" data-testid="map-legend">
      <strong>{t('map.legend')}:</strong>
      <ul>
        {LEGEND.map((e) => (
          <li key={e.key}>
            <span class="legend-shape" dangerouslySetInnerHTML={{ __html: shapeSvg(e.s, 18) }} /> {t(e.key)}
          </li>
        ))}
        <li>
          <span class="legend-commune" aria-hidden="true" /> {t('map.communeCentre')}
        </li>
      </ul>
    </div>
  );
}
