/**
 * A station's symbol: shape AND colour by state, so it reads for colour-blind operators and in
 * grey on a video wall — the same shapes as LevelBadge (● normal, ▲ level 1, ◆ 2, ■ 3, ✖ beyond),
 * a dashed circle with "?" for stale data and a struck-through circle for a gateway offline.
 * Defined once, as SVG path data in a 26 × 26 box: the map's canvas layer draws it (Path2D takes
 * the same data), the legend and the station list show it as inline SVG. Nothing is fetched.
 */
import type { StationState } from './stations.js';

export type SymbolState = Pick<StationState, 'kind' | 'level'>;

/** The box the paths are drawn in, and a symbol's size on the map (CSS px). */
export const BOX = 26;

export interface SymbolSpec {
  /** CSS class of the state (also on tooltips and list entries). */
  cls: string;
  /** The shape's outline. */
  d: string;
  /** Fill: a theme property (`--lv1`: the canvas reads its value) or a colour. */
  fill: string;
  stroke: string;
  strokeWidth: number;
  dash?: [number, number];
  /** A white stroke drawn over the shape (offline's bar). */
  mark?: string;
  /** A white glyph in the middle (stale's "?"). */
  glyph?: string;
}

const circle = (r: number) => `M${13 - r} 13a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0Z`;
const DARK = '#0b121a';
const LIGHT = '#cfd6dd';

const LEVELS: readonly SymbolSpec[] = [
  { cls: 'st-lv0', d: circle(8), fill: '--ok', stroke: DARK, strokeWidth: 1.5 },
  { cls: 'st-lv1', d: 'M13 3L23.5 22H2.5Z', fill: '--lv1', stroke: DARK, strokeWidth: 1.5 },
  { cls: 'st-lv2', d: 'M13 2L24 13L13 24L2 13Z', fill: '--lv2', stroke: DARK, strokeWidth: 1.5 },
  { cls: 'st-lv3', d: 'M4 4H22V22H4Z', fill: '--lv3', stroke: '#fff', strokeWidth: 1.5 },
  { cls: 'st-lv4', d: 'M5 2L13 10L21 2L24 5L16 13L24 21L21 24L13 16L5 24L2 21L10 13L2 5Z', fill: '--lv4', stroke: '#fff', strokeWidth: 1.5 },
];
const STALE: SymbolSpec = { cls: 'st-stale', d: circle(9), fill: '#3b424b', stroke: LIGHT, strokeWidth: 2, dash: [4, 3], glyph: '?' };
const OFFLINE: SymbolSpec = { cls: 'st-offline', d: circle(9), fill: '--offline', stroke: LIGHT, strokeWidth: 2, mark: 'M6 20L20 6' };

export function symbolFor(s: SymbolState): SymbolSpec {
  if (s.kind === 'offline') return OFFLINE;
  if (s.kind === 'stale') return STALE;
  return LEVELS[Math.min(Math.max(s.kind === 'alert' ? s.level : 0, 0), 4)]!;
}

export function stateClass(s: SymbolState): string {
  return symbolFor(s).cls;
}

/** Drawing order: calm first, the highest level last (on top where symbols overlap). */
export function paintRank(s: SymbolState): number {
  return s.kind === 'normal' ? 0 : s.kind === 'alert' ? 10 + s.level : 5;
}

const fillCss = (fill: string) => (fill.startsWith('--') ? `var(${fill})` : fill);

/** The symbol as inline SVG (legend, station list). */
export function shapeSvg(s: SymbolState, size = BOX): string {
  const p = symbolFor(s);
  const dash = p.dash ? ` stroke-dasharray="${p.dash.join(' ')}"` : '';
  const mark = p.mark ? `<path d="${p.mark}" stroke="#fff" stroke-width="2.5"/>` : '';
  const glyph = p.glyph ? `<text x="13" y="17.5" text-anchor="middle" fill="#fff" font-size="12" font-weight="700" font-family="system-ui, sans-serif">${p.glyph}</text>` : '';
  return `<svg class="st-shape ${p.cls}" viewBox="0 0 ${BOX} ${BOX}" width="${size}" height="${size}" aria-hidden="true" focusable="false"><path d="${p.d}" style="fill:${fillCss(p.fill)}" stroke="${p.stroke}" stroke-width="${p.strokeWidth}"${dash}/>${mark}${glyph}</svg>`;
}

/** Path2D objects are built once per symbol, not per station and frame. */
const paths = new Map<string, Path2D>();
function path(d: string): Path2D {
  let p = paths.get(d);
  if (!p) paths.set(d, (p = new Path2D(d)));
  return p;
}

/** Draws a symbol centred on (x, y) in CSS px; `colour` resolves a theme property to a colour. */
export function drawSymbol(ctx: CanvasRenderingContext2D, s: SymbolState, x: number, y: number, colour: (prop: string) => string): void {
  const p = symbolFor(s);
  ctx.save();
  ctx.translate(x - BOX / 2, y - BOX / 2);
  const body = path(p.d);
  ctx.fillStyle = p.fill.startsWith('--') ? colour(p.fill) : p.fill;
  ctx.fill(body);
  ctx.strokeStyle = p.stroke;
  ctx.lineWidth = p.strokeWidth;
  ctx.setLineDash(p.dash ?? []);
  ctx.stroke(body);
  if (p.mark) {
    ctx.setLineDash([]);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2.5;
    ctx.stroke(path(p.mark));
  }
  if (p.glyph) {
    ctx.fillStyle = '#fff';
    ctx.font = '700 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(p.glyph, 13, 17.5);
  }
  ctx.restore();
}
