import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../../lib/errors';
import { compareSummaries, FIRST_SCREEN_ITEMS, filterSummaries } from '../../lib/vault/item-search';
import { isClawkeepRecord } from '../../lib/storage/vault-tags';
import type { ItemSummary } from '../../lib/vault/types';
import { useVaultClient } from '../app/client-context';

/** What a search box over the vault needs: the query, the matching items, and why the list failed, if it did. */
export interface ItemSearch {
  query: string;
  setQuery: (q: string) => void;
  /**
   * Null until the first answer (and while a search waits for the whole list). Clawkeep's own `clawkeep:` records
   * are never in it.
   */
  items: ItemSummary[] | null;
  /** True while `items` is only the first screen (the most recently changed items) and the whole list is loading. */
  partial: boolean;
  error: string | null;
  reload: () => Promise<void>;
}

interface Loaded {
  /** The person's items (no `clawkeep:` records), sorted by name; or, while `partial`, the newest first. */
  items: ItemSummary[];
  partial: boolean;
}

const own = (items: ItemSummary[]): ItemSummary[] => items.filter((s) => !isClawkeepRecord(s));

/**
 * The item list behind a search box, shared by the vault page's Items and the popup. After unlock it shows the most
 * recently changed items at once (`recent`, a few dozen decrypted) while the whole list decrypts (`list`), then the
 * whole list sorted by name. Searching filters the whole list in the page as the person types (the same match as
 * the vault's own search, lib/vault/item-search.ts), so every item can be found; a search typed before the whole
 * list arrived waits for it. Follows changes made elsewhere (another tab, sync), and leaves out the items Clawkeep
 * keeps for itself (trust pins, standing approvals, config assignments, the OpenClaw gateway: vault-tags.ts).
 */
export function useItemSearch(onItemsChanged?: () => void): ItemSearch {
  const client = useVaultClient();
  const [query, setQuery] = useState('');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Loads overlap (a change event during a load); only the newest may fill the list.
  const generation = useRef(0);
  const changed = useRef(onItemsChanged);
  changed.current = onItemsChanged;

  const load = useCallback(
    async (firstScreen: boolean) => {
      const mine = ++generation.current;
      let complete = false;
      if (firstScreen) {
        client.recent(FIRST_SCREEN_ITEMS).then(
          (recent) => {
            if (mine !== generation.current || complete) return;
            // Fewer than asked for: that is the whole vault, so it can be shown as the list itself.
            const whole = recent.length < FIRST_SCREEN_ITEMS;
            setLoaded({ items: own(whole ? [...recent].sort(compareSummaries) : recent), partial: !whole });
          },
          () => {
            // The whole list's answer reports what went wrong.
          },
        );
      }
      try {
        const all = await client.list();
        complete = true;
        if (mine !== generation.current) return;
        setLoaded({ items: own(all), partial: false });
        setError(null);
      } catch (err) {
        complete = true;
        if (mine !== generation.current) return;
        setError(errorMessage(err));
        // A first screen is not shown without the rest: the list failed (e.g. an item that does not authenticate).
        setLoaded((l) => (l?.partial ? null : l));
      }
    },
    [client],
  );

  useEffect(() => {
    void load(true);
  }, [load]);

  useEffect(
    () =>
      client.subscribe((event) => {
        if (event.type !== 'items-changed') return;
        void load(false);
        changed.current?.();
      }),
    [client, load],
  );

  const items = useMemo(() => {
    if (!loaded) return null;
    if (!query.trim()) return loaded.items;
    // A search covers every item: it waits for the whole list rather than search the first screen.
    return loaded.partial ? null : filterSummaries(loaded.items, query);
  }, [loaded, query]);

  return { query, setQuery, items, partial: loaded?.partial ?? false, error, reload: () => load(false) };
}
