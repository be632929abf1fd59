import { useCallback, useRef, useState } from 'preact/hooks';

/**
 * The deploy wizard's draft (step, connection, manifest, env choices, the last outcome), owned by the unlocked vault
 * page so it survives the Deploy tab being left and opened again (issue 15): tabs unmount their content.
 *
 * Memory only: never written to any storage. It lives as long as its owner (components/app/vault-app.tsx
 * UnlockedVault), so locking the vault or closing the page drops it. A pasted API key is never put in it (the key
 * step keeps that field in its own state only, and clears it once saved as a vault secret).
 */
export class DeployDraft {
  private readonly values = new Map<string, unknown>();

  has(key: string): boolean {
    return this.values.has(key);
  }

  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  set<T>(key: string, value: T): void {
    this.values.set(key, value);
  }

  /** Forgets everything: a finished or cancelled wizard starts empty next time. */
  clear(): void {
    this.values.clear();
  }
}

type Update<T> = T | ((previous: T) => T);

/**
 * `useState` whose value is also kept in `draft` under `key`, and read back from it on mount. Without a draft it
 * is plain component state. The setter writes the draft at once, so a step that finishes after its tab was left
 * (a deploy still running) still lands in the draft.
 */
export function useDraftState<T>(
  draft: DeployDraft | undefined,
  key: string,
  initial: T | (() => T),
): [T, (next: Update<T>) => void] {
  const [value, setValue] = useState<T>(() =>
    draft?.has(key) ? draft.get<T>(key)! : typeof initial === 'function' ? (initial as () => T)() : initial,
  );
  const current = useRef(value);
  const set = useCallback(
    (next: Update<T>) => {
      const previous = draft?.has(key) ? draft.get<T>(key)! : current.current;
      const resolved = typeof next === 'function' ? (next as (p: T) => T)(previous) : next;
      current.current = resolved;
      draft?.set(key, resolved);
      setValue(resolved);
    },
    [draft, key],
  );
  return [value, set];
}
