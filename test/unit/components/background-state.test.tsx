import { render } from 'preact';
import { afterEach, describe, expect, it } from 'vitest';
import { useBackgroundState, type StateSource } from '../../../components/shared/use-background-state';
import { waitFor as waitForIn } from './wait-for';
import { freshRootPerTest } from './mount-root';

// The Agents tab showed a locked agent as active (CI, stop 29): a decision announces a change more than once, each
// announcement starts a read of the background's state, and an older read that answers last must not be shown.

interface Read {
  resolve(value: string): void;
  reject(err: Error): void;
}

/** A background service whose reads answer when the test says, in any order, and which announces changes on demand. */
function source() {
  const reads: Read[] = [];
  const listeners = new Set<() => void>();
  const api: StateSource<string> = {
    state: () => new Promise<string>((resolve, reject) => reads.push({ resolve, reject })),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    api,
    /** The n-th read (0: the one on mount), once the page has asked it (effects run after the render). */
    read: (n: number) => waitFor(() => reads[n], `read ${n}`),
    announce: () => listeners.forEach((l) => l()),
  };
}

let root: HTMLElement;
let act: ((value: string) => void) | null = null;
const shown = () => root.querySelector('[data-state]')?.textContent ?? null;
const waitFor = <T,>(find: () => T | null | undefined | false, what: string) => waitForIn(() => root, find, what);
const settle = () => new Promise((r) => setTimeout(r, 30));

function View({ api }: { api: StateSource<string> }) {
  const { state, setState, error } = useBackgroundState(api);
  act = setState;
  return (
    <div>
      <p data-state>{state ?? 'loading'}</p>
      {error ? <p role="alert">{error}</p> : null}
    </div>
  );
}

freshRootPerTest((r) => (root = r));
afterEach(() => {
  act = null;
});

describe('useBackgroundState: only the newest answer is shown', () => {
  it('keeps the newer state when an older read answers last', async () => {
    const s = source();
    render(<View api={s.api} />, root);
    (await s.read(0)).resolve('active');
    await waitFor(() => shown() === 'active', 'the first read');
    s.announce(); // a read begun before the hub locked the agent…
    s.announce(); // …and the one the lock's own announcement began
    (await s.read(2)).resolve('locked');
    await waitFor(() => shown() === 'locked', 'the newest read');
    (await s.read(1)).resolve('active');
    await settle();
    expect(shown()).toBe('locked');
  });

  it("an older read's error does not replace a newer answer with an alert", async () => {
    const s = source();
    render(<View api={s.api} />, root);
    const first = await s.read(0);
    s.announce();
    (await s.read(1)).resolve('fresh');
    await waitFor(() => shown() === 'fresh', 'the newest read');
    first.reject(new Error('The Clawkeep background stopped before it answered.'));
    await settle();
    expect(root.querySelector('[role=alert]')).toBeNull();
    expect(shown()).toBe('fresh');
  });

  it('what an action returned wins over a read begun before it; a read begun after it wins again', async () => {
    const s = source();
    render(<View api={s.api} />, root);
    (await s.read(0)).resolve('pending: Step 1');
    await waitFor(() => shown() === 'pending: Step 1', 'the first read');
    s.announce(); // begun before the click answered
    act!('nothing pending'); // the decision's answer
    await waitFor(() => shown() === 'nothing pending', "the action's answer");
    (await s.read(1)).resolve('pending: Step 1');
    await settle();
    expect(shown()).toBe('nothing pending');
    s.announce();
    (await s.read(2)).resolve('pending: Step 2');
    await waitFor(() => shown() === 'pending: Step 2', 'a read begun after the action');
  });
});
