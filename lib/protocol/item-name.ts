import { HIDDEN_CHARACTER } from './display-text';

/** A vault item's name as scopes and placeholders name it (scopes.ts grammar: `item-name`). */
export const MAX_ITEM_NAME_LENGTH = 128;

// Controls, bidi and zero-width characters would let a name render differently from what it is (display-text.ts);
// lone surrogates have no UTF-8 form.
export function isItemName(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_ITEM_NAME_LENGTH && !HIDDEN_CHARACTER.test(v);
}
