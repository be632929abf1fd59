import { useEffect, useState } from 'preact/hooks';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { useNewestAnswer } from '../shared/use-newest-answer';

/**
 * How many agent requests wait while the vault is locked (HubState.waiting, from the locked watcher in
 * lib/ext/approvals/hub-watch.ts), re-read whenever the background announces a change; 0 without a hub.
 */
export function useWaiting(hub: HubApi | undefined): number {
  const [waiting, setWaiting] = useState(0);
  // Reads overlap when changes come quickly: only the newest one's count is shown (use-newest-answer.ts).
  const ask = useNewestAnswer();
  useEffect(() => {
    if (!hub) return;
    let live = true;
    const read = () => {
      const isNewest = ask();
      void hub.state().then(
        (s) => live && isNewest() && setWaiting(s.unlocked ? 0 : s.waiting),
        () => {},
      );
    };
    read();
    const unsubscribe = hub.subscribe(read);
    return () => {
      live = false;
      unsubscribe();
    };
  }, [hub, ask]);
  return waiting;
}

/** "1 request waiting — unlock to review" / "3 requests waiting — unlock to review". */
export function waitingSentence(count: number): string {
  return `${count} ${count === 1 ? 'request' : 'requests'} waiting — unlock to review`;
}
