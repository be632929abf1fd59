// Signed POST /v1/intents per second on the real hub (the `clawkeep hub` CLI, SQLite with its normal durability and
// PostgreSQL), against a bare Hono endpoint (same framework, same adapter, bench/lib/bare-server.mjs) driven by the
// same keep-alive client at the same concurrency, in the same run (issue 17 goal 2). Prints rates, create latency
// p50/p95 and the hub's CPU per intent; never asserts on them.
//
// - Headline: 8 concurrent clients (issue 17: "≥ 0.25 × the bare Hono endpoint on SQLite").
// - Curve: 10 / 100 / 1,000 agents, each a client with its own connection sending its next intent as soon as the
//   previous one is answered (closed loop), on each store.
// Every request is a real agent request: claimed agents (provisioned through the hub's routes by
// bench/lib/load-provision.mjs, as the load harness does), each intent signed with the agent's key
// (lib/protocol/request-signing.ts, the bytes the SDK sends). The hub's per-installation budget is 20 creations at
// once, refilled slowly (hub/routes/intents.ts), so a client draws its requests from a queue that spreads them over
// 1,000 installations, at most 18 each per run; the hub is restarted (and PostgreSQL's shared buckets emptied)
// before every run, as an operator's restart would, so each run starts with full budgets. Requests are signed right
// before their run (the hub's ±60 s window bounds a run to 40 s).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { post } from './lib/http.mjs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startBareServer, startFloorServer } from './lib/hub.mjs';
import { createDatabase, HubInstance, postgresCpuSeconds, postmasterPid, procCpuSeconds } from './lib/load-hubs.mjs';
import { loadLib, provision, resetLimits } from './lib/load-provision.mjs';
import { summarizeCpuProfiles } from './lib/load-check.mjs';
import { newWireStats } from './lib/load-net.mjs';
import { percentile, wallMs } from './lib/stats.mjs';
import { importTs } from './lib/ts.mjs';

const PER_INSTALLATION = 18; // of the 20-creation burst per installation (hub/routes/intents.ts), 2 spare
const INSTALLATIONS = Number(process.env.BENCH_THROUGHPUT_INSTALLATIONS ?? 1000);
const DEVICES = 25; // claims are limited per account per start: 25 accounts claim 250 agents per round

