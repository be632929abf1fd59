import { useCallback, useRef } from 'preact/hooks';

/** True while no question was asked after the one it belongs to. */
export type IsNewest = () => boolean;

/**
 * Orders the answers of a question a page asks again on every change event (the background's state, the vault's
 * status): answers can arrive out of order, e.g. a read started just before a change is still in flight when the
 * read that change caused has answered. Only the newest question's answer may be shown; an older one would put state
 * on screen that no later event corrects (a locked agent shown as active, a decided request shown again).
 *
 * `ask()` is called as a question is sent and returns whether it is still the newest when its answer arrives. An
 * action's own answer (what a click returned) calls it too, so a read begun before the click cannot overwrite it.
 */
export function useNewestAnswer(): () => IsNewest {
  const asked = useRef(0);
  return useCallback(() => {
    const mine = ++asked.current;
    return () => mine === asked.current;
  }, []);
}
