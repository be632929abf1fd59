#!/usr/bin/env node
// `npm run bench`: performance numbers, each a ratio against a reference measured in the same run.
// Never part of `npm test`, never asserts on timings. Exits non-zero only if a benchmark could not run or a
// correctness cross-check inside it failed (e.g. Argon2id outputs differ), so that is not hidden.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, bin, ensureChromium, ensureDeps, run } from './lib/ensure.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const rows = []; // { bench, value, reference, ratio, note }
const results = {};
let problems = 0;

const fmtMs = (ms) => `${ms.toFixed(0)} ms`;
const fmtBytes = (b) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

async function section(name, fn) {
  console.log(`\n━━ ${name}`);
  try {
    await fn();
  } catch (err) {
    problems++;
    console.error(`[bench] ${name} could not run: ${err instanceof Error ? err.message : err}`);
    rows.push({ bench: name, value: 'n/a', reference: 'n/a', ratio: 'n/a', note: 'did not run (see above)' });
  }
}

await ensureDeps();
const chromiumPath = await ensureChromium();

await section('build chrome-mv3', async () => {
  const { code } = await run(bin('wxt'), ['build']);
  if (code !== 0) throw new Error(`wxt build failed (exit ${code})`);
});

// (a) Argon2id, default vault parameters: the shipped KDF worker in Chromium on its parallel path (extension page,
// cross-origin isolated) and its single path (a page without isolation) vs the reference C CLI, measured in this run.
await section('Argon2id m=64MiB t=3 p=4', async () => {
  const { benchArgon2 } = await import('../bench/argon2.mjs');
  const r = await benchArgon2({ extensionDir: path.join(ROOT, '.output', 'chrome-mv3'), chromiumPath, runs: RUNS });
  results.argon2id = r;
  console.log(`native argon2 CLI median ${fmtMs(r.nativeMs)} (${r.runs} runs)`);
  for (const [name, s] of [
    ['extension page (isolated)', r.parallel],
    ['page without isolation', r.single],
  ]) {
    // Derived bytes are never printed, even from the public bench passphrase: only whether they equal the CLI's.
    console.log(
      `${name}: path ${s.paths.join('+')}, median ${fmtMs(s.ms)} (first call ${fmtMs(s.coldMs)} on the ${s.coldPath} path); ratio ${s.ratio.toFixed(2)}x native; outputs ${s.identical ? 'byte-identical to the CLI' : 'DIFFER from the CLI'}`,
    );
    if (!s.identical) problems++;
    rows.push({
      bench: `Argon2id 64MiB/t3/p4 ${s.paths.join('+')} path, median of ${r.runs}`,
      value: `${fmtMs(s.ms)} Chromium KDF worker`,
      reference: `${fmtMs(r.nativeMs)} argon2 CLI`,
      ratio: `${s.ratio.toFixed(2)}x`,
      note: s.identical ? `identical output; cold ${fmtMs(s.coldMs)} (${s.coldPath}); ${name}` : 'OUTPUTS DIFFER',
    });
  }
  if (!r.parallel.paths.includes('parallel')) {
    problems++;
    console.error('[bench] the extension page did not take the parallel path');
  }
});

// (b) Zip sizes for the stores vs the unpacked builds.
await section('zip sizes', async () => {
  const { benchZipSizes } = await import('../bench/zip-size.mjs');
  const zips = await benchZipSizes({ root: ROOT, run, wxt: bin('wxt') });
  results.zips = zips;
  for (const z of zips) {
    console.log(`${z.zip}: ${z.zipBytes} bytes zipped, ${z.unpackedBytes} bytes unpacked, ratio ${z.ratio.toFixed(3)}`);
    rows.push({
      bench: `zip ${z.target}`,
      value: fmtBytes(z.zipBytes),
      reference: `${fmtBytes(z.unpackedBytes)} unpacked`,
      ratio: z.ratio.toFixed(3),
      note: z.zip,
    });
  }
});

