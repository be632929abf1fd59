// @vitest-environment node
/**
 * A lying cloud provider (Phala Cloud API, played by the CVM simulator's `replayed-quote` switch) replays an old
 * genuine TDX quote of the app — an earlier instance's — and names no instance on the CVM (issue 13 item 10). The
 * deploy flow, with the attest worker's real gate, must seal nothing to it unless the person overrides, and an
 * override must come back as a record naming the CVM, the quote's hash, the time and the warning.
 */
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { runDeploy, type DeployDeps, type DeployRequest } from '../../../lib/deploy/deploy-flow';
import type { TrustPins } from '../../../lib/deploy/types';
import { buildAppCompose, parseManifest } from '../../../lib/providers/manifest';
import { isUnboundQuoteRefusal, UNBOUND_QUOTE_WARNING } from '../../../lib/seal/trust-gate';
import { simDeployDeps, simTrustPins } from '../deploy/sim-deploy';
import { startCvmSimulator, type CvmSimulator } from '../../../sim/cvm';

const manifest = parseManifest(readFileSync(new URL('../../../examples/openclaw-tee.json', import.meta.url), 'utf8'));
const ENV = [
  { key: 'ANTHROPIC_API_KEY', value: 'sk-ant-stale-quote-must-stay-home' },
  { key: 'OPENCLAW_GATEWAY_TOKEN', value: 'gw-token-stale-quote-0123456789' },
];

let sim: CvmSimulator;
beforeAll(async () => {
  sim = await startCvmSimulator({ startDelayMs: 30 });
});
afterAll(async () => sim?.close());
beforeEach(() => {
  sim.setMisbehave('replayed-quote');
  sim.setGuestAgentExposed(false); // like real Phala Cloud: only GET /cvms/{id}/attestation
});

const pins = (): TrustPins => simTrustPins(sim);
const deps = (over: Partial<DeployDeps> = {}): DeployDeps => simDeployDeps(sim, over);
let n = 0;
const request = (): DeployRequest => ({
  provision: buildAppCompose(manifest, { name: `stale-${++n}` }).provisionRequest,
  env: ENV,
  trust: pins(),
});
const envBearing = (since: number) =>
  sim
    .received()
    .slice(since)
    .filter((r) => r.body.includes('encrypted_env') || (r.method === 'PATCH' && /\/envs$/.test(r.path)));

describe('a provider that replays an old genuine quote', () => {
  it('through its attestation endpoint, naming no instance, gets nothing sealed (refused as not challenge-bound)', async () => {
    const since = sim.received().length;
    const outcome = await runDeploy(request(), deps());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('untrusted_cvm');
    expect(outcome.error.check).toBe('report-data');
    expect(outcome.error.message).toMatch(/Not challenge-bound.*replayed/);
    // Every other check passed: the quote is genuine, only its freshness is unproven — the one overridable refusal.
    expect(outcome.report && isUnboundQuoteRefusal(outcome.report)).toBe(true);
    expect(envBearing(since)).toEqual([]);
    expect(sim.envOf(outcome.provision!.appId) ?? null).toBeNull();
  });

  it('through the guest agent, ignoring our nonce, gets nothing sealed (report data mismatch)', async () => {
    sim.setGuestAgentExposed(true);
    const since = sim.received().length;
    const outcome = await runDeploy(request(), deps({ acceptUnboundQuote: true }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.check).toBe('report-data');
    expect(outcome.error.message).toMatch(/Report data mismatch/);
    expect(outcome.report && isUnboundQuoteRefusal(outcome.report)).toBe(false); // a wrong answer is never overridable
    expect(envBearing(since)).toEqual([]);
  });

  it('is sealed to only after the person overrides, and the override comes back as a record of CVM, quote hash, time and warning', async () => {
    const since = sim.received().length;
    const before = Date.now();
    const outcome = await runDeploy(request(), deps({ acceptUnboundQuote: true }));
    expect(outcome.ok, outcome.ok ? '' : outcome.error.message).toBe(true);
    if (!outcome.ok) return;
    const attestation = sim
      .received()
      .slice(since)
      .filter((r) => r.path.endsWith('/attestation'));
    expect(attestation.length).toBeGreaterThan(0);
    const served = await (
      await fetch(`${sim.apiUrl}/cvms/${outcome.cvm.id}/attestation`, { headers: { 'x-api-key': sim.apiKey } })
    ).json();
    const quoteHash = toHex(sha256(fromHex(served.app_certificates[0].quote)));
    expect(outcome.verdict.override).toEqual({
      cvmId: outcome.cvm.id,
      quoteSha256: quoteHash,
      at: expect.any(String),
      warning: UNBOUND_QUOTE_WARNING,
    });
    expect(Date.parse(outcome.verdict.override!.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(outcome.verdict.report.checks.find((c) => c.id === 'report-data')!.detail).toMatch(/^OVERRIDDEN by you/);
    expect(sim.envOf(outcome.provision.appId)).toEqual(ENV);
  });
});
