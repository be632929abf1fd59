// TDX quote verification time, case tdx-v4-uptodate of test/fixtures/tdx (a real v4 quote and real Intel
// collateral at a fixed time): our verifier (lib/attest) vs the reference @phala/dcap-qvl 0.3.9, measured in the
// same run, in Node and in a browser Web Worker (Debian Chromium). Prints medians and ratios; never asserts on
// timings. Asserts correctness only: every side must answer UpToDate for this case, or the numbers mean nothing.
//
// How each side runs:
//  - ours, Node: lib/attest/verify.ts through tsx (bench/lib/ts.mjs), as the CLI runs it;
//  - ours, browser: the real workers/attest.worker.ts built into one standalone ES module with Vite's build API
//    (production define, as the vault build), served from a local http origin, started as a module worker from a
//    blank page and called through comlink's `verify(quote, collateral, options)`. The first call is reported
//    separately ("cold": worker start, module evaluation, first parse of every certificate and CRL);
//  - reference, Node: its Node-crypto path and its pure-JS path (bench/lib/dcap-qvl.mjs);
//  - reference, browser: an esbuild browser bundle of a worker exposing its `verify` through comlink (what any
//    web app would ship: its package.json maps `crypto` to false there, so it takes the pure-JS path).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './argon2.mjs';
import { loadDcapQvl } from './lib/dcap-qvl.mjs';
import { serveDir } from './lib/static-server.mjs';
import { importTs } from './lib/ts.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = path.resolve(ROOT, 'test/fixtures/tdx');
export const CASE_ID = 'tdx-v4-uptodate';

function loadCase() {
  const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8'));
  const c = cases.find((x) => x.id === CASE_ID);
  if (!c) throw new Error(`no case ${CASE_ID} in expected.json`);
  return {
    quote: new Uint8Array(readFileSync(path.join(FIXTURES, c.quote))),
    collateralText: readFileSync(path.join(FIXTURES, c.collateral), 'utf8'),
    nowSecs: c.now_unix,
    expectedStatus: c.expected.status,
  };
}

/** Times `runs` warm calls after one first call; `check` throws unless an answer is the expected one. */
async function timeCalls(call, check, runs) {
  let t0 = performance.now();
  check(await call());
  const firstMs = performance.now() - t0;
  const ms = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    const r = await call();
    ms.push(performance.now() - t0);
    check(r);
  }
  return { firstMs, medianMs: median(ms) };
}

const expectStatus = (who, expected) => (status) => {
  if (status !== expected)
    throw new Error(`${who} answered ${status}, expected ${expected}: the comparison would be meaningless`);
};

async function nodeRuns(input, runs) {
  const [{ verifyQuote }, { parseCollateralJson }] = await importTs('lib/attest/verify.ts', 'lib/attest/collateral.ts');
  const collateral = parseCollateralJson(input.collateralText);
  const rawCollateral = JSON.parse(input.collateralText);
  const options = { now: input.nowSecs * 1000 };
  const ours = await timeCalls(
    async () => {
      const r = await verifyQuote(input.quote, collateral, options);
      return r.verified ? r.status : `not verified (${r.error?.code}: ${r.error?.message})`;
    },
    expectStatus('ours (Node)', input.expectedStatus),
    runs,
  );
  const refCall = (mod) => async () => mod.verify(input.quote, rawCollateral, input.nowSecs).status;
  const refNode = await timeCalls(
    refCall(loadDcapQvl('node')),
    expectStatus('dcap-qvl (node path)', input.expectedStatus),
    runs,
  );
  const refPure = await timeCalls(
    refCall(loadDcapQvl('pure-js')),
    expectStatus('dcap-qvl (pure JS, Node)', input.expectedStatus),
    runs,
  );
  return { ours, refNode, refPure };
}

/** Our worker, as one ES module: Vite library build of workers/attest.worker.ts with the vault's defines. */
async function buildOurWorker(outDir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    // Same as vite.web.config.ts / wxt.config.ts: test trust anchors compiled out of user builds.
    define: { __CLAWKEEP_TEST_ANCHORS__: 'false' },
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      copyPublicDir: false,
      lib: { entry: path.join(ROOT, 'workers/attest.worker.ts'), formats: ['es'], fileName: () => 'attest.worker.js' },
      // One file: the dstack module the verifier loads on demand is inlined rather than a second chunk.
      rollupOptions: { output: { codeSplitting: false } },
    },
  });
  return 'attest.worker.js';
}