// (c) Unlock and list a vault of 1,000 / 10,000 / 50,000 items (Argon2id default KDF) in the extension: API path vs
// the issue-17 budget (KDF + 1.5 x a raw IndexedDB getAll of the same records, same run), per-item cost across the
// sizes (flat = the list scales linearly), and the UI's first screen of items after the key is derived.
await section('unlock + list a large vault (1k / 10k / 50k items)', async () => {
  const { benchVaultList, FIRST_SCREEN_BUDGET_MS } = await import('../bench/vault-10k.mjs');
  const r = await benchVaultList({ extensionDir: path.join(ROOT, '.output', 'chrome-mv3'), chromiumPath, runs: RUNS });
  results.vaultList = r;
  for (const im of r.imports)
    console.log(
      `imported ${im.items} items (${fmtBytes(im.backupBytes)} of backup files) through the Backup tab in ${fmtMs(im.importMs)}`,
    );
  const us = (x) => `${x.toFixed(1)} µs`;
  for (const c of r.curve) {
    const n = c.items.toLocaleString('en-US');
    console.log(
      `${n} items: API unlock+list median ${fmtMs(c.apiMs)} (derive ${fmtMs(c.deriveMs)}, unlock RPC ${fmtMs(c.unlockMs)}, list RPC ${fmtMs(c.listMs)})`,
    );
    console.log(
      `  vs KDF ${fmtMs(c.kdfMs)} + 1.5 x raw IndexedDB getAll ${fmtMs(c.rawReadMs)} = ${fmtMs(c.apiBudgetMs)}: ${c.apiVsBudget.toFixed(2)}x (goal <= 1)`,
    );
    console.log(
      `  list ${us(c.listUsPerItem)} per item (getAll ${us(c.rawReadUsPerItem)} per item; ${c.listUsPerItemVsSmallest.toFixed(2)}x the ${r.curve[0].items}-item cost)`,
    );
    console.log(
      `  UI: key derived ${fmtMs(c.uiKeyMs)} after Enter; first screen painted ${fmtMs(c.uiFirstMs)} after the key (max ${fmtMs(c.uiFirstMaxMs)}; budget ${FIRST_SCREEN_BUDGET_MS} ms: ${c.uiFirstVsBudget.toFixed(2)}x); whole list in place ${fmtMs(c.uiFullMs)} after Enter`,
    );
    const runs = `median of ${r.runs}`;
    rows.push(
      {
        bench: `unlock + list ${n} items, API, ${runs}`,
        value: fmtMs(c.apiMs),
        reference: `${fmtMs(c.apiBudgetMs)} KDF + 1.5 x getAll`,
        ratio: `${c.apiVsBudget.toFixed(2)}x`,
        note: `issue 17: <= 1; KDF ${fmtMs(c.kdfMs)}, getAll ${fmtMs(c.rawReadMs)}`,
      },
      {
        bench: `list ${n} items, per item`,
        value: us(c.listUsPerItem),
        reference: `${us(r.curve[0].listUsPerItem)} at ${r.curve[0].items}`,
        ratio: `${c.listUsPerItemVsSmallest.toFixed(2)}x`,
        note: `flat = linear; getAll ${us(c.rawReadUsPerItem)}/item`,
      },
      {
        bench: `first screen after key, ${n} items, UI, ${runs}`,
        value: fmtMs(c.uiFirstMs),
        reference: `${FIRST_SCREEN_BUDGET_MS} ms budget`,
        ratio: `${c.uiFirstVsBudget.toFixed(2)}x`,
        note: `whole list ${fmtMs(c.uiFullMs)} after Enter`,
      },
    );
  }
});

