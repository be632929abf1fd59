/**
 * Polls `find` until it returns something truthy; on timeout the error shows the start of `root`'s HTML, which is
 * usually enough to see what the component rendered instead.
 */
export async function waitFor<T>(
  root: () => HTMLElement,
  find: () => T | null | undefined | false,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const found = find();
    if (found) return found;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}\n${root().innerHTML.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
