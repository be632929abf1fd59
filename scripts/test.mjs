#!/usr/bin/env node
// `npm test`: install if needed, typecheck (browser, Node, all), ESLint, Prettier's check, the import-cycle check, build, lint the
// Firefox build, unit tests, e2e tests (Chromium, then the core flows in Firefox ESR), and the OpenClaw tests against a real gateway (scripts/test-openclaw.mjs; CLAWKEEP_SKIP_OPENCLAW=1 leaves them out, reported as skipped).
// The read-only checks (typechecks, ESLint, Prettier, cycles) run side by side, each printed whole when it ends
// (concurrentChecks); later children stream their output; counts come from their JSON reports. The last line is `N passed, N failed`
// (plus `, N skipped`), because CI reads that line and not Vitest's or Playwright's own summaries.
// Node builtins only until ensureDeps() has installed node_modules.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, bin, ensureChromium, ensureDeps, ensurePostgres, run } from './lib/ensure.mjs';

/** @typedef {{ name: string, passed: number, failed: number, skipped: number, note?: string, seconds: number, failures?: string[] }} Suite */
/** @type {Suite[]} */
const suites = [];
const tmp = mkdtempSync(path.join(tmpdir(), 'clawkeep-test-'));
/** How many read-only checks run at once: one per core (CLAWKEEP_TEST_CONCURRENCY overrides, 1 = one after another). */
const CHECK_CONCURRENCY = Math.max(1, Number(process.env.CLAWKEEP_TEST_CONCURRENCY) || availableParallelism());

const banner = (title) => console.log(`\n━━ ${title} ${'━'.repeat(Math.max(0, 70 - title.length))}`);

/** Runs one step; `fn` returns counts, a thrown error counts as one failure ("crashed"). */
async function step(name, fn) {
  banner(name);
  const t0 = performance.now();
  let result;
  try {
    result = await fn();
  } catch (err) {
    console.error(`[test] ${name} crashed: ${err instanceof Error ? err.message : err}`);
    result = { passed: 0, failed: 1, skipped: 0, note: 'crashed' };
  }
  const suite = { name, skipped: 0, ...result, seconds: (performance.now() - t0) / 1000 };
  suites.push(suite);
  return suite.failed === 0;
}

/**
 * The failed tests of a Vitest JSON report, one line each (file › test: first line of the message). CI keeps only the
 * tail of the output, so the summary repeats them: a failure far up in a long log would otherwise have no name.
 */
function vitestFailures(r) {
  const lines = [];
  for (const f of r.testResults ?? []) {
    const file = path.relative(ROOT, f.name ?? '');
    const failed = (f.assertionResults ?? []).filter((a) => a.status === 'failed');
    if (f.status === 'failed' && failed.length === 0) lines.push(`${file}: ${firstLine(f.message)}`);
    for (const a of failed) lines.push(`${file} › ${a.fullName ?? a.title}: ${firstLine(a.failureMessages?.[0])}`);
  }
  return lines;
}

/** The failed tests of a Playwright JSON report, walked through nested suites; plus errors outside tests. */
function playwrightFailures(r) {
  const lines = (r.errors ?? []).map((e) => `outside tests: ${firstLine(e.message)}`);
  const walk = (suite, trail) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'unexpected') continue;
        const last = (t.results ?? []).at(-1);
        lines.push(`${spec.file} › ${[...trail, spec.title].join(' › ')}: ${firstLine(last?.error?.message)}`);
      }
    }
    for (const child of suite.suites ?? []) walk(child, suite.file === child.file ? [...trail, child.title] : []);
  };
  for (const suite of r.suites ?? []) walk(suite, []);
  return lines;
}

// eslint-disable-next-line no-control-regex -- strips the terminal colour codes test runners put in messages
const ANSI = /\u001b\[[0-9;]*m/g;
const firstLine = (text) =>
  String(text ?? 'no message')
    .replace(ANSI, '')
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 240) ?? 'no message';

/** A step that is one check: exit code 0 passes. */
const check = (cmd, args, opts) => async () => {
  const { code } = await run(cmd, args, opts);
  return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: `exit ${code}` };
};

/** Like `check`, but the child's stdout and stderr are kept (interleaved) and printed whole when it ends. */
const quietCheck = (cmd, args) => () =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', (err) => reject(new Error(`could not start ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const c = code ?? (signal ? 128 : 1);
      resolve({
        output: Buffer.concat(chunks).toString('utf8'),
        result: c === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: `exit ${c}` },
      });
    });
  });

/**
 * Runs read-only checks (typechecks, ESLint, Prettier, cycles) `CHECK_CONCURRENCY` at a time: each is one
 * single-threaded process, so on a 2-core CI box two at a time take about half as long as one after another.
 * Each check's output is printed whole, under its banner, in the order given (not interleaved); its time is its own
 * wall time. `checks` is a list of [name, quietCheck(...)] pairs; returns true when all passed.
 */
