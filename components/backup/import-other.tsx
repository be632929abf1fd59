import { useId, useRef, useState } from 'preact/hooks';
import {
  detectFormat,
  FORMAT_LABELS,
  IMPORT_MAX_BYTES,
  planImport,
  readImportFile,
  type ImportFormat,
  type ImportPlan,
} from '../../lib/import/plan';
import { useVaultClient } from '../app/client-context';
import { ErrorAlert, Notice } from '../shared/alert';
import { useAction } from '../shared/use-action';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const FORMATS = Object.keys(FORMAT_LABELS) as ImportFormat[];

/** The preview: how many items, and per item its name, where it comes from and what becomes its value. */
function ImportPreview({ plan, existing }: { plan: ImportPlan; existing: ReadonlySet<string> }) {
  const n = plan.candidates.length;
  return (
    <section class="stack" aria-labelledby="import-preview-title">
      <h3 id="import-preview-title">{plural(n, 'item')} will be added</h3>
      <p class="muted">
        From a {FORMAT_LABELS[plan.format]}. Nothing is written until you choose Import; values are not shown here.
      </p>
      <ul class="import-list" aria-label="Items to add">
        {plan.candidates.map((c, i) => (
          <li key={i}>
            <strong>{c.fields.name}</strong>{' '}
            <span class="muted">
              — {c.source}: {c.becomes} becomes its value
              {c.fields.tags.length ? `; tags ${c.fields.tags.join(', ')}` : ''}
              {existing.has(c.fields.name) ? '; an item with this name already exists (both will be kept)' : ''}
            </span>
          </li>
        ))}
      </ul>
      {plan.skipped.length ? (
        <>
          <h4>{plural(plan.skipped.length, 'entry', 'entries')} will be skipped</h4>
          <ul class="import-list" aria-label="Skipped entries">
            {plan.skipped.map((s, i) => (
              <li key={i}>
                {s.source} <span class="muted">— {s.reason}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {plan.notes.map((note, i) => (
        <p key={i} class="muted">
          {note}
        </p>
      ))}
    </section>
  );
}

/**
 * Import from another tool: a Bitwarden JSON export, a CSV (name, value, notes) or a .env file (lib/import). The file
 * is parsed here and previewed; only "Import" writes, in one transaction, so a malformed file or a refused item
 * writes nothing.
 */
export function ImportOther() {
  const client = useVaultClient();
  const fileId = useId();
  const formatId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [format, setFormat] = useState<ImportFormat>('bitwarden-json');
  const [plan, setPlan] = useState<ImportPlan | null>(null);
  const [existing, setExisting] = useState<ReadonlySet<string>>(new Set());
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const chosen = async (): Promise<void> => {
    setPlan(null);
    setDone(null);
    action.setError(null);
    const file = fileInput.current?.files?.[0];
    if (!file || file.size > IMPORT_MAX_BYTES) return;
    setFormat(detectFormat(file.name, await file.slice(0, 4096).text()));
  };

  const preview = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    setDone(null);
    setPlan(null);
    const file = fileInput.current?.files?.[0];
    if (!file) return action.setError('Choose a file to import.');
    const result = await action.run(async () => {
      const next = planImport(format, await readImportFile(file));
      const names = new Set((await client.list()).map((s) => s.name));
      return { next, names };
    });
    if (!result.ok) return;
    setExisting(result.value.names);
    setPlan(result.value.next);
  };

  const confirm = async (): Promise<void> => {
    if (!plan || action.busy) return;
    const result = await action.run(() => client.importItems(plan.candidates.map((c) => c.fields)));
    if (!result.ok) return;
    setPlan(null);
    if (fileInput.current) fileInput.current.value = '';
    setDone(`Imported ${plural(result.value.added, 'item')} from the ${FORMAT_LABELS[plan.format]}.`);
  };

  return (
    <form class="card stack" onSubmit={preview} aria-labelledby="import-other-title" noValidate>
      <h2 id="import-other-title">Import from another app</h2>
      <p class="muted">
        A Bitwarden export (unencrypted .json), a CSV with the columns name, value, notes, or a .env file. You see what
        will be added before anything is saved.
      </p>
      <div class="field">
        <label for={fileId}>File to import</label>
        <input id={fileId} ref={fileInput} type="file" disabled={action.busy} onChange={() => void chosen()} />
      </div>
      <div class="field">
        <label for={formatId}>Format</label>
        <select
          id={formatId}
          value={format}
          disabled={action.busy}
          onChange={(e) => {
            setFormat(e.currentTarget.value as ImportFormat);
            setPlan(null);
          }}
        >
          {FORMATS.map((f) => (
            <option key={f} value={f}>
              {FORMAT_LABELS[f]}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert message={action.error} />
      <Notice>{done}</Notice>
      {plan ? (
        <>
          <ImportPreview plan={plan} existing={existing} />
          <div class="actions">
            <button type="button" class="primary" disabled={action.busy} onClick={() => void confirm()}>
              Import {plural(plan.candidates.length, 'item')}
            </button>
            <button type="button" disabled={action.busy} onClick={() => setPlan(null)}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <button type="submit" class="primary" disabled={action.busy}>
          Preview import
        </button>
      )}
    </form>
  );
}
