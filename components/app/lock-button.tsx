import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from './client-context';
import { useAction } from '../shared/use-action';

/** "Lock now": the screen switches on the client's `locked` event, so nothing else to do here. */
export function LockButton({ onLocked }: { onLocked?: () => void }) {
  const client = useVaultClient();
  const action = useAction();
  const lock = async (): Promise<void> => {
    const result = await action.run(() => client.lock());
    if (result.ok) onLocked?.();
  };
  return (
    <span class="lock-button">
      <button type="button" onClick={lock} disabled={action.busy}>
        Lock now
      </button>
      <ErrorAlert message={action.error} />
    </span>
  );
}
