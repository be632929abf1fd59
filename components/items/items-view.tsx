import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ItemKind, VaultItem } from '../../lib/vault/types';
import { isClawkeepRecord } from '../../lib/storage/vault-tags';
import { ErrorAlert } from '../shared/alert';
import { AgentConfigEditor } from '../agents/agent-config-editor';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { ItemDetail } from './item-detail';
import { ItemList } from './item-list';
import { SecretEditor } from './secret-editor';
import { useItemSearch } from './use-item-search';
import { errorMessage } from '../../lib/errors';

type Pane =
  | { mode: 'none' }
  | { mode: 'view'; item: VaultItem }
  | { mode: 'edit'; item: VaultItem }
  | { mode: 'new'; kind: ItemKind };

interface ItemsViewProps {
  /** Opens this item once the list is shown ("Open in vault" from the popup). */
  focusItemId?: string | null;
  /** Called once the focused item was opened (or could not be). */
  onFocused?: () => void;
}

/** Search, list and the item pane (detail or editor). */
export function ItemsView({ focusItemId, onFocused }: ItemsViewProps = {}) {
  const client = useVaultClient();
  const [pane, setPane] = useState<Pane>({ mode: 'none' });
  const [paneError, setPaneError] = useState<string | null>(null);
  const paneRef = useRef(pane);
  paneRef.current = pane;
  const focused = useRef(onFocused);
  focused.current = onFocused;
  // Refresh what is on screen after a change elsewhere, but never overwrite an editor the user is typing in.
  const {
    query,
    setQuery,
    items,
    partial,
    error: listError,
    reload,
  } = useItemSearch(() => {
    const current = paneRef.current;
    if (current.mode !== 'view') return;
    client.get(current.item.id).then(
      (item) => setPane((p) => (p.mode === 'view' && p.item.id === item.id ? { mode: 'view', item } : p)),
      () => setPane((p) => (p.mode === 'view' && p.item.id === current.item.id ? { mode: 'none' } : p)),
    );
  });

  const open = useCallback(
    async (id: string) => {
      setPaneError(null);
      try {
        const item = await client.get(id);
        // Clawkeep's own records are not editable secrets, whoever asks for them by id.
        if (item.kind === 'secret' && isClawkeepRecord(item.fields)) {
          setPane({ mode: 'none' });
          setPaneError('That item is one of Clawkeep’s own records; it is not shown in Items.');
          return;
        }
        setPane({ mode: 'view', item });
      } catch (err) {
        setPane({ mode: 'none' });
        setPaneError(errorMessage(err));
      }
    },
    [client],
  );

  useEffect(() => {
    if (focusItemId) void open(focusItemId).then(() => focused.current?.());
  }, [focusItemId, open]);

  const selectedId = pane.mode === 'view' || pane.mode === 'edit' ? pane.item.id : null;
  const closePane = (): void => setPane({ mode: 'none' });
  const saved = (item: VaultItem): void => {
    setPane({ mode: 'view', item });
    void reload();
  };
  const deleted = (): void => {
    closePane();
    void reload();
  };
  const startNew = (kind: ItemKind): void => {
    setPaneError(null);
    setPane({ mode: 'new', kind });
  };

  return (
    <div class="items-view">
      <div class="toolbar">
        <Field type="search" label="Search" value={query} onInput={setQuery} placeholder="Name or tag" class="search" />
        <div class="actions">
          <button type="button" onClick={() => startNew('secret')}>
            Add secret
          </button>
          <button type="button" onClick={() => startNew('agentConfig')}>
            Add agent config
          </button>
        </div>
      </div>
      <div class="split">
        <section class="list-pane" aria-label="Item list">
          <ErrorAlert message={listError} />
          {items ? (
            <ItemList
              items={items}
              partial={partial}
              selectedId={selectedId}
              query={query}
              onSelect={(id) => void open(id)}
            />
          ) : (
            <p class="muted">Loading…</p>
          )}
        </section>
        <section class="item-pane card" aria-label="Item">
          <ErrorAlert message={paneError} />
          <PaneContent
            pane={pane}
            onEdit={(item) => setPane({ mode: 'edit', item })}
            onSaved={saved}
            onDeleted={deleted}
            onCancel={(item) => (item ? setPane({ mode: 'view', item }) : closePane())}
          />
        </section>
      </div>
    </div>
  );
}

interface PaneContentProps {
  pane: Pane;
  onEdit: (item: VaultItem) => void;
  onSaved: (item: VaultItem) => void;
  onDeleted: () => void;
  onCancel: (item?: VaultItem) => void;
}

function PaneContent({ pane, onEdit, onSaved, onDeleted, onCancel }: PaneContentProps) {
  switch (pane.mode) {
    case 'none':
      return <p class="muted">Select an item, or add a secret or agent config.</p>;
    case 'view':
      return <ItemDetail key={pane.item.id} item={pane.item} onEdit={() => onEdit(pane.item)} onDeleted={onDeleted} />;
    case 'new':
      return pane.kind === 'secret' ? (
        <SecretEditor key="new-secret" onSaved={onSaved} onCancel={() => onCancel()} onDeleted={onDeleted} />
      ) : (
        <AgentConfigEditor key="new-agent" onSaved={onSaved} onCancel={() => onCancel()} onDeleted={onDeleted} />
      );
    case 'edit': {
      const { item } = pane;
      return item.kind === 'secret' ? (
        <SecretEditor
          key={`edit-${item.id}`}
          item={item}
          onSaved={onSaved}
          onCancel={() => onCancel(item)}
          onDeleted={onDeleted}
        />
      ) : (
        <AgentConfigEditor
          key={`edit-${item.id}`}
          item={item}
          onSaved={onSaved}
          onCancel={() => onCancel(item)}
          onDeleted={onDeleted}
        />
      );
    }
  }
}
