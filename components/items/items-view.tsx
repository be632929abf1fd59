import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ItemKind, ItemSummary, VaultItem } from '../../lib/vault/types';
import { ErrorAlert } from '../shared/alert';
import { AgentConfigEditor } from '../agents/agent-config-editor';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { ItemDetail } from './item-detail';
import { ItemList } from './item-list';
import { SecretEditor } from './secret-editor';
import { errorMessage } from '../../lib/errors';

type Pane =
  | { mode: 'none' }
  | { mode: 'view'; item: VaultItem }
  | { mode: 'edit'; item: VaultItem }
  | { mode: 'new'; kind: ItemKind };

/** Search, list and the item pane (detail or editor). */
export function ItemsView() {
  const client = useVaultClient();
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<ItemSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [pane, setPane] = useState<Pane>({ mode: 'none' });
  const [paneError, setPaneError] = useState<string | null>(null);
  // Typing fast fires overlapping searches; only the newest may fill the list.
  const generation = useRef(0);
  const paneRef = useRef(pane);
  paneRef.current = pane;

  const reload = useCallback(
    async (q: string) => {
      const mine = ++generation.current;
      try {
        const next = q.trim() ? await client.search(q.trim()) : await client.list();
        if (mine !== generation.current) return;
        setItems(next);
        setListError(null);
      } catch (err) {
        if (mine === generation.current) setListError(errorMessage(err));
      }
    },
    [client],
  );

  const open = useCallback(
    async (id: string) => {
      setPaneError(null);
      try {
        setPane({ mode: 'view', item: await client.get(id) });
      } catch (err) {
        setPane({ mode: 'none' });
        setPaneError(errorMessage(err));
      }
    },
    [client],
  );

  useEffect(() => {
    void reload(query);
  }, [reload, query]);

  useEffect(
    () =>
      client.subscribe((event) => {
        if (event.type !== 'items-changed') return;
        void reload(query);
        // Refresh what is on screen, but never overwrite an editor the user is typing in.
        const current = paneRef.current;
        if (current.mode === 'view') {
          client.get(current.item.id).then(
            (item) => setPane((p) => (p.mode === 'view' && p.item.id === item.id ? { mode: 'view', item } : p)),
            () => setPane((p) => (p.mode === 'view' && p.item.id === current.item.id ? { mode: 'none' } : p)),
          );
        }
      }),
    [client, reload, query],
  );

  const selectedId = pane.mode === 'view' || pane.mode === 'edit' ? pane.item.id : null;
  const closePane = (): void => setPane({ mode: 'none' });
  const saved = (item: VaultItem): void => {
    setPane({ mode: 'view', item });
    void reload(query);
  };
  const deleted = (): void => {
    closePane();
    void reload(query);
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
            <ItemList items={items} selectedId={selectedId} query={query} onSelect={(id) => void open(id)} />
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