// (d) Approvals on loopback: a real hub child, the built extension's popup, an SDK agent in this process.
await section('approvals: agent -> popup -> agent', async () => {
  const { benchApprovalsLatency } = await import('../bench/approvals-latency.mjs');
  const r = await benchApprovalsLatency({ extensionDir: path.join(ROOT, '.output', 'chrome-mv3'), chromiumPath });
  results.approvalsLatency = r;
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(
    `${r.n} action.approve intents over ${r.agents} claimed agent(s); page vs Node clock offset ${ms(r.clock.offsetMs)} (within ±${ms(r.clock.boundMs)})`,
  );
  console.log(
    `created -> shown in popup: p50 ${ms(r.shownP50)}, p95 ${ms(r.shownP95)}; agent POST /v1/intents round trip p50 ${ms(r.createP50)}`,
  );
  console.log(
    `Approve click -> agent sees approved (SDK waitForDecision: held long poll, answered on the decision): p50 ${ms(r.seenP50)}, p95 ${ms(r.seenP95)}; agent GET /v1/intents/:id p50 ${ms(r.getP50)}`,
  );
  console.log(`  p95 / GET round trip ${r.seenP95Ratio.toFixed(2)}x (issue 17 goal 4: <= 2x)`);
  const split = r.split;
  if (split) {
    const part = (x) =>
      `p50 ${ms(x.p50)} (${x.p50Ratio.toFixed(2)}x GET), p95 ${ms(x.p95)} (${x.p95Ratio.toFixed(2)}x GET)`;
    console.log(`  split at the hub's access log (${split.n} approvals):`);
    console.log(`    click -> the decision reaches the hub's route (popup, background, fetch): ${part(split.toHub)}`);
    console.log(`    the hub's decision route (signature, nonce, checks, durable commit):    ${part(split.route)}`);
    console.log(`    route end -> the agent has it (the held poll's answer):                  ${part(split.toAgent)}`);
  }
  const of = `of ${r.n}`;
  rows.push(
    {
      bench: `approval created -> shown, p50 ${of}`,
      value: ms(r.shownP50),
      reference: `${ms(r.createP50)} POST /v1/intents p50`,
      ratio: `${r.shownP50Ratio.toFixed(2)}x`,
      note: 'hub -> SSE -> background -> popup',
    },
    {
      bench: `approval created -> shown, p95 ${of}`,
      value: ms(r.shownP95),
      reference: `${ms(r.createP50)} POST /v1/intents p50`,
      ratio: `${r.shownP95Ratio.toFixed(2)}x`,
      note: '',
    },
    {
      bench: `Approve click -> agent sees it, p50 ${of}`,
      value: ms(r.seenP50),
      reference: `${ms(r.getP50)} GET /v1/intents/:id p50`,
      ratio: `${r.seenP50Ratio.toFixed(2)}x`,
      note: 'held long poll (SDK default)',
    },
    {
      bench: `Approve click -> agent sees it, p95 ${of}`,
      value: ms(r.seenP95),
      reference: `${ms(r.getP50)} GET /v1/intents/:id p50`,
      ratio: `${r.seenP95Ratio.toFixed(2)}x`,
      note: 'issue 17: <= 2x',
    },
  );
  if (r.split)
    rows.push({
      bench: `  of which click -> the hub's route, p95 ${of}`,
      value: ms(r.split.toHub.p95),
      reference: `${ms(r.getP50)} GET /v1/intents/:id p50`,
      ratio: `${r.split.toHub.p95Ratio.toFixed(2)}x`,
      note: 'the browser alone (hub access log)',
    });
});

