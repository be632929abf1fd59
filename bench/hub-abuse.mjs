// Signed requests while a local process floods the hub (issue 16, must-show 5): the same real agent and device
// requests (bench/lib/abuse.mjs signedRequests) against one real hub process, first with nothing else going on, then
// while 1,000 half-open sockets and 250 unfinished uploads are held open (startFlood). Prints p50/p95 of both and
// their ratio, and the hub's RSS before and at its peak. Never asserts on timings: test/unit/adversary/hub-abuse.test.ts
// asserts correctness and bounded memory.
import { randomBytes } from 'node:crypto';
import {
  closeAll,
  enrolledDevice,
  floodAndSettle,
  percentile,
  rssBytes,
  signedRequests,
  summarize,
} from './lib/abuse.mjs';
import { startHubProcess } from './lib/hub.mjs';
import { importTs } from './lib/ts.mjs';

const stats = (results) => {
  const ms = results.map((r) => r.ms);
  return {
    n: results.length,
    failed: results.filter((r) => !r.ok).length,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    max: Math.max(...ms),
  };
};

export async function benchHubAbuse({ requests = Number(process.env.BENCH_ABUSE_REQUESTS ?? 60) } = {}) {
  // Each phase has its own agent: one installation may create 20 intents in a burst (hub/routes/intents.ts).
  if (!(requests > 0 && requests <= 60)) throw new Error('BENCH_ABUSE_REQUESTS must be in (0, 60]');
  const [agentLib, { HubClient }, { signClaim }, { deviceKeyId, encodePublicKey }, { claimCodeHash }, { ed25519 }] =
    await importTs(
      'lib/agent/index.ts',
      'lib/hub-client/client.ts',
      'lib/protocol/approval.ts',
      'lib/protocol/keys.ts',
      'lib/protocol/claim-code.ts',
      'node_modules/@noble/curves/ed25519.js',
    );
  const lib = { ...agentLib, HubClient, signClaim, deviceKeyId, encodePublicKey, claimCodeHash, ed25519 };
  const hub = await startHubProcess({ fdLimit: 8192 });
  let flood;
  try {
    const timedFetch = (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const {
      device,
      deviceKeyId: keyId,
      claimedAgent,
    } = await enrolledDevice(hub.url, hub.enrollmentCode, lib, timedFetch);
    const quietAgent = await claimedAgent();
    const floodAgent = await claimedAgent();
    // One warm-up round so neither phase pays for first-call costs (JIT, hub-key proof, connection setup).
    await signedRequests({ agent: quietAgent, device }, { count: 3, tag: 'warm-up' });

    const quiet = stats(await signedRequests({ agent: quietAgent, device }, { count: requests - 3, tag: 'quiet' }));
    const rssBefore = rssBytes(hub.pid);
    let peak = rssBefore ?? 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(hub.pid) ?? 0)), 100);
    let flooded;
    try {
      flood = await floodAndSettle(hub.url, {
        deviceKeyId: keyId,
        randomId: (n) => randomBytes(n).toString('base64url'),
      });
      flooded = stats(await signedRequests({ agent: floodAgent, device }, { count: requests, tag: 'flood' }));
    } finally {
      clearInterval(sampler);
    }
    const rssAfter = rssBytes(hub.pid);
    peak = Math.max(peak, rssAfter ?? 0);
    return {
      quiet,
      flooded,
      ratio: flooded.p95 / quiet.p95,
      rss: { before: rssBefore, peak, after: rssAfter },
      flood: Object.fromEntries(Object.entries(flood).map(([k, v]) => [k, summarize(v)])),
    };
  } finally {
    if (flood) closeAll(Object.values(flood));
    await hub.stop();
  }
}
