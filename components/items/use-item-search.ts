import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../../lib/errors';
import { isClawkeepRecord } from '../../lib/storage/vault-tags';
import type { ItemSummary } from '../../lib/vault/types';
import { useVaultClient } from '../app/client-context';

/** What a search box over the vault needs: the query, the matching items, and why the list failed, if it did. */
export interface ItemSearch {
  query: string;
  setQuery: (q: string) => void;
  /** Null until the first answer. Clawkeep's own `clawkeep:` records are never in it. */
  items: ItemSummary[] | null;
  error: string | null;
  reload: () => Promise<void>;
}

/**
 * The item list behind a search box, shared by the vault page's Items and the popup: searches as the person types,
 * follows changes made elsewhere (another tab, sync), and leaves out the items Clawkeep keeps for itself (trust
 * pins, standing approvals, config assignments, the OpenClaw gateway: lib/storage/vault-tags.ts, issue 15).
 */
export function useItemSearch(onItemsChanged?: () => void): ItemSearch {
  const client = useVaultClient();
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<ItemSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Typing fast fires overlapping searches; only the newest may fill the list.
  const generation = useRef(0);
  const changed = useRef(onItemsChanged);
  changed.current = onItemsChanged;

  const load = useCallback(
    async (q: string) => {
      const mine = ++generation.current;
      try {
        const next = q.trim() ? await client.search(q.trim()) : await client.list();
        if (mine !== generation.current) return;
        setItems(next.filter((s) => !isClawkeepRecord(s)));
        setError(null);
      } catch (err) {
        if (mine === generation.current) setError(errorMessage(err));
      }
    },
    [client],
  );

  useEffect(() => {
    void load(query);
  }, [load, query]);

  useEffect(
    () =>
      client.subscribe((event) => {
        if (event.type !== 'items-changed') return;
        void load(query);
        changed.current?.();
      }),
    [client, load, query],
  );

  return { query, setQuery, items, error, reload: () => load(query) };
}
