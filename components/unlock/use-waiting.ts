import { useEffect, useState } from 'preact/hooks';
import type { HubApi } from '../../lib/ext/hub/hub-api';

/**
 * How many agent requests wait while the vault is locked (HubState.waiting, from the locked watcher in
 * lib/ext/approvals/hub-watch.ts), re-read whenever the background announces a change; 0 without a hub.
 */
export function useWaiting(hub: HubApi | undefined): number {
  const [waiting, setWaiting] = useState(0);
  useEffect(() => {
    if (!hub) return;
    let live = true;
    const read = () =>
      void hub.state().then(
        (s) => live && setWaiting(s.unlocked ? 0 : s.waiting),
        () => {},
      );
    read();
    const unsubscribe = hub.subscribe(read);
    return () => {
      live = false;
      unsubscribe();
    };
  }, [hub]);
  return waiting;
}

/** "1 request waiting — unlock to review" / "3 requests waiting — unlock to review". */
export function waitingSentence(count: number): string {
  return `${count} ${count === 1 ? 'request' : 'requests'} waiting — unlock to review`;
}
