/**
 * A station's marker: shape AND colour by state, so it reads for colour-blind operators and in
 * grey on a video wall — the same shapes as LevelBadge (● normal, ▲ level 1, ◆ 2, ■ 3, ✖ beyond),
 * a dashed hollow circle for stale data and a struck-through circle for a gateway offline.
 * Inline SVG in a divIcon: no image files, nothing fetched.
 */
import type { StationState } from './stations.js';

const S = 26;

export function stateClass(s: Pick<StationState, 'kind' | 'level'>): string {
  if (s.kind === 'offline') return 'st-offline';
  if (s.kind === 'stale') return 'st-stale';
  return `st-lv${Math.min(Math.max(s.kind === 'alert' ? s.level : 0, 0), 4)}`;
}

/** The SVG of a state's shape (also used by the legend). */
export function shapeSvg(s: Pick<StationState, 'kind' | 'level'>, size = S): string {
  const body = (() => {
    if (s.kind === 'offline') return '<circle cx="13" cy="13" r="9" class="fill"/><line x1="6" y1="20" x2="20" y2="6" class="mark"/>';
    if (s.kind === 'stale') return '<circle cx="13" cy="13" r="9" class="fill" stroke-dasharray="4 3"/><text x="13" y="17.5" text-anchor="middle" class="q">?</text>';
    const lv = s.kind === 'alert' ? s.level : 0;
    if (lv <= 0) return '<circle cx="13" cy="13" r="8" class="fill"/>';
    if (lv === 1) return '<polygon points="13,3 23.5,22 2.5,22" class="fill"/>';
    if (lv === 2) return '<polygon points="13,2 24,13 13,24 2,13" class="fill"/>';
    if (lv === 3) return '<rect x="4" y="4" width="18" height="18" class="fill"/>';
    return '<polygon points="5,2 13,10 21,2 24,5 16,13 24,21 21,24 13,16 5,24 2,21 10,13 2,5" class="fill"/>';
  })();
  return `<svg class="st-shape ${stateClass(s)}" viewBox="0 0 26 26" width="${size}" height="${size}" aria-hidden="true" focusable="false">${body}</svg>`;
}