// (e) Signed intents per second the hub sustains vs a bare Hono endpoint, same client, same concurrency, same run;
// the headline at 8 clients, and the curve at 10 / 100 / 1,000 agents on SQLite and PostgreSQL (issue 17 goal 2).
await section('hub throughput: POST /v1/intents', async () => {
  const { benchHubThroughput } = await import('../bench/hub-throughput.mjs');
  const r = await benchHubThroughput();
  results.hubThroughput = r;
  const ms = (x) => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
  console.log(`closed-loop clients, ${r.seconds} s per run, requests spread over ${r.installations} claimed agents`);
  for (const c of r.levels)
    console.log(
      `bare Hono endpoint, ${c} concurrent: ${r.bare[c].perSecond.toFixed(0)} req/s, p50 ${ms(r.bare[c].p50)}, p95 ${ms(r.bare[c].p95)}`,
    );
  for (const c of r.levels) {
    console.log(
      `floor endpoint (signature, nonce, intent + audit rows, group commit; nothing else), ${c} concurrent: ${r.floor[c].perSecond.toFixed(0)} intents/s (${r.floor[c].ratioToBare.toFixed(3)} x bare)`,
    );
    rows.push({
      bench: `durable signed intent floor, SQLite, ${c} ${c === r.headline ? 'clients' : 'agents'}`,
      value: `${r.floor[c].perSecond.toFixed(0)} intents/s`,
      reference: `${r.bare[c].perSecond.toFixed(0)} req/s bare Hono`,
      ratio: r.floor[c].ratioToBare.toFixed(3),
      note: 'what is reachable at all (bench/lib/floor-server.mjs)',
    });
  }
  for (const s of r.stores) {
    for (const x of s.runs) {
      const pgCpu = x.postgresCpuMsPerIntent === null ? '' : `, PostgreSQL ${x.postgresCpuMsPerIntent.toFixed(2)} ms`;
      console.log(
        `${s.engine}, ${x.concurrency} concurrent: ${x.perSecond.toFixed(0)} intents/s (${x.ratioToBare.toFixed(3)} x bare), create p50 ${ms(x.p50)}, p95 ${ms(x.p95)}; CPU per intent: hub ${x.hubCpuMsPerIntent?.toFixed(2)} ms${pgCpu}; statuses ${JSON.stringify(x.statuses)}${x.exhausted ? ' (requests used up before the duration)' : ''}`,
      );
      rows.push({
        bench: `hub POST /v1/intents ${s.engine}, ${x.concurrency} ${x.concurrency === r.headline ? 'clients' : 'agents'}`,
        value: `${x.perSecond.toFixed(0)} intents/s`,
        reference: `${r.bare[x.concurrency].perSecond.toFixed(0)} req/s bare Hono`,
        ratio: x.ratioToBare.toFixed(3),
        note: `${x.ratioToFloor.toFixed(2)} x the floor; p50 ${ms(x.p50)} p95 ${ms(x.p95)}${s.engine === 'sqlite' && x.concurrency === r.headline ? '; issue 17: >= 0.25' : ''}`,
      });
    }
  }
});

// (g) Signed requests while a local process floods the hub (issue 16 must-show 5) vs the same requests without it.
await section('hub under a local flood', async () => {
  const { benchHubAbuse } = await import('../bench/hub-abuse.mjs');
  const r = await benchHubAbuse();
  results.hubAbuse = r;
  const ms = (x) => `${x.toFixed(1)} ms`;
  const mb = (b) => (b === null ? 'n/a' : `${(b / 1024 / 1024).toFixed(1)} MB`);
  console.log(
    `${r.quiet.n} signed requests, quiet hub: p50 ${ms(r.quiet.p50)}, p95 ${ms(r.quiet.p95)}, max ${ms(r.quiet.max)}, ${r.quiet.failed} failed`,
  );
  console.log(
    `${r.flooded.n} signed requests under 1,000 half-open sockets + 250 unfinished uploads: p50 ${ms(r.flooded.p50)}, p95 ${ms(r.flooded.p95)}, max ${ms(r.flooded.max)}, ${r.flooded.failed} failed`,
  );
  console.log(`p95 ratio flooded / quiet ${r.ratio.toFixed(2)}x (issue 16 target: flooded p95 ≤ 1000 ms)`);
  console.log(`hub RSS before the flood ${mb(r.rss.before)}, peak ${mb(r.rss.peak)}, after ${mb(r.rss.after)}`);
  for (const [name, s] of Object.entries(r.flood)) console.log(`  ${name}: ${JSON.stringify(s)}`);
  if (r.quiet.failed || r.flooded.failed) problems++;
  rows.push({
    bench: `signed request p95 under flood, ${r.flooded.n} requests`,
    value: ms(r.flooded.p95),
    reference: `${ms(r.quiet.p95)} quiet hub`,
    ratio: `${r.ratio.toFixed(2)}x`,
    note: `RSS +${mb(r.rss.before === null ? null : r.rss.peak - r.rss.before)}; ${r.flooded.failed} failed`,
  });
});

