import { browser } from 'wxt/browser';

/** A storage area (chrome.storage.local / .session) as the background services' small get / set / remove port. */
export function storageArea(area: 'local' | 'session') {
  return {
    get: (key: string) => browser.storage[area].get(key),
    set: (items: Record<string, unknown>) => browser.storage[area].set(items),
    remove: (key: string) => browser.storage[area].remove(key),
  };
}
