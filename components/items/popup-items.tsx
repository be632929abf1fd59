import { useState } from 'preact/hooks';
import { errorMessage } from '../../lib/errors';
import type { VaultItem } from '../../lib/vault/types';
import { useVaultClient } from '../app/client-context';
import { ErrorAlert } from '../shared/alert';
import { KIND_LABEL } from '../shared/expiry-badge';
import { Field } from '../shared/field';
import { MaskedValue } from '../shared/masked-value';
import { ItemList } from './item-list';
import { useItemSearch } from './use-item-search';

interface PopupItemsProps {
  /** Opens the vault page on this item (extension: a tab focused on it). Absent: no "Open in vault". */
  onOpenItem?: (id: string) => void;
}

/** The chosen item in the popup: its value to reveal or copy, and the way to the full vault page. */
function QuickView({
  item,
  onOpenItem,
  onClose,
}: {
  item: VaultItem;
  onOpenItem?: (id: string) => void;
  onClose: () => void;
}) {
  return (
    <article class="card stack quick-view" aria-labelledby="quick-view-title">
      <header class="detail-header">
        <h2 id="quick-view-title">{item.fields.name || '(unnamed)'}</h2>
        <span class={`kind kind-${item.kind}`}>{KIND_LABEL[item.kind]}</span>
      </header>
      {item.kind === 'secret' ? (
        <MaskedValue value={item.fields.value} />
      ) : (
        <p class="muted">Its provider keys and variables are in the vault page.</p>
      )}
      <div class="actions">
        {onOpenItem ? (
          <button type="button" onClick={() => onOpenItem(item.id)}>
            Open in vault
          </button>
        ) : null}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </article>
  );
}

/**
 * The unlocked popup's search (issue 15): type, pick a match, copy its value (the clipboard is emptied again after
 * 30 s, components/shared/clipboard.ts) or open it in the vault page. Same search and list as the vault page's
 * Items; Clawkeep's own records are left out there as here.
 */
export function PopupItems({ onOpenItem }: PopupItemsProps) {
  const client = useVaultClient();
  const [selected, setSelected] = useState<VaultItem | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);
  const { query, setQuery, items, partial, error } = useItemSearch(() => {
    // The shown item changed or went away elsewhere: show the new revision, or nothing.
    if (selected) client.get(selected.id).then(setSelected, () => setSelected(null));
  });

  const select = async (id: string): Promise<void> => {
    setOpenError(null);
    try {
      setSelected(await client.get(id));
    } catch (err) {
      setSelected(null);
      setOpenError(errorMessage(err));
    }
  };

  return (
    <section class="stack popup-items" aria-label="Search the vault">
      <Field
        type="search"
        label="Search vault"
        value={query}
        onInput={setQuery}
        placeholder="Name or tag"
        autoFocus
        class="search"
      />
      <ErrorAlert message={error ?? openError} />
      {selected ? <QuickView item={selected} onOpenItem={onOpenItem} onClose={() => setSelected(null)} /> : null}
      {items ? (
        <ItemList
          items={items}
          partial={partial}
          selectedId={selected?.id ?? null}
          query={query}
          onSelect={(id) => void select(id)}
        />
      ) : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
