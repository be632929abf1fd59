/**
 * The vault page's address for "Open in vault" from the popup: `vault.html#item=<id>` focuses that item in Items.
 * Only the item's random id travels in the URL, never its name or value (an id reveals nothing without the vault).
 */

const ITEM_KEY = 'item';
/** Item ids are UUIDs or similar tokens; anything else in the fragment is ignored rather than looked up. */
const ITEM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The fragment (with its '#') that focuses `itemId` on the vault page. */
export function vaultItemFragment(itemId: string): string {
  if (!ITEM_ID.test(itemId)) throw new RangeError('vaultItemFragment: not an item id');
  return `#${ITEM_KEY}=${itemId}`;
}

/** The item id a vault page URL fragment asks to focus, or null. */
export function itemIdFromFragment(hash: string): string | null {
  const id = new URLSearchParams(hash.replace(/^#/, '')).get(ITEM_KEY);
  return id && ITEM_ID.test(id) ? id : null;
}