/** K clients share one queue of pre-signed requests; each sends the next as soon as its previous answer is read. */
async function drive({ url, requests, concurrency, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = {};
  const latencies = [];
  let next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const client = async () => {
    while (next < requests.length && performance.now() < end) {
      const r = requests[next++];
      const t = performance.now();
      const status = await post(agent, url, r.headers, r.body);
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  const ok = (statuses[201] ?? 0) + (statuses[200] ?? 0);
  return {
    sent: next,
    elapsedMs,
    exhausted: next >= requests.length,
    statuses,
    ok,
    perSecond: ok / (elapsedMs / 1000),
    p50: latencies.length ? percentile(latencies, 50) : null,
    p95: latencies.length ? percentile(latencies, 95) : null,
  };
}

/** Round-robin over the installations, so none runs ahead of its budget; signed now (valid for ±60 s). */
function signIntents({ agents, publicOrigin, signing, run }) {
  const requests = [];
  for (let n = 0; n < PER_INSTALLATION; n++) {
    for (const a of agents) {
      const body = JSON.stringify({
        kind: 'action.approve',
        payload: { summary: `bench intent ${run}.${n}`, risk: 'low' },
        idempotency_key: `ik_${run}_${n}_${a.agentId}`,
        // What the SDK sends (lib/agent/client.ts createIntent): 16 random bytes, base64url.
        agent_nonce: randomBytes(16).toString('base64url'),
      });
      const signed = signing.signRequest({
        role: 'agent',
        keyId: a.agentId,
        privateKey: a.signingPrivate,
        method: 'POST',
        path: '/v1/intents',
        body: signing.utf8Encode(body),
        hub: publicOrigin,
      });
      requests.push({ headers: { 'content-type': 'application/json', accept: 'application/json', ...signed }, body });
    }
  }
  return requests;
}

/** One store: provision once, then a fresh hub process (full budgets) per concurrency level. */
async function benchStore({ engine, cluster, lib, signing, levels, seconds, cpuProf, say }) {
  const work = mkdtempSync(path.join(tmpdir(), 'clawkeep-throughput-'));
  const dataDir = path.join(work, 'hub');
  const store = engine === 'sqlite' ? `sqlite:${dataDir}` : await createDatabase(cluster.url, 'throughput');
  const storeLocation = lib.parseStoreLocation(store, dataDir);
  const hub = new HubInstance({ name: engine, dataDir, store, logFile: path.join(work, 'hub.log') });
  const postmaster = engine === 'postgres' ? postmasterPid(cluster.port) : null;
  try {
    await hub.start();
    const publicOrigin = `http://127.0.0.1:${hub.port}`;
    say(`${engine}: provisioning ${INSTALLATIONS} claimed agents …`);
    const prov = await provision({
      lib,
      hub,
      storeLocation,
      devices: DEVICES,
      agents: INSTALLATIONS,
      publicOrigin,
      stats: newWireStats(),
      say,
    });
    const agents = prov.agents.map((a) => ({
      agentId: a.state.agent_id,
      signingPrivate: signing.fromBase64Url(a.state.signing_private),
    }));
    const runs = [];
    // BENCH_THROUGHPUT_CPUPROF_DIR keeps the raw .cpuprofile files (for DevTools) instead of the run's temp dir.
    const cpuProfDir = cpuProf
      ? path.join(process.env.BENCH_THROUGHPUT_CPUPROF_DIR ?? work, `cpuprof-${engine}`)
      : undefined;
    hub.cpuProfDir = cpuProfDir; // the timed processes only, not provisioning
    for (const concurrency of levels) {
      await hub.restart();
      await resetLimits(storeLocation);
      const requests = signIntents({ agents, publicOrigin, signing, run: runs.length });
      // Warm-up, not timed: JIT, page cache, sockets.
      const warm = Math.min(2000, Math.floor(requests.length * 0.1));
      await drive({ url: `${publicOrigin}/v1/intents`, requests: requests.slice(0, warm), concurrency, seconds: 30 });
      const cpu0 = procCpuSeconds(hub.pid);
      const pg0 = postgresCpuSeconds(postmaster);
      const from = wallMs();
      const r = await drive({
        url: `${publicOrigin}/v1/intents`,
        requests: requests.slice(warm),
        concurrency,
        seconds,
      });
      r.window = { from, to: wallMs() };
      const hubCpu = procCpuSeconds(hub.pid) - cpu0;
      const pgCpu = postmaster ? postgresCpuSeconds(postmaster) - pg0 : null;
      r.concurrency = concurrency;
      r.hubCpuMsPerIntent = r.ok ? (hubCpu * 1000) / r.ok : null;
      r.postgresCpuMsPerIntent = pgCpu !== null && r.ok ? (pgCpu * 1000) / r.ok : null;
      runs.push(r);
      say(
        `${engine}, ${concurrency} concurrent: ${r.perSecond.toFixed(0)} intents/s, p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, statuses ${JSON.stringify(r.statuses)}`,
      );
    }
    await hub.stop(); // a profile is written when its process exits
    if (cpuProfDir)
      for (const r of runs)
        r.cpuProfile = summarizeCpuProfiles(cpuProfDir, { ...r.window, spawnedAt: hub.spawnedAt }, 25);
    return { engine, provisionMs: prov.ms, runs };
  } finally {
    await hub.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function benchBare(levels, seconds) {
  const bare = await startBareServer();
  try {
    const body = JSON.stringify({
      kind: 'action.approve',
      payload: { summary: 'bench intent 0', risk: 'low' },
      idempotency_key: 'ik_bench',
    });
    const reqs = (n) =>
      Array.from({ length: n }, () => ({
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
      }));
    const out = {};
    for (const concurrency of levels) {
      await drive({ url: `${bare.url}/v1/intents`, requests: reqs(2000), concurrency, seconds: 1 }); // warm-up
      out[concurrency] = await drive({
        url: `${bare.url}/v1/intents`,
        requests: reqs(2_000_000),
        concurrency,
        seconds,
      });
    }
    return out;
  } finally {
    await bare.stop();
  }
}

/**
 * The floor endpoint (bench/lib/floor-server.mjs: signature, nonce, intent and audit rows, group commit, nothing
 * else) driven exactly as the hub: what a durable signed intent costs on this machine with no hub around it, so the
 * hub's ratio can be read against what is reachable at all. Its own agents: the keys are all it needs.
 */
async function benchFloor(levels, seconds, signing) {
  const floor = await startFloorServer();
  try {
    const agents = Array.from({ length: INSTALLATIONS }, (_, i) => {
      const signingPrivate = new Uint8Array(randomBytes(32));
      return { agentId: `agt_floor${i}`, signingPrivate, publicKey: ed25519.getPublicKey(signingPrivate) };
    });
    await new Promise((resolve) => {
      floor.child.once('message', resolve);
      floor.child.send({
        keys: Object.fromEntries(agents.map((a) => [a.agentId, Buffer.from(a.publicKey).toString('base64url')])),
      });
    });
    const out = {};
    for (const concurrency of levels) {
      const requests = signIntents({ agents, publicOrigin: floor.url, signing, run: `floor${concurrency}` });
      await drive({ url: `${floor.url}/v1/intents`, requests: requests.slice(0, 500), concurrency, seconds: 1 });
      out[concurrency] = await drive({
        url: `${floor.url}/v1/intents`,
        requests: requests.slice(500),
        concurrency,
        seconds,
      });
    }
    return out;
  } finally {
    await floor.stop();
  }
}

export const HEADLINE_CONCURRENCY = 8;
export const AGENT_LEVELS = [10, 100, 1000];

export async function benchHubThroughput({
  seconds = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 5),
  engines = (process.env.BENCH_THROUGHPUT_STORES ?? 'sqlite,postgres').split(','),
  cpuProf = process.env.BENCH_THROUGHPUT_CPUPROF === '1',
  say = (line) => console.log(line),
} = {}) {
  if (!(seconds > 0 && seconds <= 40))
    throw new Error('BENCH_THROUGHPUT_SECONDS must be in (0, 40]: pre-signed requests expire after 60 s');
  const levels = (process.env.BENCH_THROUGHPUT_LEVELS ?? [HEADLINE_CONCURRENCY, ...AGENT_LEVELS].join(','))
    .split(',')
    .map(Number);
  const [{ startPostgresCluster }] = engines.includes('postgres')
    ? await importTs('test/support/postgres-cluster.ts')
    : [{}];
  const [requestSigning, bytes, base64url, ed25519Node] = await importTs(
    'lib/protocol/request-signing.ts',
    'lib/bytes.ts',
    'lib/protocol/base64url.ts',
    'hub/ed25519-node.ts',
  );
  ed25519Node.useNodeEd25519(); // pre-signing 18,000 requests with OpenSSL instead of noble: same bytes
  const signing = {
    signRequest: requestSigning.signRequest,
    utf8Encode: bytes.utf8Encode,
    fromBase64Url: base64url.fromBase64Url,
  };
  const lib = await loadLib();

  const bare = await benchBare(levels, seconds);
  const floor = await benchFloor(levels, seconds, signing);
  for (const c of levels) floor[c].ratioToBare = floor[c].perSecond / bare[c].perSecond;
  const stores = [];
  let cluster = null;
  try {
    for (const engine of engines) {
      if (engine === 'postgres' && !cluster) cluster = await startPostgresCluster();
      stores.push(await benchStore({ engine, cluster, lib, signing, levels, seconds, cpuProf, say }));
    }
  } finally {
    await cluster?.stop();
  }
  for (const s of stores)
    for (const r of s.runs) {
      r.ratioToBare = r.perSecond / bare[r.concurrency].perSecond;
      r.ratioToFloor = r.perSecond / floor[r.concurrency].perSecond;
    }
  return { seconds, installations: INSTALLATIONS, headline: HEADLINE_CONCURRENCY, levels, bare, floor, stores };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchHubThroughput();
  if (process.env.BENCH_THROUGHPUT_JSON)
    (await import('node:fs')).writeFileSync(process.env.BENCH_THROUGHPUT_JSON, JSON.stringify(r, null, 2));
  for (const c of r.levels)
    console.log(
      `floor ${c} concurrent: ${r.floor[c].perSecond.toFixed(0)}/s vs bare ${r.bare[c].perSecond.toFixed(0)}/s = ${r.floor[c].ratioToBare.toFixed(3)}; statuses ${JSON.stringify(r.floor[c].statuses)}`,
    );
  for (const s of r.stores)
    for (const x of s.runs)
      console.log(
        `${s.engine} ${x.concurrency} concurrent: ${x.perSecond.toFixed(0)}/s vs bare ${r.bare[x.concurrency].perSecond.toFixed(0)}/s = ${x.ratioToBare.toFixed(3)} (${x.ratioToFloor.toFixed(2)} x floor); p50 ${x.p50?.toFixed(1)} p95 ${x.p95?.toFixed(1)} ms; hub CPU ${x.hubCpuMsPerIntent?.toFixed(2)} ms/intent${x.postgresCpuMsPerIntent === null ? '' : `, PostgreSQL ${x.postgresCpuMsPerIntent.toFixed(2)} ms/intent`}`,
      );
}
