import { expect, test } from './fixtures';

// Only what this file touches inside the service worker; evaluate() callbacks run there, not in Node.
declare const chrome: { runtime: { id: string } };

test('the extension service worker starts', async ({ serviceWorker, extensionId }) => {
  expect(extensionId).toMatch(/^[a-p]{32}$/);
  expect(serviceWorker.url()).toMatch(new RegExp(`^chrome-extension://${extensionId}/`));
  // The worker is alive enough to run code with the extension APIs.
  expect(await serviceWorker.evaluate(() => chrome.runtime.id)).toBe(extensionId);
});

test('the popup page loads', async ({ openPopup }) => {
  const popup = await openPopup();
  await expect(popup).toHaveTitle(/Clawkeep/);
});
