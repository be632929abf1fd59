import { describe, expect, it } from 'vitest';
import { itemIdFromFragment, vaultItemFragment } from '../../../lib/ext/vault-page-link';

describe('the vault page link ("Open in vault" from the popup)', () => {
  it('round-trips an item id through the fragment', () => {
    const id = crypto.randomUUID();
    expect(itemIdFromFragment(vaultItemFragment(id))).toBe(id);
  });

  it('carries only an id: anything else is refused on the way out and ignored on the way in', () => {
    expect(() => vaultItemFragment('GitHub token')).toThrow(RangeError);
    expect(() => vaultItemFragment('a&value=sk-live')).toThrow(RangeError);
    expect(itemIdFromFragment('#item=../../etc')).toBeNull();
    expect(itemIdFromFragment('#other=abc')).toBeNull();
    expect(itemIdFromFragment('')).toBeNull();
  });
});
