#!/usr/bin/env node
// `npm run fuzz`: 100,000 seeded random mutations of the real fixture quotes and collateral through the real
// verifier (lib/attest, run through tsx like bin/clawkeep.mjs), split over worker threads. The mutation engine is
// test/unit/attest/fuzz-mutations.ts, shared with the unit test. A harness, not a test: it prints what it found
// and exits 1 if any call threw, any mutated signed region verified, or any single call took over 1 s.
//
//   npm run fuzz                          100,000 cases, random seed (printed)
//   npm run fuzz -- --cases 5000 --seed 7 replay / shorter run
//   --threads N                           default: available cores, at most 4
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const HANG_BOUND_MS = 1000;
const ENGINE = new URL('../test/unit/attest/fuzz-mutations.ts', import.meta.url).href;

async function loadEngine() {
  const { register } = await import('tsx/esm/api');
  const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  register({ tsconfig: existsSync(new URL('../.wxt/tsconfig.json', import.meta.url)) ? tsconfig : false });
  return import(ENGINE);
}

if (!isMainThread) {
  // Worker: run one index range and report its stats.
  const { seed, start, count } = workerData;
  const engine = await loadEngine();
  const bases = engine.loadFuzzBases();
  const stats = await engine.runFuzz({
    bases,
    seed,
    start,
    count,
    onProgress: (done) => parentPort.postMessage({ progress: done }),
  });
  parentPort.postMessage({ stats });
} else {
  const { values } = parseArgs({
    options: { cases: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' } },
    strict: true,
  });
  const total = Number(values.cases ?? 100_000);
  const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  const threads = Math.max(
    1,
    Math.min(Number(values.threads ?? Math.min(4, os.availableParallelism?.() ?? os.cpus().length)), total),
  );
  if (!Number.isInteger(total) || total < 1) {
    console.error('--cases must be a positive integer');
    process.exit(2);
  }

  console.log(`fuzz: ${total} cases, seed ${seed}, ${threads} worker thread(s)`);
  const t0 = performance.now();
  const per = Math.ceil(total / threads);
  const done = new Array(threads).fill(0);
  let lastPrint = 0;
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, i) => {
      const start = i * per;
      const count = Math.max(0, Math.min(per, total - start));
      return new Promise((resolve, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { seed, start, count } });
        worker.on('message', (msg) => {
          if (msg.progress !== undefined) {
            done[i] = msg.progress;
            const sum = done.reduce((a, b) => a + b, 0);
            if (sum - lastPrint >= 10_000) {
              lastPrint = sum;
              console.log(`  ${sum} / ${total} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
            }
          } else resolve(msg.stats);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => code !== 0 && reject(new Error(`worker ${i} exited ${code}`)));
      });
    }),
  );
  const { mergeStats } = await loadEngine();
  const s = mergeStats(parts);
  const wall = (performance.now() - t0) / 1000;

  const rejections = Object.entries(s.rejectedByCode).sort((a, b) => b[1] - a[1]);
  console.log(`\ncases                         ${s.cases}`);
  console.log(`seed                          ${seed}`);
  console.log(`wall time                     ${wall.toFixed(1)} s (${threads} threads)`);
  console.log(`exceptions                    ${s.exceptions}`);
  console.log(`verified with mutated signed  ${s.verifiedOnMutation}`);
  console.log(`verified (all)                ${s.verified} (unsigned edits: zero padding, PEM text, ...)`);
  console.log(`slowest single call           ${s.slowest.ms.toFixed(1)} ms: ${s.slowest.what}`);
  console.log(`rejections by code           ${rejections.map(([k, v]) => `\n  ${k.padEnd(30)}${v}`).join('')}`);
  for (const f of s.findings) console.log(`FINDING ${f}`);

  const failures = [];
  if (s.cases !== total) failures.push(`ran ${s.cases} of ${total} cases`);
  if (s.exceptions) failures.push(`${s.exceptions} call(s) threw`);
  if (s.verifiedOnMutation) failures.push(`${s.verifiedOnMutation} mutated signed region(s) verified`);
  if (s.slowest.ms > HANG_BOUND_MS) failures.push(`slowest call ${s.slowest.ms.toFixed(0)} ms > ${HANG_BOUND_MS} ms`);
  console.log(
    failures.length
      ? `\nFAIL: ${failures.join('; ')}`
      : '\nOK: no exception, no mutated signed region verified, every call under 1 s',
  );
  process.exit(failures.length ? 1 : 0);
}
