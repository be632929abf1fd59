import { useState } from 'preact/hooks';
import { ErrorAlert } from './alert';
import { useAction } from './use-action';

interface DeleteButtonProps {
  itemName: string;
  onDelete: () => Promise<void>;
}

/** Delete with an inline confirmation instead of window.confirm, which blocks the page and some test drivers. */
export function DeleteButton({ itemName, onDelete }: DeleteButtonProps) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();

  if (!confirming) {
    return (
      <button type="button" class="danger-outline" onClick={() => setConfirming(true)}>
        Delete
      </button>
    );
  }
  const confirm = async (): Promise<void> => {
    const result = await action.run(onDelete);
    if (result.ok) setConfirming(false);
  };
  return (
    <div class="confirm" role="group" aria-label="Confirm delete">
      <span>Delete “{itemName || '(unnamed)'}”? This cannot be undone.</span>
      <button type="button" class="danger" onClick={confirm} disabled={action.busy} autoFocus>
        Yes, delete
      </button>
      <button type="button" onClick={() => setConfirming(false)} disabled={action.busy}>
        Keep it
      </button>
      <ErrorAlert message={action.error} />
    </div>
  );
}
