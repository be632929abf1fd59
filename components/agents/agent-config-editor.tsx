import { useState } from 'preact/hooks';
import type { AgentConfigItem, KeyValue, VaultItem } from '../../lib/vault/types';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { EditorActions } from '../items/editor-actions';
import { Field, TextArea } from '../shared/field';
import { compactRows, KeyValueRows } from '../shared/key-value-rows';
import { useAction } from '../shared/use-action';

interface AgentConfigEditorProps {
  item?: AgentConfigItem;
  onSaved: (item: VaultItem) => void;
  onCancel: () => void;
  onDeleted: () => void;
}

/** Null when valid; otherwise the parser's complaint, for the user. */
export function jsonProblem(text: string): string | null {
  if (!text.trim()) return null;
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return err instanceof SyntaxError ? err.message : 'not valid JSON';
  }
}

export function AgentConfigEditor({ item, onSaved, onCancel, onDeleted }: AgentConfigEditorProps) {
  const client = useVaultClient();
  const [name, setName] = useState(item?.fields.name ?? '');
  const [model, setModel] = useState(item?.fields.model ?? '');
  const [providerKeys, setProviderKeys] = useState<KeyValue[]>(item?.fields.providerKeys ?? []);
  const [env, setEnv] = useState<KeyValue[]>(item?.fields.env ?? []);
  const [json, setJson] = useState(item?.fields.json ?? '{}');
  const action = useAction();
  const problem = jsonProblem(json);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    if (!name.trim()) return action.setError('Give the agent config a name.');
    if (problem) return action.setError(`The JSON is not valid: ${problem}`);
    const keys = compactRows(providerKeys);
    const vars = compactRows(env);
    if ([...keys, ...vars].some((r) => !r.key))
      return action.setError('Every provider key and env var needs a variable name.');
    const result = await action.run(() =>
      client.save({
        ...(item ? { id: item.id } : {}),
        kind: 'agentConfig',
        // An empty box means "no extra settings", which is the JSON object {}.
        fields: {
          name: name.trim(),
          model: model.trim(),
          providerKeys: keys,
          env: vars,
          json: json.trim() ? json : '{}',
        },
      }),
    );
    if (result.ok) onSaved(result.value);
  };

  return (
    <form class="stack editor" onSubmit={submit} aria-labelledby="agent-editor-title" noValidate>
      <h2 id="agent-editor-title">{item ? 'Edit agent config' : 'New agent config'}</h2>
      <Field label="Name" value={name} onInput={setName} autoFocus required />
      <Field label="Model" value={model} onInput={setModel} placeholder="e.g. gpt-4.1 or claude-sonnet-4" />
      <KeyValueRows
        legend="Provider keys"
        rowLabel="Provider key"
        addLabel="Add provider key"
        keyPlaceholder="OPENAI_API_KEY"
        rows={providerKeys}
        onChange={setProviderKeys}
        masked
      />
      <KeyValueRows
        legend="Environment variables"
        rowLabel="Env var"
        addLabel="Add env var"
        keyPlaceholder="LOG_LEVEL"
        rows={env}
        onChange={setEnv}
        masked
      />
      <TextArea
        label="JSON"
        value={json}
        onInput={setJson}
        rows={6}
        mono
        invalid={problem !== null}
        hint={problem ? `Not valid JSON: ${problem}` : 'Valid JSON.'}
      />
      <ErrorAlert message={action.error} />
      <EditorActions
        busy={action.busy}
        onCancel={onCancel}
        existing={item && { name: item.fields.name, onDelete: () => client.remove(item.id).then(onDeleted) }}
      />
    </form>
  );
}
