#!/usr/bin/env node
// `npm run test:openclaw`: OpenClaw integration tests against a real gateway (test/openclaw/).
// 1. Ensures a pinned openclaw (and Node 24 when this Node is older than 24.16) in ~/.cache/clawkeep-openclaw
//    (CLAWKEEP_OPENCLAW_DIR overrides); needs the npm registry once, then works offline.
// 2. Runs Vitest on test/openclaw under that Node 24 (global WebSocket, the Node openclaw itself runs on).
// The last line is `N passed, N failed` plus the total time; the exit code is 1 on any failure.
// Extra arguments go to Vitest (e.g. a file filter).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstall } from '../test/openclaw/harness/install.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);

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
  const exit = await new Promise((resolve) => {
    const child = spawn(inst.node, args, { cwd: ROOT, env, stdio: 'inherit' });
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
}
console.log(`[test:openclaw] total ${secs()} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(code);
