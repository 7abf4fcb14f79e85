/**
 * An alert level as colour AND shape AND text, so it reads for colour-blind operators and on a
 * monochrome video wall: ● normal, ▲ level 1, ◆ level 2, ■ level 3, ✖ level 4+ (beyond BĐ3).
 */
import type { LocalizedText } from '../api/types.js';
import { local, t } from '../i18n/index.js';

const SHAPES = ['●', '▲', '◆', '■', '✖', '✖', '✖'];

export function levelClass(level: number, opts: { stale?: boolean; offline?: boolean } = {}): string {
  if (opts.offline) return 'lv-offline';
  if (opts.stale) return 'lv-stale';
  return `lv-${Math.min(Math.max(level, 0), 5)}`;
}

export function LevelBadge(props: { level: number; label?: LocalizedText | null; stale?: boolean; offline?: boolean }) {
  const text = props.offline ? t('common.offline') : props.label ? local(props.label) : props.level > 0 ? `${props.level}` : t('common.normal');
  return (
    <span class={`level-badge ${levelClass(props.level, props)}`} data-level={props.level}>
      <span aria-hidden="true" class="shape">{props.offline ? '⊘' : SHAPES[Math.min(props.level, SHAPES.length - 1)]}</span> {text}
      {props.stale && !props.offline ? <span class="stale-tag"> · {t('common.stale')}</span> : null}
    </span>
  );
}
