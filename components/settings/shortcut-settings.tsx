import { useEffect, useState } from 'preact/hooks';
import type { PopupShortcut } from '../../lib/ext/shortcut';
import { ErrorAlert } from '../shared/alert';

/** Settings → "Keyboard shortcut": the key that opens the popup, read from the browser, and where to change it. */
export function ShortcutSettings({ read }: { read: () => Promise<PopupShortcut> }) {
  const [state, setState] = useState<PopupShortcut | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    read().then(setState, () => setError('The browser did not say which shortcut is set.'));
  }, [read]);
  return (
    <section class="card stack" aria-labelledby="shortcut-title">
      <h2 id="shortcut-title">Keyboard shortcut</h2>
      <ErrorAlert message={error} />
      {state ? (
        <>
          <p>
            Open the Clawkeep popup:{' '}
            {state.shortcut ? (
              <kbd class="shortcut">{state.shortcut}</kbd>
            ) : (
              <span class="muted">no shortcut set (another extension may use the suggested keys)</span>
            )}
          </p>
          <p class="muted small-text">To change it, open {state.changeAt}.</p>
        </>
      ) : null}
    </section>
  );
}
