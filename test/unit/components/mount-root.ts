import { render } from 'preact';
import { afterEach, beforeEach } from 'vitest';

/**
 * Gives every test of the calling file a fresh element in the document to render into (handed to `use` before the
 * test), and unmounts and removes it after the test, so no component outlives its test.
 */
export function freshRootPerTest(use: (root: HTMLElement) => void): void {
  let root: HTMLElement | null = null;
  beforeEach(() => {
    root = document.createElement('div');
    document.body.append(root);
    use(root);
  });
  afterEach(() => {
    if (!root) return;
    render(null, root);
    root.remove();
    root = null;
  });
}