/** The reference in a worker: esbuild browser bundle (its `browser` field maps crypto away: pure-JS path). */
async function buildReferenceWorker(outDir) {
  const esbuild = await import('esbuild');
  const entry = path.join(outDir, 'dcap-qvl.entry.mjs');
  writeFileSync(
    entry,
    [
      "import * as Comlink from 'comlink';",
      "import * as dcap from '@phala/dcap-qvl';",
      'Comlink.expose({',
      '  isBrowser: () => dcap.isBrowser,',
      '  verify: (quote, collateral, nowSecs) => dcap.verify(quote, collateral, nowSecs).status,',
      '});',
    ].join('\n'),
  );
  await esbuild.build({
    entryPoints: [entry],
    outfile: path.join(outDir, 'dcap-qvl.worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    target: 'es2022',
    nodePaths: [path.join(ROOT, 'node_modules')],
    logLevel: 'error',
  });
  return 'dcap-qvl.worker.js';
}

async function browserRuns(input, runs, chromiumPath) {
  const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bench-attest-'));
  const server = { close: async () => {} };
  let browser;
  try {
    const ours = await buildOurWorker(dir);
    const ref = await buildReferenceWorker(dir);
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>attest bench</title>');
    const bundleBytes = { ours: statSync(path.join(dir, ours)).size, reference: statSync(path.join(dir, ref)).size };
    Object.assign(server, await serveDir(dir));

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const comlinkUmd = readFileSync(createRequire(import.meta.url).resolve('comlink/dist/umd/comlink.js'), 'utf8');
    await page.evaluate(comlinkUmd);

    return await page
      .evaluate(
        async ({ ours, ref, quote, collateralText, nowSecs, runs }) => {
          const median = (xs) => {
            const s = [...xs].sort((a, b) => a - b);
            const m = s.length >> 1;
            return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
          };
          const bytes = new Uint8Array(quote);
          const collateral = JSON.parse(collateralText);
          const time = async (start, call) => {
            // Cold: from creating the worker to the first answer.
            let t0 = performance.now();
            const remote = globalThis.Comlink.wrap(new Worker(start, { type: 'module' }));
            const answers = [await call(remote)];
            const coldMs = performance.now() - t0;
            const ms = [];
            for (let i = 0; i < runs; i++) {
              t0 = performance.now();
              answers.push(await call(remote));
              ms.push(performance.now() - t0);
            }
            return { remote, coldMs, medianMs: median(ms), answers: [...new Set(answers)] };
          };
          const oursR = await time(`/${ours}`, async (remote) => {
            const r = await remote.verify(bytes, collateral, { now: nowSecs * 1000 });
            return r.verified ? r.status : `not verified (${r.error?.code}: ${r.error?.message})`;
          });
          const refR = await time(`/${ref}`, (remote) => remote.verify(bytes, collateral, nowSecs));
          return {
            ours: { coldMs: oursR.coldMs, medianMs: oursR.medianMs, answers: oursR.answers },
            reference: {
              coldMs: refR.coldMs,
              medianMs: refR.medianMs,
              answers: refR.answers,
              pureJs: await refR.remote.isBrowser(),
            },
          };
        },
        {
          ours,
          ref,
          quote: Array.from(input.quote),
          collateralText: input.collateralText,
          nowSecs: input.nowSecs,
          runs,
        },
      )
      .then((r) => ({ ...r, bundleBytes }));
  } finally {
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs everything; returns medians (ms), first-call costs, the ratios ours/reference and bundle sizes. Throws if
 * any side did not answer the expected status (a broken build or verifier must not produce a flattering ratio).
 */
export async function benchAttestVerify({ chromiumPath = '/usr/bin/chromium', runs = 50 } = {}) {
  const input = loadCase();
  const node = await nodeRuns(input, runs);
  const browser = await browserRuns(input, runs, chromiumPath);
  for (const [who, answers] of [
    ['ours (browser worker)', browser.ours.answers],
    ['dcap-qvl (browser worker)', browser.reference.answers],
  ]) {
    if (answers.length !== 1 || answers[0] !== input.expectedStatus) {
      throw new Error(`${who} answered ${answers.join(', ')}, expected ${input.expectedStatus}`);
    }
  }
  if (!browser.reference.pureJs) throw new Error('the dcap-qvl browser bundle did not take its pure-JS path');
  return {
    case: CASE_ID,
    runs,
    node: {
      oursMs: node.ours.medianMs,
      oursFirstMs: node.ours.firstMs,
      refNodeMs: node.refNode.medianMs,
      refPureJsMs: node.refPure.medianMs,
    },
    browser: {
      oursMs: browser.ours.medianMs,
      oursColdMs: browser.ours.coldMs,
      refPureJsMs: browser.reference.medianMs,
      refColdMs: browser.reference.coldMs,
    },
    ratios: {
      oursNodeVsRefNode: node.ours.medianMs / node.refNode.medianMs,
      oursNodeVsRefPureJsNode: node.ours.medianMs / node.refPure.medianMs,
      oursWorkerVsRefWorker: browser.ours.medianMs / browser.reference.medianMs,
      oursWorkerColdVsRefWorkerCold: browser.ours.coldMs / browser.reference.coldMs,
      oursWorkerVsOursNode: browser.ours.medianMs / node.ours.medianMs,
    },
    bundleBytes: browser.bundleBytes,
  };
}

// `node bench/attest-verify.mjs` runs this bench alone (scripts/bench.mjs runs it with the others).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchAttestVerify({ runs: Number(process.env.BENCH_ATTEST_RUNS ?? 50) });
  console.log(JSON.stringify(r, null, 2));
}