// (h) Load and faults (issue 16 must-show 4): N agents × I hub instances × SQLite/PostgreSQL, the devices approving,
// invariants checked; intents/s and p95s as ratios between runs of this same invocation. Long (about 20 minutes at
// the defaults); BENCH_LOAD=0 skips it, the BENCH_LOAD_* knobs in bench/hub-load.mjs shorten it.
if (process.env.BENCH_LOAD !== '0')
  await section('hub under load (agents × instances × stores)', async () => {
    const { benchHubLoad, reportLines } = await import('../bench/hub-load.mjs');
    const r = await benchHubLoad();
    results.hubLoad = r;
    for (const l of reportLines(r)) console.log(l);
    const x = (v) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}x`);
    const ms = (v) => (v === undefined ? 'n/a' : `${v.toFixed(0)} ms`);
    for (const run of r.runs) {
      if (run.violations.length) {
        problems++;
        console.error(`[bench] ${run.label}: invariants VIOLATED: ${run.violations.join('; ')}`);
      }
    }
    const lo = Math.min(...r.options.agentCounts);
    const hi = Math.max(...r.options.agentCounts);
    for (const c of r.options.configs) {
      const find = (n) =>
        r.runs.find((q) => !q.kills && q.engine === c.engine && q.instances === c.instances && q.agents === n);
      const a = find(lo);
      const b = find(hi);
      if (!a || !b || a === b) continue;
      const held = (q) => (q.violations.length ? 'INVARIANTS VIOLATED' : 'invariants held');
      rows.push(
        {
          bench: `hub load ${c.engine} x${c.instances}, intents/s ${hi} vs ${lo} agents`,
          value: `${b.intentsPerSecond.toFixed(1)} /s`,
          reference: `${a.intentsPerSecond.toFixed(1)} /s at ${lo}`,
          ratio: x(b.intentsPerSecond / a.intentsPerSecond),
          note: `issue 16: >= 0.8; ${held(b)}`,
        },
        {
          bench: `hub load ${c.engine} x${c.instances}, executed/s ${hi} vs ${lo} agents`,
          value: `${b.executesPerSecond.toFixed(1)} /s`,
          reference: `${a.executesPerSecond.toFixed(1)} /s at ${lo}`,
          ratio: x(b.executesPerSecond / a.executesPerSecond),
          note: 'issue 16: >= 0.8 (creates alone flatter a backlog)',
        },
        {
          bench: `hub load ${c.engine} x${c.instances}, approve->agent p95`,
          value: ms(b.approveToSeenMs.p95),
          reference: `${ms(a.approveToSeenMs.p95)} at ${lo}`,
          ratio: x(b.approveToSeenMs.p95 / a.approveToSeenMs.p95),
          note: `issue 16: <= 1000 ms at ${hi}; create p95 ${ms(b.createMs.p95)} vs ${ms(a.createMs.p95)}`,
        },
      );
    }
    for (const f of r.runs.filter((q) => q.kills)) {
      const ref = r.runs.find(
        (q) => !q.kills && q.engine === f.engine && q.instances === f.instances && q.agents === f.agents,
      );
      rows.push({
        bench: `hub load ${f.engine} x${f.instances}, ${f.agents} agents, ${f.kills} SIGKILLs`,
        value: `${f.intentsPerSecond.toFixed(1)} /s`,
        reference: ref ? `${ref.intentsPerSecond.toFixed(1)} /s without` : 'n/a',
        ratio: ref ? x(f.intentsPerSecond / ref.intentsPerSecond) : 'n/a',
        note: f.violations.length ? `VIOLATED: ${f.violations.join('; ')}` : 'invariants held, audit verifies',
      });
    }
    if (r.crossInstance) {
      const c = r.crossInstance;
      rows.push({
        bench: `event create->stream p95, other instance (${c.intents})`,
        value: ms(c.crossInstance.p95),
        reference: `${ms(c.sameInstance.p95)} same instance`,
        ratio: x(c.ratio),
        note: 'PostgreSQL LISTEN/NOTIFY; issue 16: <= 200 ms',
      });
    }
  });

// (f) TDX quote verification (case tdx-v4-uptodate): ours in Node and in a Chromium worker vs @phala/dcap-qvl 0.3.9
// (its Node-crypto path, and its pure-JS path: forced in Node and bundled into a Chromium worker), same run.
await section('TDX quote verification', async () => {
  const { benchAttestVerify } = await import('../bench/attest-verify.mjs');
  const r = await benchAttestVerify({ chromiumPath, runs: Number(process.env.BENCH_ATTEST_RUNS ?? 50) });
  results.attestVerify = r;
  const ms = (x) => `${x.toFixed(1)} ms`;
  const x = (v) => `${v.toFixed(2)}x`;
  const { node, browser, ratios } = r;
  console.log(`case ${r.case}, medians of ${r.runs} warm verifications (each side answered UpToDate)`);
  console.log(
    `Node: ours ${ms(node.oursMs)} (first call ${ms(node.oursFirstMs)}); dcap-qvl node path ${ms(node.refNodeMs)}, pure JS ${ms(node.refPureJsMs)}`,
  );
  console.log(
    `  ours/dcap-qvl(node) = ${x(ratios.oursNodeVsRefNode)}; ours/dcap-qvl(pure JS, Node) = ${x(ratios.oursNodeVsRefPureJsNode)}`,
  );
  console.log(
    `Chromium worker: ours ${ms(browser.oursMs)} (first call incl. worker start ${ms(browser.oursColdMs)}); dcap-qvl pure JS ${ms(browser.refPureJsMs)} (first call ${ms(browser.refColdMs)})`,
  );
  console.log(
    `  ours/dcap-qvl(pure JS) = ${x(ratios.oursWorkerVsRefWorker)}; first call ${x(ratios.oursWorkerColdVsRefWorkerCold)}; ours worker/ours Node = ${x(ratios.oursWorkerVsOursNode)}`,
  );
  console.log(
    `worker bundles: ours ${fmtBytes(r.bundleBytes.ours)}, dcap-qvl ${fmtBytes(r.bundleBytes.reference)} (minified)`,
  );
  const runs = `median of ${r.runs}`;
  rows.push(
    {
      bench: `TDX verify, Node, ${runs}`,
      value: `${ms(node.oursMs)} ours`,
      reference: `${ms(node.refNodeMs)} dcap-qvl node path`,
      ratio: x(ratios.oursNodeVsRefNode),
      note: r.case,
    },
    {
      bench: `TDX verify, Node, ${runs}`,
      value: `${ms(node.oursMs)} ours`,
      reference: `${ms(node.refPureJsMs)} dcap-qvl pure JS`,
      ratio: x(ratios.oursNodeVsRefPureJsNode),
      note: 'its browser path, forced in Node',
    },
    {
      bench: `TDX verify, Chromium worker, ${runs}`,
      value: `${ms(browser.oursMs)} ours`,
      reference: `${ms(browser.refPureJsMs)} dcap-qvl pure JS`,
      ratio: x(ratios.oursWorkerVsRefWorker),
      note: 'both as worker bundles, via comlink',
    },
    {
      bench: 'TDX verify, Chromium worker, first call',
      value: `${ms(browser.oursColdMs)} ours`,
      reference: `${ms(browser.refColdMs)} dcap-qvl pure JS`,
      ratio: x(ratios.oursWorkerColdVsRefWorkerCold),
      note: 'incl. worker start + module load',
    },
  );
});

const cols = ['bench', 'value', 'reference', 'ratio', 'note'];
const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (r) =>
  cols
    .map((c, i) => String(r[c]).padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log(
  `\n━━ results\n${line(Object.fromEntries(cols.map((c) => [c, c])))}\n${widths.map((w) => '─'.repeat(w)).join('  ')}`,
);
for (const r of rows) console.log(line(r));

const dir = path.join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify({ date: new Date().toISOString(), node: process.version, results, rows }, null, 2) + '\n',
);
console.log(`\nsaved ${path.relative(ROOT, file)}`);
process.exit(problems ? 1 : 0);
