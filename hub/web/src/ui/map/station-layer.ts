/**
 * Every station symbol on ONE canvas (a Leaflet layer): a thousand symbols as page elements were
 * re-laid out and re-rastered on every change, the costliest part of a busy watch desk; one
 * canvas redraws them in a millisecond or two, at most once a frame. Clicks and hovers are found
 * by hit-testing the drawn positions (the canvas itself takes no pointer events, so dragging the
 * map works through it). A canvas cannot be focused: the station list (station-list.tsx) gives
 * keyboard and screen-reader access, and drives focusStation() here.
 */
import L from 'leaflet';
import { BOX, drawSymbol, paintRank, type SymbolState } from './shapes.js';

export interface StationPoint {
  id: string;
  latLng: L.LatLngExpression;
  state: SymbolState;
}

export interface StationLayerOptions {
  /** The tooltip's content for a station: built when it opens and again on each update while open. */
  describe(id: string): HTMLElement | string;
  /** A station was clicked on the map. */
  onChoose(id: string): void;
}

/** How far from a symbol's centre a pointer still hits it (CSS px). */
const HIT = BOX / 2 + 2;
const PANE = 'stations';

export class StationLayer extends L.Layer {
  #opts: StationLayerOptions;
  #points: Array<{ id: string; latLng: L.LatLng; state: SymbolState }> = [];
  /** Container px of #points as last drawn, x and y interleaved (NaN: off screen). */
  #xy = new Float64Array(0);
  #canvas: HTMLCanvasElement | null = null;
  #frame = 0;
  #hoverId: string | null = null;
  #focusId: string | null = null;
  #tip = L.tooltip({ direction: 'top', offset: [0, -BOX / 2], className: 'st-tooltip' });
  #colours = new Map<string, string>();

  constructor(opts: StationLayerOptions) {
    super();
    this.#opts = opts;
  }

  /** Replaces the stations; drawn in the next animation frame (several calls cost one draw). */
  setStations(points: readonly StationPoint[]): this {
    this.#points = points.map((p) => ({ id: p.id, latLng: L.latLng(p.latLng), state: p.state })).sort((a, b) => paintRank(a.state) - paintRank(b.state));
    this.#schedule();
    this.#updateTip();
    return this;
  }

  /**
   * Shows a station as chosen from outside the map (the station list has focus on it): a ring
   * and its tooltip, the map panned to it if it is out of view; null takes them away again.
   */
  focusStation(id: string | null, opts: { center?: boolean } = {}): this {
    this.#focusId = id;
    const p = id === null ? undefined : this.#points.find((x) => x.id === id);
    if (p && this._map) {
      if (opts.center) this._map.setView(p.latLng, this._map.getZoom(), { animate: false });
      else if (!this._map.getBounds().contains(p.latLng)) this._map.panTo(p.latLng, { animate: false });
    }
    this.#schedule();
    this.#updateTip();
    return this;
  }

  /** The station drawn under a container point (the top-most one), if any. */
  hitTest(pt: L.Point): string | null {
    for (let i = this.#points.length - 1; i >= 0; i--) {
      const dx = this.#xy[2 * i]! - pt.x;
      const dy = this.#xy[2 * i + 1]! - pt.y;
      if (dx * dx + dy * dy <= HIT * HIT) return this.#points[i]!.id;
    }
    return null;
  }

  override onAdd(map: L.Map): this {
    const pane = map.getPane(PANE) ?? map.createPane(PANE);
    // Above shapes and tiles, below tooltips (650) and popups.
    pane.style.zIndex = '600';
    const canvas = L.DomUtil.create('canvas', 'station-layer leaflet-zoom-hide', pane);
    canvas.setAttribute('aria-hidden', 'true');
    canvas.dataset.testid = 'station-layer';
    canvas.style.pointerEvents = 'none';
    this.#canvas = canvas;
    map.on('move viewreset zoomend resize', this.#schedule, this);
    map.on('mousemove', this.#onMove, this);
    map.on('mouseout', this.#onOut, this);
    map.on('click', this.#onClick, this);
    this.#draw();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off('move viewreset zoomend resize', this.#schedule, this);
    map.off('mousemove', this.#onMove, this);
    map.off('mouseout', this.#onOut, this);
    map.off('click', this.#onClick, this);
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#tip.remove();
    this.#canvas?.remove();
    this.#canvas = null;
    return this;
  }

  #schedule(): void {
    if (!this.#frame && this._map) this.#frame = requestAnimationFrame(() => this.#draw());
  }

  #colour(prop: string): string {
    let c = this.#colours.get(prop);
    if (c === undefined && this._map) this.#colours.set(prop, (c = getComputedStyle(this._map.getContainer()).getPropertyValue(prop).trim() || '#888'));
    return c ?? '#888';
  }

  #draw(): void {
    this.#frame = 0;
    const map = this._map;
    const canvas = this.#canvas;
    if (!map || !canvas) return;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(size.x * dpr) || canvas.height !== Math.round(size.y * dpr)) {
      canvas.width = Math.round(size.x * dpr);
      canvas.height = Math.round(size.y * dpr);
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
    }
    // The pane moves with the map while dragging: keep the canvas over the container.
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    if (this.#xy.length !== 2 * this.#points.length) this.#xy = new Float64Array(2 * this.#points.length);
    const colour = (p: string) => this.#colour(p);
    let ring: L.Point | null = null;
    this.#points.forEach((p, i) => {
      const c = map.latLngToContainerPoint(p.latLng);
      const visible = c.x > -BOX && c.y > -BOX && c.x < size.x + BOX && c.y < size.y + BOX;
      this.#xy[2 * i] = visible ? c.x : NaN;
      this.#xy[2 * i + 1] = visible ? c.y : NaN;
      if (!visible) return;
      drawSymbol(ctx, p.state, c.x, c.y, colour);
      if (p.id === this.#focusId) ring = c;
    });
    // The station the list has focus on: a ring in the focus colour, drawn over everything.
    if (ring) {
      const r: L.Point = ring;
      ctx.setLineDash([]);
      ctx.strokeStyle = this.#colour('--accent');
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(r.x, r.y, BOX / 2 + 5, 0, 2 * Math.PI);
      ctx.stroke();
    }
    canvas.dataset.count = String(this.#points.length);
  }

  #onMove(e: L.LeafletMouseEvent): void {
    const id = this.hitTest(e.containerPoint);
    if (id === this.#hoverId) return;
    this.#hoverId = id;
    this._map?.getContainer().classList.toggle('st-hover', id !== null);
    this.#updateTip();
  }

  #onOut(): void {
    if (this.#hoverId === null) return;
    this.#hoverId = null;
    this._map?.getContainer().classList.remove('st-hover');
    this.#updateTip();
  }

  #onClick(e: L.LeafletMouseEvent): void {
    const id = this.hitTest(e.containerPoint);
    if (id !== null) this.#opts.onChoose(id);
  }

  /** The tooltip follows the hovered station, else the one the list has focus on, else closes. */
  #updateTip(): void {
    const map = this._map;
    const id = this.#hoverId ?? this.#focusId;
    const p = id === null ? undefined : this.#points.find((x) => x.id === id);
    if (!map || !p) {
      this.#tip.remove();
      return;
    }
    this.#tip.setLatLng(p.latLng).setContent(this.#opts.describe(p.id));
    if (!map.hasLayer(this.#tip)) this.#tip.openOn(map);
  }
}
