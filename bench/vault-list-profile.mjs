// Where the background's time goes while a vault page unlocks and lists a large vault: a V8 CPU profile of the
// extension's service worker over a few API unlock + list runs (the same path as bench/vault-10k.mjs), summarised
// by function (self time) and by source file or package (through the build's source map). A tool for reading, not a bench: it prints
// milliseconds per run and asserts only that every item was listed.
//
//   node bench/vault-list-profile.mjs [extensionDir]   (default .output/chrome-mv3)
//   PROFILE_ITEMS=10000 PROFILE_RUNS=3 PROFILE_TOP=30
//
// Functions and sources are only readable in an unminified build with a source map:
// `npx wxt build -c bench/wxt.profile.config.ts` writes one to .output/profile/chrome-mv3 (same code).
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { findWorkerAsset, launchExtension } from './argon2.mjs';
import { apiRuns, createVault, importThroughBackupTab, makeItems } from './vault-10k.mjs';

const COUNT = Number(process.env.PROFILE_ITEMS ?? 10_000);
const RUNS = Number(process.env.PROFILE_RUNS ?? 3);
const TOP = Number(process.env.PROFILE_TOP ?? 30);
const extensionDir = path.resolve(process.argv[2] ?? '.output/chrome-mv3');

/**
 * Where a frame's code comes from: its source file through the build's source map (node_modules packages by name,
 * our files by path), or for frames without a script the engine's own name (GC, IndexedDB's native getAll, JSON...).
 */
function sourceOf(frame, maps) {
  if (frame.url.startsWith('wasm://')) return 'WebAssembly (libsodium)';
  const map = maps.get(frame.url.split('/').pop());
  if (!map) return frame.url ? frame.url.split('/').pop() : `native: ${frame.functionName || '(anonymous)'}`;
  const { source } = map.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
  if (!source) return '(unmapped)';
  const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  return pkg ? pkg[1] : source.replace(/^(\.\.\/)+/, '');
}

async function sourceMaps(dir) {
  const maps = new Map();
  const { TraceMap, originalPositionFor } = await import('@jridgewell/trace-mapping').catch(() => ({}));
  if (!TraceMap) return maps;
  for (const file of ['background.js']) {
    const at = path.join(dir, `${file}.map`);
    if (!existsSync(at)) continue;
    const map = new TraceMap(readFileSync(at, 'utf8'));
    maps.set(file, { originalPositionFor: (pos) => originalPositionFor(map, pos) });
  }
  return maps;
}

async function cdp(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${msg.error.message}`));
    else p.resolve(msg.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        pending.set(++id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Self time per node, aggregated by function (+ source) and by source file / package. */
function summarise(profile, maps) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000; // ms spent in sample i
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const sources = new Map();
  for (const [nodeId, ms] of self) {
    const { callFrame: f } = byId.get(nodeId);
    const name = f.functionName || '(anonymous)';
    const source = name.startsWith('(') && !f.url ? name : sourceOf(f, maps);
    const key = `${name}  [${source}]`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    sources.set(source, (sources.get(source) ?? 0) + ms);
  }
  return { fns, sources };
}

const port = 9300 + randomInt(600);
const browser = await launchExtension({
  extensionDir,
  chromiumPath: '/usr/bin/chromium',
  extraArgs: [`--remote-debugging-port=${port}`],
});
try {
  const popup = await createVault(browser);
  await popup.evaluate(() => chrome.runtime.sendMessage({ channel: 'clawkeep.vault.rpc', method: 'lock', args: [] }));
  await importThroughBackupTab(browser, makeItems(COUNT));
  const workerAsset = findWorkerAsset(extensionDir);
  await apiRuns(popup, { workerAsset, runs: 0, count: COUNT }); // warm-up: worker start, compile, first open

  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const sw = targets.find((t) => t.type === 'service_worker' && t.url.includes(browser.extensionId));
  if (!sw) throw new Error('no service worker target');
  const session = await cdp(sw.webSocketDebuggerUrl);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  await session.send('Profiler.start');
  const api = await apiRuns(popup, { workerAsset, runs: RUNS - 1, count: COUNT });
  const { profile } = await session.send('Profiler.stop');
  session.close();

  const runs = api.runs.length;
  const list = api.runs.map((r) => r.listMs).sort((a, b) => a - b);
  const unlock = api.runs.map((r) => r.unlockMs).sort((a, b) => a - b);
  console.log(
    `${COUNT} items, ${runs} runs: list RPC ${list.map((x) => x.toFixed(0)).join(' / ')} ms, unlock RPC ` +
      `${unlock.map((x) => x.toFixed(0)).join(' / ')} ms (page side)`,
  );
  const { fns, sources } = summarise(profile, await sourceMaps(extensionDir));
  const busy = [...sources].filter(([k]) => k !== '(idle)').reduce((s, [, v]) => s + v, 0);
  console.log(`service worker busy ${(busy / runs).toFixed(0)} ms per run; by source (ms per run):`);
  for (const [k, v] of [...sources].sort((a, b) => b[1] - a[1]))
    console.log(`  ${(v / runs).toFixed(1).padStart(8)}  ${k}`);
  console.log(`top ${TOP} functions by self time (ms per run):`);
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`  ${(v / runs).toFixed(1).padStart(8)}  ${k}`);
} finally {
  await browser.close();
}
