import { DeleteButton } from '../shared/delete-button';

interface EditorActionsProps {
  busy: boolean;
  onCancel: () => void;
  /** Present when editing an existing item: offers Delete with its inline confirmation. */
  existing?: { name: string; onDelete: () => Promise<void> };
}

/** Save / Cancel / Delete row shared by every item editor. */
export function EditorActions({ busy, onCancel, existing }: EditorActionsProps) {
  return (
    <div class="actions">
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      {existing ? <DeleteButton itemName={existing.name} onDelete={existing.onDelete} /> : null}
    </div>
  );
}
