import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ItemSummary } from '../../lib/vault/types';
import { ExpiryBadge, KIND_LABEL } from '../shared/expiry-badge';
import { useRowWindow } from './use-row-window';

interface ItemListProps {
  items: ItemSummary[];
  selectedId: string | null;
  query: string;
  onSelect: (id: string) => void;
  /** Only the first screen is known yet (use-item-search.ts): said above the list, and the list is aria-busy. */
  partial?: boolean;
}

/** Space between rows (styles.css `.item-window > li`: rows are `pitch - ROW_GAP_PX` tall). */
const ROW_GAP_PX = 6;
/**
 * Row pitch until a row was measured, and where nothing is laid out: the CSS row height (4.2rem at the pages' 15 px
 * root) plus the gap, so the usual first measurement confirms it instead of rendering the list a second time (a
 * second layout of the first screen, measured at ~17 ms on this machine).
 */
const DEFAULT_PITCH_PX = 69;

export function ItemList({ items, selectedId, query, onSelect, partial = false }: ItemListProps) {
  if (items.length === 0) {
    if (partial) return <p class="muted">Loading…</p>;
    return (
      <p class="muted empty">
        {query.trim() ? `Nothing matches “${query.trim()}”.` : 'No items yet. Add a secret or an agent config.'}
      </p>
    );
  }
  return <WindowedRows items={items} selectedId={selectedId} onSelect={onSelect} partial={partial} />;
}

const KEY_STEPS: Record<string, (index: number, count: number, page: number) => number> = {
  ArrowDown: (i) => i + 1,
  ArrowUp: (i) => i - 1,
  PageDown: (i, _n, page) => i + page,
  PageUp: (i, _n, page) => i - page,
  Home: () => 0,
  End: (_i, n) => n - 1,
};

/**
 * The Items list, rendering only the rows near the viewport: a vault of 50,000 items costs the page the same few
 * dozen rows as one of 50. Every item stays reachable:
 * - by search (the search box filters every item, use-item-search.ts);
 * - by scrolling: the list is as tall as all its rows, and rows are drawn as they scroll into view;
 * - by keyboard: the list is one Tab stop (roving tabindex); arrows, Page Up/Down, Home and End move through every
 *   row, the focused row is always rendered and the browser scrolls it into view;
 * - by screen readers: each row says its position in the whole list (aria-posinset / aria-setsize).
 * Rows have one fixed height (names and tags are cut with an ellipsis, the full name is the row's title) so that a
 * row's place follows from its index.
 */
function WindowedRows({
  items,
  selectedId,
  onSelect,
  partial,
}: {
  items: ItemSummary[];
  selectedId: string | null;
  onSelect: (id: string) => void;
  partial: boolean;
}) {
  const listRef = useRef<HTMLUListElement>(null);
  const [pitch, setPitch] = useState(DEFAULT_PITCH_PX);
  const [activeId, setActiveId] = useState<string | null>(null);
  const focusActive = useRef(false);
  const count = items.length;
  const rowWindow = useRowWindow(listRef, count, pitch);
  // The window follows a change of `items` one layout later: clamp it to this render's rows.
  const last = Math.min(rowWindow.last, count);
  const first = Math.min(rowWindow.first, last);

  const activeIndex = useMemo(() => {
    const byId = (id: string | null) => (id === null ? -1 : items.findIndex((i) => i.id === id));
    const active = byId(activeId);
    if (active >= 0) return active;
    return Math.max(0, Math.min(count - 1, byId(selectedId)));
  }, [items, activeId, selectedId]);

  useLayoutEffect(() => {
    const row = listRef.current?.querySelector(`li[data-index="${first}"]`);
    const height = row?.getBoundingClientRect().height ?? 0;
    if (height > 0 && Math.abs(height + ROW_GAP_PX - pitch) > 0.5) setPitch(height + ROW_GAP_PX);
    if (focusActive.current) {
      focusActive.current = false;
      listRef.current?.querySelector<HTMLButtonElement>(`li[data-index="${activeIndex}"] > button`)?.focus();
    }
  });

  const onKeyDown = (e: KeyboardEvent): void => {
    const step = KEY_STEPS[e.key];
    if (!step || e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor((window.innerHeight || 0) / pitch) - 1);
    const next = Math.min(count - 1, Math.max(0, step(activeIndex, count, page)));
    e.preventDefault();
    focusActive.current = true;
    setActiveId(items[next]!.id);
  };

  // The window, plus the active row wherever it is, so that Tab always lands on it. In index order: reading order.
  const shown: number[] = [];
  if (activeIndex < first) shown.push(activeIndex);
  for (let i = first; i < last; i++) shown.push(i);
  if (activeIndex >= last) shown.push(activeIndex);

  return (
    <>
      {partial ? (
        <p class="muted list-status" role="status">
          Showing the most recently changed items; loading all of them…
        </p>
      ) : null}
      <ul
        ref={listRef}
        class="item-list item-window"
        aria-label="Items"
        aria-busy={partial ? 'true' : undefined}
        style={{ height: `${count * pitch - ROW_GAP_PX}px` }}
        onKeyDown={onKeyDown}
      >
        {shown.map((index) => {
          const item = items[index]!;
          return (
            <li
              key={item.id}
              data-index={index}
              aria-setsize={count}
              aria-posinset={index + 1}
              style={{ top: `${index * pitch}px` }}
            >
              <button
                type="button"
                class="item-row"
                tabIndex={index === activeIndex ? 0 : -1}
                aria-current={item.id === selectedId ? 'true' : undefined}
                onFocus={() => setActiveId(item.id)}
                onClick={() => onSelect(item.id)}
              >
                <span class="item-name" title={item.name}>
                  {item.name || '(unnamed)'}
                </span>
                <span class="item-meta">
                  <span class={`kind kind-${item.kind}`}>{KIND_LABEL[item.kind]}</span>
                  {item.tags.map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))}
                  <ExpiryBadge expiry={item.expiry} />
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}
