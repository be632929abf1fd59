// Intents per second the real hub sustains over loopback vs a bare Hono endpoint (same framework, same adapter)
// in the same run, both driven by the same keep-alive client with K concurrent requests for a fixed duration.
// Prints rates only; never asserts on them.
//
// The hub side sends real signed POST /v1/intents from claimed agents. The hub's rate limits would turn a single
// agent's traffic into 429s after 20 intents (per installation: burst 20, 120/h; per account: burst 60, 600/h),
// and 429s are cheap rejections, not intents. So instead of counting those, the bench provisions a budget: A
// accounts (enrollment codes issued through the hub's store, see lib/hub-process.mjs) with 3 claimed agents each
// = 60 intents per account, exactly within both burst limits, and sends them round-robin. The hub rate is
// 201s / elapsed; any 429 is still counted and printed. If the budget runs out before the duration, the run is
// shorter and says so. Setup (enrol, register, claim) is not timed.
//
// Provisioning many agents meets two more limits, registrations (burst 10) and enrolments (burst 5), meant per
// client address but in fact shared by all clients: hub/server.ts calls app.fetch(req) without the node-server
// env, so getConnInfo fails and every request is keyed 'in-process' (reported, not changed here). So setup runs in
// rounds of 3 accounts / 9 agents, restarting the hub child between rounds on the same port and data directory:
// the limiters are in memory and a restart starts them afresh (hub/rate-limit.ts says so). The timed phase runs on
// a freshly restarted hub too.
//
// Request signatures (Ed25519, what the hub verifies) are made before the timed phase, so the load generator only
// does HTTP on both sides; they stay valid for the hub's ±60 s window, which bounds the duration.
import http from 'node:http';
import { fetchFrom, post } from './lib/http.mjs';
import { startBareServer, startHubProcess } from './lib/hub.mjs';
import { importTs } from './lib/ts.mjs';

const AGENTS_PER_ACCOUNT = 3; // 3 × 20 (installation burst) = 60 (account burst)
const INTENTS_PER_AGENT = 20;

