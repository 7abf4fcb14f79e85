/**
 * A long list shown a page at a time: the first `step` items and a button for the next ones, so a
 * list of a thousand stations costs what fifty do until someone asks for more. The button moves
 * focus to the first newly shown item, so keyboard users carry on where the list grew.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

export interface ShowMoreProps<T> {
  items: readonly T[];
  /** Items per page (default 50). */
  step?: number;
  /** One `<li>` per item, with its key. */
  render: (item: T) => ComponentChildren;
  class?: string;
  testid?: string;
}

export function ShowMore<T>(props: ShowMoreProps<T>) {
  const step = props.step ?? 50;
  const [shown, setShown] = useState(step);
  const [focusAt, setFocusAt] = useState<number | null>(null);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (focusAt === null) return;
    list.current?.children[focusAt]?.querySelector<HTMLElement>('button, a, [tabindex]')?.focus();
    setFocusAt(null);
  }, [focusAt]);
  const total = props.items.length;
  const more = Math.min(step, total - shown);
  return (
    <>
      <ul ref={list} class={props.class} data-testid={props.testid}>
        {props.items.slice(0, shown).map(props.render)}
      </ul>
      {more > 0 ? (
        <button
          type="button"
          class="show-more"
          data-testid={props.testid ? `${props.testid}-more` : undefined}
          onClick={() => {
            setFocusAt(shown);
            setShown(shown + step);
          }}
        >
          {t('ui.showMore', { n: more, shown, total })}
        </button>
      ) : null}
    </>
  );
}
