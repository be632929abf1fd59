import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { createStaticHandler, SECURITY_HEADERS } from '../../bin/web-server';
import { EXTENSION_DIR, WEB_DIR, expect, test } from './fixtures';

// Issue 17 goal 3: the shipped KDF worker fills Argon2id's lanes on parallel lane workers where it is cross-origin
// isolated (the extension's pages, by the manifest's COOP/COEP keys; the web vault as bin/web-server.ts serves it,
// COOP + COEP) once they have started, and on one thread where it is not (the web vault built files served by a
// static host that sends no COEP), says which path ran, and gives the reference CLI's bytes on both.

interface Vector {
  password: string;
  salt: string;
  iterations: number;
  memoryKiB: number;
  parallelism: number;
  tag: string;
}
const vectors: { vectors: Vector[] } = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '..', 'vectors', 'argon2id.json'), 'utf8'),
);
// Recorded from the argon2 CLI (test/vectors/generate.ts): the vault's defaults (64 MiB, 3 passes, 4 lanes), and
// 2 lanes of 19 MiB.
const DEFAULTS = vectors.vectors.find((v) => v.memoryKiB === 65536 && v.parallelism === 4)!;
const TWO_LANES = vectors.vectors.find((v) => v.parallelism === 2)!;

/** The built KDF worker's file (assets/kdf.worker-<hash>.js) in an unpacked extension or web vault build. */
function findWorkerAsset(dir: string): string {
  const found = readdirSync(path.join(dir, 'assets')).filter((f) => /^kdf\.worker-.*\.js$/.test(f));
  expect(found).toHaveLength(1);
  return `assets/${found[0]}`;
}

/** comlink's UMD build (defines globalThis.Comlink), evaluated in the page: the same client the pages bundle. */
const comlinkUmd = (): string =>
  readFileSync(createRequire(import.meta.url).resolve('comlink/dist/umd/comlink.js'), 'utf8');

interface Result {
  ok: boolean;
  path?: string;
  hex?: string;
  error?: unknown;
}
interface Derived {
  isolated: boolean;
  /** The derivations of `warmUp` until one ran in parallel (at most 10), then those of the list. */
  warmUps: Result[];
  results: Result[];
}

/**
 * Starts the built KDF worker at `workerUrl` from `page` and derives each vector with it, through comlink. With
 * `warmUp`, first derives that vector until a derivation reports the parallel path, at most 10 times: a new KDF
 * worker runs its first derivations on one thread while its lane workers start (lib/crypto/argon2/index.ts).
 */
async function deriveInWorker(page: Page, workerUrl: string, list: Vector[], warmUp?: Vector): Promise<Derived> {
  await page.evaluate(comlinkUmd());
  return page.evaluate(
    async ({ workerUrl, list, warmUp }) => {
      const Comlink = (globalThis as unknown as { Comlink: typeof import('comlink') }).Comlink;
      const remote = Comlink.wrap<import('../../lib/crypto/kdf-worker-api').KdfWorkerApi>(
        new Worker(workerUrl, { type: 'module' }),
      );
      const fromHex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
      const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      const derive = async (v: (typeof list)[number]) => {
        const res = await remote.derive(fromHex(v.password), fromHex(v.salt), {
          algorithm: 'argon2id',
          memoryKiB: v.memoryKiB,
          iterations: v.iterations,
          parallelism: v.parallelism,
        });
        return res.ok ? { ok: true, path: res.path, hex: toHex(res.key) } : { ok: false, error: res.error };
      };
      const warmUps = [];
      for (let i = 0; warmUp && i < 10; i++) {
        warmUps.push(await derive(warmUp));
        if (warmUps.at(-1)!.path === 'parallel') break;
      }
      const results = [];
      for (const v of list) results.push(await derive(v));
      return { isolated: globalThis.crossOriginIsolated, warmUps, results };
    },
    { workerUrl, list, warmUp },
  );
}

/**
 * An isolated page: every warm-up gave the CLI's bytes, on whichever path, the last one ran in parallel, and so did
 * both vectors after it.
 */
function expectParallel(derived: Derived): void {
  expect(derived.isolated).toBe(true);
  for (const r of derived.warmUps) expect(r).toMatchObject({ ok: true, hex: TWO_LANES.tag });
  expect(derived.warmUps.at(-1)!.path).toBe('parallel');
  expect(derived.results).toEqual([
    { ok: true, path: 'parallel', hex: DEFAULTS.tag },
    { ok: true, path: 'parallel', hex: TWO_LANES.tag },
  ]);
}

test('extension page: cross-origin isolated, the KDF worker takes the parallel path and gives the CLI bytes', async ({
  extensionId,
  openVault,
}) => {
  const vault = await openVault();
  const asset = findWorkerAsset(EXTENSION_DIR);
  const derived = await deriveInWorker(
    vault,
    `chrome-extension://${extensionId}/${asset}`,
    [DEFAULTS, TWO_LANES],
    TWO_LANES,
  );
  expectParallel(derived);
});

test('web vault as clawkeep serves it: cross-origin isolated, the parallel path, the CLI bytes', async ({
  page,
  webVault,
}) => {
  await page.goto(webVault.url);
  const asset = findWorkerAsset(WEB_DIR);
  const derived = await deriveInWorker(page, new URL(asset, webVault.url).href, [DEFAULTS, TWO_LANES], TWO_LANES);
  expectParallel(derived);
});

/** The built web vault on a static host that sends the same headers as bin/web-server.ts except COEP. */
async function serveWithoutCoep(): Promise<{ url: string; close: () => Promise<void> }> {
  const withoutCoep = Object.fromEntries(
    Object.entries(SECURITY_HEADERS).filter(([name]) => name !== 'Cross-Origin-Embedder-Policy'),
  );
  const server = http.createServer(createStaticHandler(realpathSync(WEB_DIR), withoutCoep));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('web vault on a host without COEP: not isolated, the KDF worker takes the single path and gives the same bytes', async ({
  page,
}) => {
  const host = await serveWithoutCoep();
  try {
    await page.goto(host.url);
    const asset = findWorkerAsset(WEB_DIR);
    const derived = await deriveInWorker(page, new URL(asset, host.url).href, [DEFAULTS, TWO_LANES]);
    expect(derived.isolated).toBe(false);
    expect(derived.warmUps).toEqual([]);
    expect(derived.results).toEqual([
      { ok: true, path: 'single', hex: DEFAULTS.tag },
      { ok: true, path: 'single', hex: TWO_LANES.tag },
    ]);
  } finally {
    await host.close();
  }
});
