// Argon2id at the vault's default parameters: the shipped extension KDF worker in Chromium vs the reference
// `argon2` CLI (Debian package) on the same passphrase and salt, on both of the worker's paths: from an extension page
// (cross-origin isolated: lanes on parallel lane workers) and from a plain http page (not isolated: the single path).
// Prints timings only; never asserts on them.
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
export async function launchExtension({ extensionDir, chromiumPath, extraArgs = [] }) {
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
      ...extraArgs,
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

/** `runs + 1` derivations in the shipped KDF worker started from `tab` at `workerUrl` (the first is "cold"). */
async function deriveRuns(tab, workerUrl, runs) {
  await tab.evaluate(comlinkUmd());
  return await tab.evaluate(
    async ({ workerUrl, passphrase, salt, params, runs }) => {
      const remote = globalThis.Comlink.wrap(new Worker(workerUrl, { type: 'module' }));
      const enc = new TextEncoder();
      const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      const results = [];
      for (let i = 0; i < runs + 1; i++) {
        const t0 = performance.now();
        // The worker wipes the passphrase it receives, so encode a fresh copy per run.
        const res = await remote.derive(enc.encode(passphrase), enc.encode(salt), params);
        const ms = performance.now() - t0;
        // KdfWorkerApi answers { ok, key, path } | { ok: false, error }.
        if (!res.ok) throw new Error(`worker error: ${JSON.stringify(res.error)}`);
        results.push({ ms, hex: toHex(res.key), path: res.path, isolated: globalThis.crossOriginIsolated === true });
      }
      return results;
    },
    { workerUrl, passphrase: PASSPHRASE, salt: SALT, params: PARAMS, runs },
  );
}

const CONTENT_TYPES = {
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.json': 'application/json',
  '.css': 'text/css',
};

/**
 * Serves the built extension's files over http://127.0.0.1 with no COOP/COEP headers: the same KDF worker bundle,
 * started from a page that is not cross-origin isolated (like the web vault served without those headers), so it
 * takes the single path. `/` is an empty page to start the worker from.
 */
async function serveUnisolated(dir) {
  const http = await import('node:http');
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return res.end('<!doctype html><title>argon2 bench</title>');
    }
    const file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
    if (!file.startsWith(root + path.sep) || !existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The shipped KDF worker in Chromium twice: from an extension page (isolated) and from a plain http page (not). */
async function browserRuns({ extensionDir, chromiumPath, runs }) {
  const workerAsset = findWorkerAsset(extensionDir);
  const page = ['vault.html', 'popup.html'].find((p) => existsSync(path.join(extensionDir, p)));
  if (!page) throw new Error(`no vault.html or popup.html in ${extensionDir}`);

  const browser = await launchExtension({ extensionDir, chromiumPath });
  const server = await serveUnisolated(extensionDir);
  try {
    const tab = await browser.openPage(page);
    const extension = await deriveRuns(tab, `chrome-extension://${browser.extensionId}/${workerAsset}`, runs);
    await tab.close();
    const plain = await browser.context.newPage();
    await plain.goto(`${server.origin}/`);
    const unisolated = await deriveRuns(plain, `${server.origin}/${workerAsset}`, runs);
    await plain.close();
    return { extension, unisolated };
  } finally {
    await server.close();
    await browser.close();
  }
}

/**
 * Runs the native CLI `runs` times, then the shipped KDF worker `runs` + 1 times from an extension page (isolated:
 * the parallel path) and from a non-isolated http page (the single path); each browser side's first call is reported
 * as "cold" (worker start, wasm compile, lane workers). Returns the medians, each path's ratio to the native median
 * of this same run, which path each side reported, and whether every output is byte-identical to the CLI's.
 */
export async function benchArgon2({
  extensionDir,
  chromiumPath = '/usr/bin/chromium',
  argon2Path = '/usr/bin/argon2',
  runs = 5,
}) {
  const native = [];
  for (let i = 0; i < runs; i++) native.push(await argon2Cli(argon2Path));
  const { extension, unisolated } = await browserRuns({ extensionDir, chromiumPath, runs });
  const nativeMs = median(native.map((r) => r.ms));
  const side = ([cold, ...warm]) => {
    const ms = median(warm.map((r) => r.ms));
    return {
      ms,
      coldMs: cold.ms,
      ratio: ms / nativeMs,
      // The warm runs' paths; a new KDF worker's first call runs on one thread while its lane workers start.
      paths: [...new Set(warm.map((r) => r.path))],
      coldPath: cold.path,
      isolated: cold.isolated,
      identical: [cold, ...warm].every((r) => r.hex === native[0].hex),
    };
  };
  const parallel = side(extension);
  const single = side(unisolated);
  const hexes = new Set([...native, ...extension, ...unisolated].map((r) => r.hex));
  return {
    runs,
    nativeMs,
    parallel,
    single,
    // The extension's numbers under the names vault-10k and older reports used.
    browserMs: parallel.ms,
    browserColdMs: parallel.coldMs,
    ratio: parallel.ratio,
    identical: hexes.size === 1,
  };
}