async function concurrentChecks(checks) {
  let free = CHECK_CONCURRENCY;
  const waiting = [];
  const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise((r) => waiting.push(r)));
  const release = () => (waiting.length ? waiting.shift()() : free++);
  // Started in the order given (acquire() is first come, first served).
  const runs = checks.map(async ([name, fn]) => {
    await acquire();
    const t0 = performance.now();
    try {
      const r = await fn().catch((err) => ({
        output: `[test] ${name} crashed: ${err.message}\n`,
        result: { passed: 0, failed: 1, note: 'crashed' },
      }));
      return { ...r, seconds: (performance.now() - t0) / 1000 };
    } finally {
      release();
    }
  });
  let ok = true;
  for (const [i, [name]] of checks.entries()) {
    const { output, result, seconds } = await runs[i];
    banner(name);
    if (output) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
    suites.push({ name, skipped: 0, ...result, seconds });
    ok &&= result.failed === 0;
  }
  return ok;
}

const skip = (name, why) => {
  banner(name);
  console.log(`[test] not run: ${why}`);
  suites.push({ name, passed: 0, failed: 1, skipped: 0, note: `not run: ${why}`, seconds: 0 });
};

function readJson(file, what) {
  if (!existsSync(file)) throw new Error(`${what} wrote no JSON report (${file})`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function webExtLint() {
  const { code, stdout } = await run(
    bin('web-ext'),
    ['lint', '-s', '.output/firefox-mv2', '--output', 'json', '--no-config-discovery'],
    {
      capture: true,
    },
  );
  const report = JSON.parse(stdout.slice(stdout.indexOf('{')));
  for (const kind of ['errors', 'warnings', 'notices']) {
    for (const m of report[kind] ?? [])
      console.log(`  ${kind.slice(0, -1)} ${m.code}: ${m.message} (${m.file ?? '-'})`);
  }
  const { errors, warnings, notices } = report.summary;
  console.log(`[test] web-ext lint: ${errors} errors, ${warnings} warnings, ${notices} notices (exit ${code})`);
  return errors === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: `${errors} lint errors` };
}

async function vitest() {
  const out = path.join(tmp, 'vitest.json');
  const { code } = await run(bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  const r = readJson(out, 'vitest');
  // A file that fails to load (syntax error, throwing import) has no failed tests; count it as a failure too.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const suite = {
    passed: r.numPassedTests,
    failed: r.numFailedTests + brokenFiles,
    skipped: r.numPendingTests + (r.numTodoTests ?? 0),
    note: brokenFiles ? `${brokenFiles} file(s) failed to load` : undefined,
    failures: vitestFailures(r),
  };
  if (code !== 0 && suite.failed === 0) return { ...suite, failed: 1, note: `exit ${code} with no failed test` };
  return suite;
}

async function playwright() {
  const out = path.join(tmp, 'playwright.json');
  const { code } = await run(bin('playwright'), ['test', '--reporter=list,json'], {
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: out, PLAYWRIGHT_FORCE_TTY: '0' },
  });
  const r = readJson(out, 'playwright');
  const s = r.stats ?? {};
  const globalErrors = (r.errors ?? []).length;
  const suite = {
    passed: (s.expected ?? 0) + (s.flaky ?? 0),
    failed: (s.unexpected ?? 0) + globalErrors,
    skipped: s.skipped ?? 0,
    note: globalErrors ? `${globalErrors} error(s) outside tests` : s.flaky ? `${s.flaky} flaky` : undefined,
    failures: playwrightFailures(r),
  };
  if (code !== 0 && suite.failed === 0) return { ...suite, failed: 1, note: `exit ${code} with no failed test` };
  return suite;
}

/**
 * The core flows in Firefox ESR (test/firefox, Vitest driving Debian's firefox-esr over WebDriver BiDi with
 * puppeteer-core) against the Firefox build; builds it first if it is missing.
 */