/** K workers share one queue of requests; each sends the next one as soon as its previous answer is read. */
async function drive({ url, requests, concurrency, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map();
  let next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async () => {
    while (next < requests.length && performance.now() < end) {
      const r = requests[next++];
      const status = await post(agent, url, r.headers, r.body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  return { sent: next, elapsedMs, exhausted: next >= requests.length, statuses: Object.fromEntries(statuses) };
}

const ACCOUNTS_PER_ROUND = 3; // 3 enrolments (limit 5) and 9 registrations (limit 10) per hub start

async function provisionHub(hub, accounts, lib) {
  const [
    { AgentClient, generateAgentKeys },
    { HubClient },
    { signClaim },
    { deviceKeyId, encodePublicKey },
    { claimCodeHash },
    { ed25519 },
  ] = lib;
  const agents = [];
  for (let a = 0; a < accounts; a++) {
    if (a > 0 && a % ACCOUNTS_PER_ROUND === 0) await hub.restart();
    const fetch = fetchFrom('127.0.0.1'); // a keep-alive pool per account, closed before any restart
    const devicePrivate = ed25519.utils.randomSecretKey();
    const devicePublic = ed25519.getPublicKey(devicePrivate);
    const device = new HubClient({
      hub: hub.url,
      fetch,
      signer: { role: 'human', keyId: deviceKeyId(devicePublic), sign: async (m) => ed25519.sign(m, devicePrivate) },
    });
    await device.enroll(a === 0 ? hub.enrollmentCode : hub.codes[a - 1], devicePublic);
    for (let i = 0; i < AGENTS_PER_ACCOUNT; i++) {
      const keys = generateAgentKeys();
      const client = new AgentClient({ fetch, keys });
      const reg = await client.register({
        hub: hub.url,
        name: `bench-${a}-${i}`,
        manifest: { markdown: '# bench' },
        requestedScopes: ['action:action.approve'],
      });
      const pub = client.publicKeys;
      // What the extension signs when a human claims (lib/ext/hub/hub-service.ts claim), with the default policy.
      await device.claim(
        signClaim(devicePrivate, {
          hub: hub.url,
          agent_id: reg.agent_id,
          agent_signing_key: pub.signing_key,
          agent_box_key: pub.box_key,
          claim_code_hash: claimCodeHash(reg.claim_code),
          granted_scopes: ['action:action.approve'],
          policy: {
            approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
            daily_limit: null,
          },
          installation_id: `ins_${Buffer.from(ed25519.utils.randomSecretKey().subarray(0, 16)).toString('base64url')}`,
          device_key: encodePublicKey(devicePublic),
          time: Date.now(),
        }),
      );
      agents.push({ agentId: reg.agent_id, signingPrivate: keys.signingPrivate });
    }
    fetch.close();
  }
  await hub.restart();
  return agents;
}

/** Every agent's 20 intents, interleaved round-robin so no installation or account runs ahead of its burst. */
function signIntents(hub, agents, { signRequest }, { utf8Encode }) {
  const requests = [];
  for (let n = 0; n < INTENTS_PER_AGENT; n++) {
    for (const a of agents) {
      const body = JSON.stringify({
        kind: 'action.approve',
        payload: { summary: `bench intent ${n}`, risk: 'low' },
        idempotency_key: `ik_${a.agentId}_${n}`,
      });
      const signed = signRequest({
        role: 'agent',
        keyId: a.agentId,
        privateKey: a.signingPrivate,
        method: 'POST',
        path: '/v1/intents',
        body: utf8Encode(body),
        hub: hub.url,
      });
      requests.push({ headers: { 'content-type': 'application/json', accept: 'application/json', ...signed }, body });
    }
  }
  return requests;
}

export async function benchHubThroughput({
  seconds = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 5),
  concurrency = Number(process.env.BENCH_THROUGHPUT_CONCURRENCY ?? 8),
  accounts = Number(process.env.BENCH_HUB_ACCOUNTS ?? 30),
} = {}) {
  if (!(seconds > 0 && seconds <= 40))
    throw new Error('BENCH_THROUGHPUT_SECONDS must be in (0, 40]: pre-signed requests expire after 60 s');
  const lib = await importTs(
    'lib/agent/index.ts',
    'lib/hub-client/client.ts',
    'lib/protocol/approval.ts',
    'lib/protocol/keys.ts',
    'lib/protocol/claim-code.ts',
    'node_modules/@noble/curves/ed25519.js',
    'lib/protocol/request-signing.ts',
    'lib/bytes.ts',
  );

  // Bare endpoint first: the same requests minus the signature headers, which it would ignore anyway.
  const bare = await startBareServer();
  let bareRun;
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
    await drive({ url: `${bare.url}/v1/intents`, requests: reqs(2000), concurrency, seconds: 1 }); // warm-up (JIT, sockets)
    bareRun = await drive({ url: `${bare.url}/v1/intents`, requests: reqs(5_000_000), concurrency, seconds });
  } finally {
    await bare.stop();
  }

  const hub = await startHubProcess({ codes: accounts - 1 });
  let hubRun;
  let warmup;
  try {
    const t = performance.now();
    const agents = await provisionHub(hub, accounts, lib);
    const setupMs = performance.now() - t;
    const requests = signIntents(hub, agents, lib[6], lib[7]);
    // Warm-up on the same budget: the first 5 % (JIT, SQLite page cache, sockets), not timed.
    const w = Math.floor(requests.length * 0.05);
    warmup = await drive({ url: `${hub.url}/v1/intents`, requests: requests.slice(0, w), concurrency, seconds: 60 });
    hubRun = await drive({ url: `${hub.url}/v1/intents`, requests: requests.slice(w), concurrency, seconds });
    hubRun.setupMs = setupMs;
    hubRun.budget = requests.length - w;
  } finally {
    await hub.stop();
  }

  const hubCreated = hubRun.statuses[201] ?? 0;
  const r = {
    seconds,
    concurrency,
    accounts,
    agents: accounts * AGENTS_PER_ACCOUNT,
    hub: {
      ...hubRun,
      created: hubCreated,
      rateLimited: hubRun.statuses[429] ?? 0,
      perSecond: hubCreated / (hubRun.elapsedMs / 1000),
      warmup,
    },
    bare: {
      ...bareRun,
      ok: bareRun.statuses[201] ?? 0,
      perSecond: (bareRun.statuses[201] ?? 0) / (bareRun.elapsedMs / 1000),
    },
  };
  r.ratio = r.hub.perSecond / r.bare.perSecond;
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchHubThroughput(), null, 2));
