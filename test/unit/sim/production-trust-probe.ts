/**
 * Run as a plain Node process (no vitest define), like the CLI or any unbundled Node code: starts a CVM
 * simulator, fetches a quote and its collateral over HTTP, verifies it with the simulator's root passed as a
 * test trust anchor, and prints `{verified, code}` as JSON. Whether the anchor is honoured is decided by
 * CLAWKEEP_ALLOW_TEST_ANCHOR in this process's environment only (lib/attest/trust-anchor.ts).
 */
import { toHex } from '../../../lib/bytes';
import { verifyQuote } from '../../../lib/attest/verify';
import { startCvmSimulator } from '../../../sim/cvm';
import { collateralFor, createRunning, getQuote, provision } from './sim-client';

const sim = await startCvmSimulator({ startDelayMs: 20 });
try {
  const cvm = await createRunning(sim, await provision(sim, 'probe'));
  const q = await getQuote(cvm.guest_agent_url, toHex(crypto.getRandomValues(new Uint8Array(64))));
  const result = await verifyQuote(q.quote, await collateralFor(sim, q.quote), {
    testTrustAnchor: { rootCertDer: sim.testRootDer },
    dstack: { eventLog: q.eventLog },
  });
  process.stdout.write(JSON.stringify({ verified: result.verified, code: result.error?.code ?? null }) + '\n');
} finally {
  await sim.close();
}
