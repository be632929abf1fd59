import type { ItemSummary } from '../../lib/vault/types';
import { ExpiryBadge, KIND_LABEL } from '../shared/expiry-badge';

interface ItemListProps {
  items: ItemSummary[];
  selectedId: string | null;
  query: string;
  onSelect: (id: string) => void;
}

export function ItemList({ items, selectedId, query, onSelect }: ItemListProps) {
  if (items.length === 0) {
    return (
      <p class="muted empty">
        {query.trim() ? `Nothing matches “${query.trim()}”.` : 'No items yet. Add a secret or an agent config.'}
      </p>
    );
  }
  return (
    <ul class="item-list" aria-label="Items">
      {items.map((item) => (
        <li key={item.id}>
          <button
            type="button"
            class="item-row"
            aria-current={item.id === selectedId ? 'true' : undefined}
            onClick={() => onSelect(item.id)}
          >
            <span class="item-name">{item.name || '(unnamed)'}</span>
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
      ))}
    </ul>
  );
}
