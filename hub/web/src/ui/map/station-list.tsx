/**
 * Every station of the map as a list of buttons, under the map in a <details>: the canvas symbols
 * cannot take focus, so this is how keyboard and screen-reader users reach a station. Focus on an
 * entry rings the station on the map and opens its tooltip (closed again when focus leaves);
 * Enter or a click chooses it, as a click on its symbol does. Most severe first. Rendered only
 * while open: a closed list costs nothing on a busy desk.
 */
import { useState } from 'preact/hooks';
import type { DeviceView } from '../../api/types.js';
import { t } from '../../i18n/index.js';
import { ShowMore } from '../show-more.js';
import { paintRank, shapeSvg, stateClass } from './shapes.js';
import { stateText, type StationState } from './stations.js';

export interface StationEntry {
  d: DeviceView;
  s: StationState;
}

export interface StationListProps {
  stations: readonly StationEntry[];
  /** Focus moved onto a station's entry (null: off the list). */
  onFocusStation(id: string | null): void;
  onChoose(id: string): void;
}

export function StationList(props: StationListProps) {
  const [open, setOpen] = useState(false);
  const sorted = open ? [...props.stations].sort((a, b) => paintRank(b.s) - paintRank(a.s) || a.d.name.localeCompare(b.d.name, 'vi')) : [];
  return (
    <details class="station-list" data-testid="station-list" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('map.stationList', { n: props.stations.length })}</summary>
      {open ? (
        <>
          <p class="muted station-list-help">{t('map.stationListHelp')}</p>
          <ShowMore
            items={sorted}
            class="station-entries"
            testid="station-entries"
            render={({ d, s }) => (
              <li key={d.id}>
                <button
                  type="button"
                  class="station-entry"
                  data-dev={d.id}
                  data-state={s.kind}
                  data-level={s.level}
                  onFocus={() => props.onFocusStation(d.id)}
                  onBlur={() => props.onFocusStation(null)}
                  onClick={() => props.onChoose(d.id)}
                >
                  <span class="legend-shape" dangerouslySetInnerHTML={{ __html: shapeSvg(s, 18) }} />
                  <span class="station-entry-name">{d.name}</span>
                  <span class={`station-entry-state ${stateClass(s)}`}>{stateText(d, s)}</span>
                </button>
              </li>
            )}
          />
        </>
      ) : null}
    </details>
  );
}
