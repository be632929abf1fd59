import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { DeployDraft, useDraftState } from '../../../components/deploy/deploy-draft';
import { freshRootPerTest } from './mount-root';

// The deploy wizard's draft outlives the component that edits it (a tab switch unmounts the Deploy tab).
let root: HTMLElement;
let setter: ((next: string | ((p: string) => string)) => void) | null = null;

function Probe({ draft }: { draft?: DeployDraft }) {
  const [value, setValue] = useDraftState(draft, 'config.name', 'initial');
  setter = setValue;
  return <p>{value}</p>;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

freshRootPerTest((r) => (root = r));

describe('useDraftState', () => {
  it('restores the value after unmount and remount with the same draft', async () => {
    const draft = new DeployDraft();
    render(<Probe draft={draft} />, root);
    setter!('my-cvm');
    await settle();
    expect(root.textContent).toBe('my-cvm');
    render(null, root); // the tab is left
    setter!((p) => `${p}-2`); // a step that finishes after its tab was left still lands in the draft
    render(<Probe draft={draft} />, root); // …and opened again
    await settle();
    expect(root.textContent).toBe('my-cvm-2');
  });

  it('without a draft (or after clear) it starts from the initial value', async () => {
    render(<Probe />, root);
    setter!('typed');
    await settle();
    render(null, root);
    render(<Probe />, root);
    expect(root.textContent).toBe('initial');

    const draft = new DeployDraft();
    draft.set('config.name', 'kept');
    draft.clear();
    render(null, root);
    render(<Probe draft={draft} />, root);
    expect(root.textContent).toBe('initial');
  });
});
