import type { CDPSession, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addSecret, createVault, expectSecretIntact, unlock } from './helpers';

// Issue 17 goal 1: the web vault opens its items with libsodium's WebAssembly XChaCha20-Poly1305
// (lib/crypto/aead-wasm.ts), which needs its page CSP to allow 'wasm-unsafe-eval'. If it cannot load, every item is
// still opened by @noble/ciphers: nothing a person sees changes, so this test looks at what the page compiled. (The
// extension's service worker is shown to run it by bench/vault-list-profile.mjs; its CSP is the same directive.)

/** A string only libsodium's module holds (a source path in its data section). */
const LIBSODIUM_MARK = 'randombytes/randombytes.c';

/** Collects the WebAssembly modules compiled on the page's main thread (not in its workers: the KDF's Argon2id). */
async function watchWasm(page: Page): Promise<{ cdp: CDPSession; ids: string[] }> {
  const cdp = await page.context().newCDPSession(page);
  const ids: string[] = [];
  cdp.on('Debugger.scriptParsed', (e) => {
    if (e.scriptLanguage === 'WebAssembly') ids.push(e.scriptId);
  });
  await cdp.send('Debugger.enable');
  return { cdp, ids };
}

async function compiledLibsodium({ cdp, ids }: { cdp: CDPSession; ids: string[] }): Promise<boolean> {
  for (const scriptId of ids) {
    const { bytecode } = await cdp.send('Debugger.getScriptSource', { scriptId });
    if (bytecode && Buffer.from(bytecode, 'base64').toString('latin1').includes(LIBSODIUM_MARK)) return true;
  }
  return false;
}

test('web vault: libsodium compiles under the served CSP, and items open through it', async ({ page, webVault }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|wasm-unsafe-eval/i.test(m.text())) violations.push(m.text());
  });
  const watch = await watchWasm(page);
  await page.goto(webVault.url);
  await createVault(page, 'aead wasm: quartz-lantern-plum-19', 'floor');
  const secret = { name: 'Wasm check', value: 'sk-wasm-0001', notes: 'opened by libsodium', tags: 'a, b' };
  await addSecret(page, secret);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  const afterReload = await watchWasm(page);
  await unlock(page, 'aead wasm: quartz-lantern-plum-19');
  await expectSecretIntact(page, secret);
  expect(await compiledLibsodium(watch)).toBe(true);
  expect(await compiledLibsodium(afterReload)).toBe(true);
  expect(violations).toEqual([]);
});
