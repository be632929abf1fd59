// Argon2id at the vault's default parameters: the shipped extension KDF worker in Chromium vs the reference
// `argon2` CLI (Debian package) on the same passphrase and salt. Prints timings only; never asserts on them.
//
// How the browser side measures the real shipped worker without test hooks in product code:
//  - load the built extension (.output/chrome-mv3) in Debian Chromium, open one of its own pages (vault.html), so
//    the worker runs with the extension's origin and CSP ('wasm-unsafe-eval'), exactly as at unlock;
//  - start the built worker asset `assets/kdf.worker-<hash>.js` from that page with `new Worker(url, {type:'module'})`;
//  - talk to it with the real comlink client: the UMD build of the same comlink package the worker bundles is
//    evaluated in the page through the DevTools protocol (page.evaluate is not subject to the page CSP). This
//    keeps us off comlink's private wire format and adds nothing to the extension.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PARAMS = { algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 4 };
export const KEY_LENGTH = 32;
export const PASSPHRASE = 'correct horse battery staple';
/** 16 bytes. The argon2 CLI takes the salt as a command-line string, so it is ASCII. */
export const SALT = 'clawkeep-bench16';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One run of the reference CLI: `echo -n pw | argon2 salt -id -t 3 -k 65536 -p 4 -l 32 -r`. */
function argon2Cli(argon2Path) {
  return new Promise((resolve, reject) => {
    const args = [
      SALT,
      '-id',
      '-t',
      String(PARAMS.iterations),
      '-k',
      String(PARAMS.memoryKiB),
      '-p',
      String(PARAMS.parallelism),
      '-l',
      String(KEY_LENGTH),
      '-r',
    ];
    const t0 = performance.now();
    const child = spawn(argon2Path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) =>
      reject(new Error(`could not run ${argon2Path}: ${e.message} (apt-get install -y argon2)`)),
    );
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`argon2 exited ${code}: ${err.trim()}`));
      resolve({ ms, hex: out.trim().toLowerCase() });
    });
    child.stdin.end(PASSPHRASE);
  });
}

export function findWorkerAsset(extensionDir) {
  const assets = path.join(extensionDir, 'assets');
  const found = existsSync(assets) ? readdirSync(assets).filter((f) => /^kdf\.worker-.*\.js$/.test(f)) : [];
  if (found.length !== 1) {
    throw new Error(
      `expected one assets/kdf.worker-*.js in ${extensionDir}, found ${found.length}: is the vault page built?`,
    );
  }
  return `assets/${found[0]}`;
}

/** Source of comlink's UMD build, to evaluate in an extension page (defines globalThis.Comlink). */
export const comlinkUmd = () =>
  readFileSync(createRequire(import.meta.url).resolve('comlink/dist/umd/comlink.js'), 'utf8');

/**
 * Debian Chromium, headless, with the unpacked extension in a fresh profile. `close()` also deletes the profile.
 * Shared with bench/vault-10k.mjs.
 */
export async function launchExtension({ extensionDir, chromiumPath }) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(tmpdir(), 'clawkeep-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const extensionId = new URL(sw.url()).host;
  return {
    context,
    extensionId,
    openPage: async (page) => {
      const tab = await context.newPage();
      await tab.goto(`chrome-extension://${extensionId}/${page}`);
      return tab;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function browserRuns({ extensionDir, chromiumPath, runs }) {
  const workerAsset = findWorkerAsset(extensionDir);
  const page = ['vault.html', 'popup.html'].find((p) => existsSync(path.join(extensionDir, p)));
  if (!page) throw new Error(`no vault.html or popup.html in ${extensionDir}`);

  const browser = await launchExtension({ extensionDir, chromiumPath });
  try {
    const tab = await browser.openPage(page);
    await tab.evaluate(comlinkUmd());
    return await tab.evaluate(
      async ({ workerAsset, passphrase, salt, params, runs }) => {
        const remote = globalThis.Comlink.wrap(new Worker(chrome.runtime.getURL(workerAsset), { type: 'module' }));
        const enc = new TextEncoder();
        const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
        const results = [];
        for (let i = 0; i < runs + 1; i++) {
          const t0 = performance.now();
          // The worker wipes the passphrase it receives, so encode a fresh copy per run.
          const res = await remote.derive(enc.encode(passphrase), enc.encode(salt), params);
          const ms = performance.now() - t0;
          // KdfWorkerApi answers { ok, key } | { ok: false, error }; accept a bare Uint8Array too.
          const key = res instanceof Uint8Array ? res : res.ok ? res.key : null;
          if (!key) throw new Error(`worker error: ${JSON.stringify(res.error)}`);
          results.push({ ms, hex: toHex(key) });
        }
        return results;
      },
      { workerAsset, passphrase: PASSPHRASE, salt: SALT, params: PARAMS, runs },
    );
  } finally {
    await browser.close();
  }
}

/**
 * Runs both sides `runs` times (the browser gets one extra first call, reported as "cold": worker start and
 * WebAssembly compile). Returns medians, the ratio browser/native and whether all outputs are byte-identical.
 */
export async function benchArgon2({
  extensionDir,
  chromiumPath = '/usr/bin/chromium',
  argon2Path = '/usr/bin/argon2',
  runs = 5,
}) {
  const native = [];
  for (let i = 0; i < runs; i++) native.push(await argon2Cli(argon2Path));
  const [cold, ...browser] = await browserRuns({ extensionDir, chromiumPath, runs });
  const hexes = new Set([...native, cold, ...browser].map((r) => r.hex));
  const nativeMs = median(native.map((r) => r.ms));
  const browserMs = median(browser.map((r) => r.ms));
  return {
    runs,
    nativeMs,
    browserMs,
    browserColdMs: cold.ms,
    ratio: browserMs / nativeMs,
    identical: hexes.size === 1,
    keyHex: native[0].hex,
    browserHexes: [...new Set([cold, ...browser].map((r) => r.hex))],
  };
}
