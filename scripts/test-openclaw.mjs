#!/usr/bin/env node
// `npm run test:openclaw`: OpenClaw integration tests against a real gateway (test/openclaw/).
// 1. Ensures a pinned openclaw (and Node 24 when this Node is older than 24.16) in ~/.cache/clawkeep-openclaw
//    (CLAWKEEP_OPENCLAW_DIR overrides); needs the npm registry once, then works offline.
// 2. Runs Vitest on test/openclaw under that Node 24 (global WebSocket, the Node openclaw itself runs on), inside a
//    fresh loopback-only network namespace when root can make one (CLAWKEEP_OPENCLAW_NETNS=0 skips it).
// The last line is `N passed, N failed`, the line before it the total time; the exit code is 1 on any failure.
// CLAWKEEP_OPENCLAW_SUMMARY=<file> also writes {"passed","failed"} there (`npm test` reads it).
// Extra arguments go to Vitest (e.g. a file filter).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstall } from '../test/openclaw/harness/install.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);

/** Tests run inside a fresh network namespace (only `lo`, up) when root can make one: the gateway's own `git`/`npm`
 * children then cannot reach the network either. Returns its name, or null. */
function makeNetns() {
  if (process.env.CLAWKEEP_OPENCLAW_NETNS === '0' || process.getuid?.() !== 0) return null;
  const name = `clawkeep-oc-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
  if (add.status !== 0) return null;
  const up = spawnSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
  if (up.status !== 0) {
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    return null;
  }
  return name;
}

/** @type {string | null} */
let netns = null;
let passed = 0;
let failed = 0;
let code = 1;
const tmp = mkdtempSync(path.join(tmpdir(), 'clawkeep-openclaw-test-'));
try {
  const inst = ensureInstall({ log: (s) => console.log(s) });
  console.log(`[test:openclaw] install ready after ${secs()} s`);
  const report = path.join(tmp, 'vitest.json');
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [
    vitest,
    'run',
    '--config',
    'test/openclaw/vitest.config.mjs',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ];
  const env = { ...process.env, PATH: `${inst.nodeBinDir}:${process.env.PATH}` };
  netns = makeNetns();
  console.log(
    netns
      ? `[test:openclaw] isolation: network namespace ${netns} (loopback only) + env flags`
      : '[test:openclaw] isolation: loopback binding + env flags (no network namespace: needs root and `ip netns`, or CLAWKEEP_OPENCLAW_NETNS=0)',
  );
  const [cmd, cmdArgs] = netns ? ['ip', ['netns', 'exec', netns, inst.node, ...args]] : [inst.node, args];
  const exit = await new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: ROOT, env, stdio: 'inherit' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed = r.numPassedTests ?? 0;
    // A file that failed to load (or a failing beforeAll) has no failed tests: count such files once each.
    failed = (r.numFailedTests ?? 0) || (r.numFailedTestSuites ?? 0);
  } catch {
    failed = Math.max(failed, 1);
    console.error('[test:openclaw] no Vitest report');
  }
  if (exit !== 0 && failed === 0) failed = 1;
  code = failed === 0 ? 0 : 1;
} catch (err) {
  console.error(`[test:openclaw] ${err instanceof Error ? err.message : err}`);
  failed = Math.max(failed, 1);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  if (netns) spawnSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
}
console.log(`[test:openclaw] total ${secs()} s`);
if (process.env.CLAWKEEP_OPENCLAW_SUMMARY)
  writeFileSync(process.env.CLAWKEEP_OPENCLAW_SUMMARY, JSON.stringify({ passed, failed }));
console.log(`${passed} passed, ${failed} failed`);
process.exit(code);
