import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ItemList } from '../../../components/items/item-list';
import type { ItemSummary } from '../../../lib/vault/types';
import { waitFor as waitForIn } from './wait-for';

// The Items list renders only the rows near the viewport (components/items/item-list.tsx). happy-dom lays nothing
// out, so the list shows its first screen of rows; what these tests check is that every item stays reachable from
// there by keyboard and that each row tells assistive technology where it is in the whole list. Scrolling with
// real layout is checked in test/e2e/vault-many-items.spec.ts.

const COUNT = 5_000;
/** The name of the n-th row (1-based). */
const nameOf = (n: number): string => `Item ${String(n).padStart(5, '0')}`;
const items: ItemSummary[] = Array.from({ length: COUNT }, (_, i) => ({
  id: `id-${String(i).padStart(5, '0')}`,
  kind: i % 5 === 0 ? 'agentConfig' : 'secret',
  name: nameOf(i + 1),
  tags: i % 3 === 0 ? ['team'] : [],
  revision: 1,
  createdAt: 0,
  updatedAt: 0,
  expiresAt: null,
  expiry: 'none',
}));

let root: HTMLElement;
let selected: string[];
const waitFor = <T,>(find: () => T | null | undefined | false, what: string): Promise<T> =>
  waitForIn(() => root, find, what);

beforeEach(() => {
  root = document.createElement('div');
  document.body.append(root);
  selected = [];
  render(<ItemList items={items} selectedId={null} query="" onSelect={(id) => selected.push(id)} />, root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

const rows = () => [...root.querySelectorAll<HTMLLIElement>('ul[aria-label="Items"] > li')];
const focusedName = () =>
  document.activeElement?.closest('li')?.querySelector('.item-name')?.textContent ?? '(nothing focused)';

function press(key: string): void {
  document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}

describe('Items list with thousands of items', () => {
  it('renders a screenful of rows, each with its place in the whole list', () => {
    const shown = rows();
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThan(100);
    expect(shown[0]!.getAttribute('aria-posinset')).toBe('1');
    expect(shown.every((li) => li.getAttribute('aria-setsize') === String(COUNT))).toBe(true);
    expect(shown[0]!.textContent).toContain(nameOf(1));
  });

  it('is one Tab stop; End, Home, arrows and Page Down reach every row, rendering and focusing it', async () => {
    const tabbable = rows().filter((li) => li.querySelector('button')!.tabIndex === 0);
    expect(tabbable).toHaveLength(1);
    tabbable[0]!.querySelector('button')!.focus();
    expect(focusedName()).toBe(nameOf(1));

    press('End');
    await waitFor(() => focusedName() === nameOf(COUNT), 'the last row focused');
    expect(document.activeElement!.closest('li')!.getAttribute('aria-posinset')).toBe(String(COUNT));
    press('ArrowUp');
    await waitFor(() => focusedName() === nameOf(COUNT - 1), 'the row before the last focused');
    press('ArrowDown');
    press('ArrowDown'); // past the end: stays on the last row
    await waitFor(() => focusedName() === nameOf(COUNT), 'the last row focused again');

    press('Home');
    await waitFor(() => focusedName() === nameOf(1), 'the first row focused');
    press('PageDown');
    await waitFor(() => focusedName() !== nameOf(1), 'a row further down focused');
    // Still one Tab stop: the focused row.
    const stops = rows().filter((li) => li.querySelector('button')!.tabIndex === 0);
    expect(stops.map((li) => li.querySelector('.item-name')!.textContent)).toEqual([focusedName()]);
  });

  it('a row reached by keyboard opens with Enter like a click', async () => {
    rows()[0]!.querySelector('button')!.focus();
    press('End');
    await waitFor(() => focusedName() === nameOf(COUNT), 'the last row focused');
    (document.activeElement as HTMLButtonElement).click();
    expect(selected).toEqual([items[COUNT - 1]!.id]);
  });

  it('says when only the first screen is known, and marks the list busy', () => {
    render(<ItemList items={items.slice(0, 60)} partial selectedId={null} query="" onSelect={() => {}} />, root);
    expect(root.querySelector('[role="status"]')?.textContent).toContain('loading all of them');
    expect(root.querySelector('ul[aria-label="Items"]')?.getAttribute('aria-busy')).toBe('true');
    render(<ItemList items={items.slice(0, 60)} selectedId={null} query="" onSelect={() => {}} />, root);
    expect(root.querySelector('[role="status"]')).toBeNull();
    expect(root.querySelector('ul[aria-label="Items"]')?.hasAttribute('aria-busy')).toBe(false);
  });
});
