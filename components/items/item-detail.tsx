import type { AgentConfigItem, KeyValue, SecretItem, VaultItem } from '../../lib/vault/types';
import { expiryState } from '../../lib/vault/expiry';
import { useVaultClient } from '../app/client-context';
import { DeleteButton } from '../shared/delete-button';
import { ExpiryBadge, KIND_LABEL } from '../shared/expiry-badge';
import { formatDate } from '../shared/format';
import { MaskedValue } from '../shared/masked-value';

interface ItemDetailProps {
  item: VaultItem;
  onEdit: () => void;
  onDeleted: () => void;
}

function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span class="muted">None</span>;
  return (
    <span class="tags">
      {tags.map((t) => (
        <span key={t} class="tag">
          {t}
        </span>
      ))}
    </span>
  );
}

/** Where the secret may be sent in an approved HTTPS call (issue 18); an empty list is a choice too, so it is said. */
function AllowedHosts({ hosts }: { hosts: string[] }) {
  if (hosts.length === 0) return <span class="muted">None: never sent in a call</span>;
  return (
    <ul class="host-list">
      {hosts.map((h) => (
        <li key={h}>
          <code>{h}</code>
        </li>
      ))}
    </ul>
  );
}

function SecretBody({ item }: { item: SecretItem }) {
  const { notes, tags, expiresAt, allowedHosts } = item.fields;
  return (
    <dl class="details">
      <dt>Value</dt>
      <dd>
        <MaskedValue value={item.fields.value} />
      </dd>
      {notes ? (
        <>
          <dt>Notes</dt>
          <dd class="notes">{notes}</dd>
        </>
      ) : null}
      <dt>Tags</dt>
      <dd>
        <Tags tags={tags} />
      </dd>
      <dt>Allowed hosts</dt>
      <dd>
        <AllowedHosts hosts={allowedHosts} />
      </dd>
      <dt>Expires</dt>
      <dd>
        {expiresAt ? formatDate(expiresAt) : <span class="muted">Never</span>}{' '}
        <ExpiryBadge expiry={expiryState(expiresAt, Date.now())} />
      </dd>
    </dl>
  );
}

function MaskedRows({ rows }: { rows: KeyValue[] }) {
  if (rows.length === 0) return <span class="muted">None</span>;
  return (
    <ul class="kv-view">
      {rows.map((r, i) => (
        <li key={`${i}-${r.key}`}>
          <code class="kv-key">{r.key}</code>
          <MaskedValue value={r.value} name={r.key} />
        </li>
      ))}
    </ul>
  );
}

function AgentConfigBody({ item }: { item: AgentConfigItem }) {
  const { model, providerKeys, env, json } = item.fields;
  return (
    <dl class="details">
      <dt>Model</dt>
      <dd>{model || <span class="muted">Not set</span>}</dd>
      <dt>Provider keys</dt>
      <dd>
        <MaskedRows rows={providerKeys} />
      </dd>
      <dt>Environment variables</dt>
      <dd>
        <MaskedRows rows={env} />
      </dd>
      <dt>JSON</dt>
      <dd>
        <pre class="json">{json}</pre>
      </dd>
    </dl>
  );
}

/** Read-only view of one item; secret values stay masked until "Reveal". */
export function ItemDetail({ item, onEdit, onDeleted }: ItemDetailProps) {
  const client = useVaultClient();
  return (
    <article class="stack detail" aria-labelledby="detail-title">
      <header class="detail-header">
        <h2 id="detail-title">{item.fields.name || '(unnamed)'}</h2>
        <span class={`kind kind-${item.kind}`}>{KIND_LABEL[item.kind]}</span>
      </header>
      {item.kind === 'secret' ? <SecretBody item={item} /> : <AgentConfigBody item={item} />}
      <p class="muted small-text">Last changed {new Date(item.updatedAt).toLocaleString()}</p>
      <div class="actions">
        <button type="button" onClick={onEdit}>
          Edit
        </button>
        <DeleteButton itemName={item.fields.name} onDelete={() => client.remove(item.id).then(onDeleted)} />
      </div>
    </article>
  );
}
