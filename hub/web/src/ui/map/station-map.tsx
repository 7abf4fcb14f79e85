/**
 * The station map (watch desk, commune console): Leaflet with the configured tile server, or —
 * with none configured, or when its tiles fail — Vietnam's outline bundled with the app (no
 * request leaves the hub's origin then). Stations are symbols shaped and coloured by state, all on
 * one canvas (station-layer.ts), with a tooltip (name, last value and its age, level text) and a
 * station list under the map for the keyboard; commune centres are small labelled dots.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './map.css';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtAge } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import outline from '../../map/outline.generated.json';
import { shapeSvg, stateClass } from './shapes.js';
import { StationLayer } from './station-layer.js';
import { StationList, type StationEntry } from './station-list.js';
import { fmtValue, metricLabel, primaryMetric, stateText, stationState, useTick, type GatewayLink, type StationState } from './stations.js';

export interface StationMapProps {
  devices: DeviceView[];
  gateways: ReadonlyMap<string, GatewayLink>;
  /** A station was chosen (a click on its symbol, or its entry in the station list). */
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

export function StationMap(props: StationMapProps) {
  const lang = useLang();
  const { config } = useApp();
  const now = useTick();
  const host = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const layerRef = useRef<StationLayer | null>(null);
  const fitted = useRef(false);
  const [offlineBase, setOfflineBase] = useState(config.tiles === null);

  // The stations with coordinates and their states; the layer's callbacks read the latest ones.
  const entries = useMemo(
    () => props.devices.filter((d) => Number.isFinite(d.lat) && Number.isFinite(d.lon)).map((d) => ({ d, s: stationState(d, props.gateways, now) })),
    [props.devices, props.gateways, now, lang],
  );
  const byId = useRef(new Map<string, StationEntry>());
  byId.current = new Map(entries.map((e) => [e.d.id, e]));
  const onStation = useRef(props.onStation);
  onStation.current = props.onStation;
  const choose = (id: string) => {
    const e = byId.current.get(id);
    if (e) onStation.current?.(e.d, e.s);
  };

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
    const layer = new StationLayer({
      describe: (id) => {
        const e = byId.current.get(id);
        return e ? tooltipFor(e.d, e.s, Date.now()) : '';
      },
      onChoose: choose,
    }).addTo(map);
    layerRef.current = layer;
    // The container's size is known only after layout (a panel that was just shown, a phone rotated).
    const ro = new ResizeObserver(() => map.invalidateSize());
    ro.observe(host.current);
    return () => {
      ro.disconnect();
      map.remove();
      mapRef.current = null;
      layerRef.current = null;
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

  // Stations: one redraw of the canvas per change, whatever the number of stations that changed.
  useEffect(() => {
    const map = mapRef.current;
    const layer = layerRef.current;
    if (!map || !layer) return;
    layer.setStations(entries.map(({ d, s }) => ({ id: d.id, latLng: [d.lat, d.lon], state: s })));
    // Fit to the stations once they are known (later updates leave the operator's view alone).
    if (!fitted.current && entries.length) {
      // Wide enough to see where the stations are (a single station alone would fill the screen).
      map.fitBounds(L.latLngBounds(entries.map(({ d }) => L.latLng(d.lat, d.lon))).pad(0.5), { maxZoom: 12 });
      fitted.current = true;
    }
  }, [entries]);

  return (
    <div class={`station-map ${props.class ?? ''}`}>
      <div ref={host} class="station-map-canvas" role="region" aria-label={props.label ?? t('map.title')} data-testid="station-map" data-base={offlineBase ? 'outline' : 'tiles'} />
      {offlineBase ? <p class="map-note muted" data-testid="map-offline-note">{t('map.offlineBase')}</p> : null}
      <MapLegend />
      <StationList
        stations={entries}
        onFocusStation={(id) => layerRef.current?.focusStation(id)}
        onChoose={(id) => {
          layerRef.current?.focusStation(id, { center: true });
          choose(id);
        }}
      />
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