async function firefoxE2e() {
  const firefox = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
  if (!existsSync(firefox)) throw new Error(`no Firefox at ${firefox}: apt-get install -y firefox-esr`);
  if (!existsSync(path.join(ROOT, '.output', 'firefox-mv2', 'manifest.json'))) {
    const { code } = await run(bin('wxt'), ['build', '-b', 'firefox']);
    if (code !== 0) return { passed: 0, failed: 1, note: `firefox build exit ${code}` };
  }
  const out = path.join(tmp, 'vitest-firefox.json');
  const { code } = await run(bin('vitest'), [
    'run',
    '--config',
    'test/firefox/vitest.config.mjs',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  const r = readJson(out, 'vitest (firefox)');
  const suite = {
    passed: r.numPassedTests,
    // A failing beforeAll (Firefox did not start) fails the file with no failed test: count it once.
    failed: r.numFailedTests || r.numFailedTestSuites,
    skipped: r.numPendingTests + (r.numTodoTests ?? 0),
    failures: vitestFailures(r),
  };
  if (code !== 0 && suite.failed === 0) return { ...suite, failed: 1, note: `exit ${code} with no failed test` };
  return suite;
}

/** `npm run test:openclaw`: a real OpenClaw gateway (installed once into a cache), the built extension, a real hub. */
async function openclaw() {
  const out = path.join(tmp, 'openclaw.json');
  const { code } = await run(process.execPath, [path.join(ROOT, 'scripts', 'test-openclaw.mjs')], {
    env: { CLAWKEEP_OPENCLAW_SUMMARY: out },
  });
  const r = readJson(out, 'test:openclaw');
  const suite = { passed: r.passed, failed: r.failed };
  if (code !== 0 && suite.failed === 0) return { ...suite, failed: 1, note: `exit ${code} with no failed test` };
  return suite;
}

async function main() {
  const t0 = performance.now();
  try {
    await ensureDeps();
    await ensureChromium();
    await ensurePostgres();
  } catch (err) {
    console.error(`[test] setup failed: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }

  // Three programs: browser code with DOM and no Node types, Node code with Node types and no DOM, and everything
  // (tests, config files) with both. See tsconfig.web.json / tsconfig.node.json.
  // They only read the tree (nothing here writes .wxt/ or .output/), so they run side by side; builds come after.
  // ESLint first: the longest one, so the other checks fill the second core meanwhile.
  await concurrentChecks([
    // Type-checked rules, unused code, TSDoc syntax and the import-boundary zones of README "Layout" (eslint.config.js).
    ['lint (eslint .)', quietCheck(bin('eslint'), ['.'])],
    ['typecheck web (tsc -p tsconfig.web.json)', quietCheck(bin('tsc'), ['-p', 'tsconfig.web.json'])],
    ['typecheck node (tsc -p tsconfig.node.json)', quietCheck(bin('tsc'), ['-p', 'tsconfig.node.json'])],
    ['typecheck all (tsc -p tsconfig.json)', quietCheck(bin('tsc'), ['-p', 'tsconfig.json'])],
    // One formatter (Prettier, .prettierrc.json); Markdown and byte-exact fixtures are left alone (.prettierignore).
    ['format (prettier --check .)', quietCheck(bin('prettier'), ['--check', '.', '--log-level', 'warn'])],
    [
      'import cycles (scripts/check-cycles.mjs)',
      quietCheck(process.execPath, [path.join(ROOT, 'scripts', 'check-cycles.mjs')]),
    ],
  ]);
  const chromeOk = await step('build chrome-mv3 (wxt build)', check(bin('wxt'), ['build']));
  // The deploy e2e tests load this build (test trust anchors on) against the CVM simulator; see wxt.config.ts.
  await step('build chrome-mv3-test (wxt build --mode test)', check(bin('wxt'), ['build', '--mode', 'test']));
  const firefoxOk = await step(
    'build firefox-mv2 (wxt build -b firefox)',
    check(bin('wxt'), ['build', '-b', 'firefox']),
  );
  await step(
    'build web vault (vite build -c vite.web.config.ts)',
    check(bin('vite'), ['build', '-c', 'vite.web.config.ts']),
  );
  if (firefoxOk) await step('web-ext lint (firefox-mv2)', webExtLint);
  else skip('web-ext lint (firefox-mv2)', 'the Firefox build failed');
  await step('unit (vitest)', vitest);
  if (chromeOk) await step('e2e (playwright, chromium)', playwright);
  else skip('e2e (playwright, chromium)', 'the Chrome build failed');
  if (firefoxOk) await step('e2e (firefox-esr, core flows)', firefoxE2e);
  else skip('e2e (firefox-esr, core flows)', 'the Firefox build failed');
  if (process.env.CLAWKEEP_SKIP_OPENCLAW === '1') {
    banner('openclaw (real gateway)');
    console.log('[test] not run: CLAWKEEP_SKIP_OPENCLAW=1');
    suites.push({
      name: 'openclaw (real gateway)',
      passed: 0,
      failed: 0,
      skipped: 1,
      note: 'CLAWKEEP_SKIP_OPENCLAW=1',
      seconds: 0,
    });
  } else if (chromeOk) await step('openclaw (real gateway)', openclaw);
  else skip('openclaw (real gateway)', 'the Chrome build failed');

  rmSync(tmp, { recursive: true, force: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  banner('summary');
  const width = Math.max(...suites.map((s) => s.name.length));
  for (const s of suites) {
    total.passed += s.passed;
    total.failed += s.failed;
    total.skipped += s.skipped;
    const mark = s.failed ? 'FAIL' : 'ok  ';
    const counts = `${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`;
    console.log(
      `${mark} ${s.name.padEnd(width)}  ${counts}  ${s.seconds.toFixed(1)} s${s.note ? `  (${s.note})` : ''}`,
    );
  }
  const failures = suites.flatMap((s) => (s.failures ?? []).map((f) => `${s.name}: ${f}`));
  if (failures.length) {
    console.log('failed tests:');
    for (const f of failures.slice(0, 20)) console.log(`  ${f}`);
    if (failures.length > 20) console.log(`  … and ${failures.length - 20} more`);
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  process.exit(total.failed === 0 ? 0 : 1);
}

await main();
