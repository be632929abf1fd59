import { useState } from 'preact/hooks';
import type { SecretItem, VaultItem } from '../../lib/vault/types';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { EditorActions } from './editor-actions';
import { Field, TextArea } from '../shared/field';
import { SecretTextArea } from '../shared/secret-field';
import { SecretGenerator } from './secret-generator';
import { isReservedTag, RESERVED_TAG_PREFIX } from '../../lib/storage/vault-tags';
import { dateInputToIso, isoToDateInput, parseHostList, parseTags } from '../shared/format';
import { useAction } from '../shared/use-action';
import { normalizeAllowedHosts } from '../../lib/vault/secret-hosts';
import { errorMessage } from '../../lib/errors';

interface SecretEditorProps {
  /** Absent for a new secret. */
  item?: SecretItem;
  onSaved: (item: VaultItem) => void;
  onCancel: () => void;
  onDeleted: () => void;
}

export function SecretEditor({ item, onSaved, onCancel, onDeleted }: SecretEditorProps) {
  const client = useVaultClient();
  const [name, setName] = useState(item?.fields.name ?? '');
  const [value, setValue] = useState(item?.fields.value ?? '');
  const [notes, setNotes] = useState(item?.fields.notes ?? '');
  const [tags, setTags] = useState(item?.fields.tags.join(', ') ?? '');
  const [expires, setExpires] = useState(isoToDateInput(item?.fields.expiresAt ?? null));
  const [hosts, setHosts] = useState(item?.fields.allowedHosts.join('\n') ?? '');
  const [hostsInvalid, setHostsInvalid] = useState(false);
  const action = useAction();

  // Editing the box that was refused takes its message away, so a corrected list is not shown beside a stale error.
  const editHosts = (text: string): void => {
    setHosts(text);
    if (!hostsInvalid) return;
    setHostsInvalid(false);
    action.setError(null);
  };

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    setHostsInvalid(false);
    if (!name.trim()) return action.setError('Give the secret a name.');
    // A reserved tag would turn the secret into one of Clawkeep's own records, hidden from Items.
    if (parseTags(tags).some(isReservedTag)) {
      return action.setError(`Tags starting with “${RESERVED_TAG_PREFIX}” are reserved for Clawkeep's own records.`);
    }
    const expiresAt = expires ? dateInputToIso(expires) : null;
    if (expires && !expiresAt) return action.setError('The expiry date is not a valid date.');
    // Checked here with the vault's own rule (the save checks it again) so the box itself can be marked invalid.
    let allowedHosts: string[];
    try {
      allowedHosts = normalizeAllowedHosts(parseHostList(hosts));
    } catch (err) {
      setHostsInvalid(true);
      return action.setError(errorMessage(err));
    }
    const result = await action.run(() =>
      client.save({
        ...(item ? { id: item.id } : {}),
        kind: 'secret',
        fields: { name: name.trim(), value, notes, tags: parseTags(tags), expiresAt, allowedHosts },
      }),
    );
    if (result.ok) onSaved(result.value);
  };

  return (
    <form class="stack editor" onSubmit={submit} aria-labelledby="secret-editor-title" noValidate>
      <h2 id="secret-editor-title">{item ? 'Edit secret' : 'New secret'}</h2>
      <Field label="Name" value={name} onInput={setName} autoFocus required />
      <SecretTextArea label="Value" value={value} onInput={setValue} rows={2} />
      <SecretGenerator onUse={setValue} />
      <TextArea label="Notes" value={notes} onInput={setNotes} rows={3} />
      <Field label="Tags (comma-separated)" value={tags} onInput={setTags} placeholder="prod, openai" />
      <TextArea
        label="Allowed hosts (one per line)"
        value={hosts}
        onInput={editHosts}
        // Grows with the list (up to 8 lines) so every host stays in view while editing.
        rows={Math.min(8, Math.max(2, hosts.split('\n').length))}
        mono
        invalid={hostsInvalid}
        hint="Hosts this secret may be sent to in approved HTTPS calls (https only), e.g. api.github.com. Empty: never sent in a call."
      />
      <Field type="date" label="Expires" value={expires} onInput={setExpires} hint="Leave empty if it never expires." />
      <ErrorAlert message={action.error} />
      <EditorActions
        busy={action.busy}
        onCancel={onCancel}
        existing={item && { name: item.fields.name, onDelete: () => client.remove(item.id).then(onDeleted) }}
      />
    </form>
  );
}
