// @vitest-environment node
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultCollateralCache } from '../../../lib/attest/collateral-cache';
import { expectedComposeOf, runDeploy, type DeployDeps, type DeployRequest } from '../../../lib/deploy/deploy-flow';
import { deploymentOperations } from '../../../lib/deploy/operations';
import type { StepStatus } from '../../../lib/deploy/steps';
import type { DeploymentRecord, TrustPins } from '../../../lib/deploy/types';
import { buildAppCompose, parseManifest } from '../../../lib/providers/manifest';
import {
  NOT_CHALLENGE_BOUND,
  type TrustCheckId,
  UNBOUND_QUOTE_WARNING,
  isUnboundQuoteRefusal,
} from '../../../lib/seal/trust-gate';
import { simDeployDeps, simTrustPins } from './sim-deploy';
import { MISBEHAVIOURS, startCvmSimulator, type CvmSimulator, type Misbehaviour } from '../../../sim/cvm';

// The deploy flow end to end in Node against the CVM simulator, with the attest worker's real API run in-thread
// (this config defines __CLAWKEEP_TEST_ANCHORS__ true, so the simulator's test root can be trusted).

const manifest = parseManifest(readFileSync(new URL('../../../examples/openclaw-tee.json', import.meta.url), 'utf8'));
const ENV = [
  { key: 'ANTHROPIC_API_KEY', value: 'sk-ant-unit-\u00e9\u4e2d-"quoted"-' + 'x'.repeat(20) },
  { key: 'OPENCLAW_GATEWAY_TOKEN', value: 'gw-token-unit-0123456789abcdef' },
];

let sim: CvmSimulator;
beforeAll(async () => {
  sim = await startCvmSimulator({ startDelayMs: 50 });
});
afterAll(async () => sim?.close());
beforeEach(() => {
  sim.setMisbehave('none');
  sim.setGuestAgentExposed(true);
});

const pins = (): TrustPins => simTrustPins(sim);
const deps = (): DeployDeps => simDeployDeps(sim);

let counter = 0;
const request = (): DeployRequest => ({
  provision: buildAppCompose(manifest, { name: `unit-agent-${++counter}` }).provisionRequest,
  env: ENV,
  trust: pins(),
});

/** Requests that carried an env: any body with encrypted_env, or an env update. */
const envBearing = (since: number) =>
  sim
    .received()
    .slice(since)
    .filter((r) => r.body.includes('encrypted_env') || (r.method === 'PATCH' && /\/envs$/.test(r.path)));
const creates = (since: number) =>
  sim
    .received()
    .slice(since)
    .filter((r) => r.method === 'POST' && /\/cvms$/.test(r.path));

describe('runDeploy against the CVM simulator', () => {
  it('provisions, starts without secrets, verifies with a fresh quote, seals and sends the env, reports health; no body carries it in clear', async () => {
    const since = sim.received().length;
    const progress: StepStatus[][] = [];
    const outcome = await runDeploy({ ...request(), healthcheck: { path: '/healthz', port: 18789 } }, deps(), (s) =>
      progress.push(s),
    );
    expect(outcome.ok, outcome.ok ? '' : outcome.error.message).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.verdict.report.trusted).toBe(true);
    expect(outcome.verdict.source).toBe('guest-agent');
    expect(outcome.verdict.report.challengeBound).toBe(true);
    expect(outcome.verdict.appCompose).toBe(outcome.provision.appCompose);
    expect(outcome.cvm.status).toBe('running');
    expect(sim.envOf(outcome.provision.appId)).toEqual(ENV);
    // Steps ran in order, each seen running then done.
    const last = progress.at(-1)!;
    expect(last.map((s) => [s.id, s.state])).toEqual([
      ['provision', 'done'],
      ['start', 'done'],
      ['verify', 'done'],
      ['seal', 'done'],
      ['health', 'done'],
    ]);
    expect(last.find((s) => s.id === 'start')!.label).toBe('Start (no secrets yet)');
    expect(last.find((s) => s.id === 'health')!.detail).toMatch(
      /^Provider reports running.*healthcheck \(\/healthz on port 18789\) was not called/,
    );
    const firstRunning = (id: string) => progress.findIndex((p) => p.find((s) => s.id === id)?.state === 'running');
    expect(firstRunning('provision')).toBeLessThan(firstRunning('start'));
    expect(firstRunning('start')).toBeLessThan(firstRunning('verify'));
    expect(firstRunning('verify')).toBeLessThan(firstRunning('seal'));
    // The CVM was created without any env; the sealed env went only in the one env update after verification.
    const created = creates(since);
    expect(created).toHaveLength(1);
    expect(created[0]!.body).not.toContain('encrypted_env');
    const sent = envBearing(since);
    expect(sent.map((r) => [r.method, r.path.replace(/\/cvms\/[^/]+\//, '/cvms/{id}/')])).toEqual([
      ['PATCH', '/api/v1/cvms/{id}/envs'],
    ]);
    const after = sim.received().slice(since);
    const quoted = after.findIndex((r) => r.path.includes('/GetQuote'));
    expect(quoted).toBeGreaterThanOrEqual(0);
    expect(quoted).toBeLessThan(after.findIndex((r) => r.method === 'PATCH'));
    const bodies = sim
      .received()
      .map((r) => r.body)
      .join('\n');
    for (const { value } of ENV) {
      for (const form of [
        value,
        JSON.stringify(value).slice(1, -1),
        Buffer.from(value).toString('base64'),
        Buffer.from(value).toString('hex'),
      ]) {
        expect(bodies.includes(form)).toBe(false);
      }
    }
  });

  // The check each switch must trip (the gate names the first failure in its fixed order).
  const expectedCheck: Record<Misbehaviour, TrustCheckId> = {
    'wrong-measurement': 'os-image',
    'compose-mismatch': 'compose-hash',
    'unsigned-env-key': 'env-key-signature',
    'unbound-env-key': 'env-key-signature',
    'bad-kms-signature': 'env-key-signature',
    'debug-td': 'quote',
    'stale-collateral': 'quote',
    'replayed-quote': 'report-data',
  };
  const expectedWhy: Record<Misbehaviour, RegExp> = {
    'wrong-measurement': /OS image not allowed/,
    'compose-mismatch': /Compose hash mismatch/,
    'unsigned-env-key': /no signature/,
    'unbound-env-key': /not signed by the trusted KMS/,
    'bad-kms-signature': /KMS signature|not signed by the trusted KMS/,
    'debug-td': /debug mode/,
    'stale-collateral': /expired/,
    'replayed-quote': /Report data mismatch/,
  };
  for (const mode of MISBEHAVIOURS) {
    it(`${mode}: stops at "Verify attestation" naming the ${expectedCheck[mode]} check, and nothing carrying env is sent`, async () => {
      sim.setMisbehave(mode);
      // Collateral cached by an earlier test is still current and would be used instead of the PCCS's stale copy.
      await defaultCollateralCache()?.clear();
      const since = sim.received().length;
      const progress: StepStatus[][] = [];
      const outcome = await runDeploy(request(), deps(), (s) => progress.push(s));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.code).toBe('untrusted_cvm');
      expect(outcome.error.step).toBe('verify');
      expect(outcome.error.check).toBe(expectedCheck[mode]);
      expect(outcome.error.message).toContain(`“${expectedCheck[mode]}”`);
      expect(outcome.error.message).toMatch(expectedWhy[mode]);
      expect(outcome.report?.trusted).toBe(false);
      expect(progress.at(-1)!.map((s) => s.state)).toEqual(['done', 'done', 'failed', 'skipped', 'skipped']);
      expect(envBearing(since)).toEqual([]);
      expect(creates(since)).toHaveLength(1);
      expect(sim.envOf(outcome.provision!.appId)).toBeNull();
      // The CVM exists without secrets: the outcome names it so it can be destroyed.
      expect(outcome.cvm?.appId).toBe(outcome.provision!.appId);
    });
  }

  it('without a guest agent URL (like real Phala Cloud) the provider’s quote is refused (not challenge-bound), nothing sent', async () => {
    sim.setGuestAgentExposed(false);
    const since = sim.received().length;
    const outcome = await runDeploy(request(), deps());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.check).toBe('report-data');
    expect(outcome.error.message).toContain('Not challenge-bound');
    expect(outcome.report && isUnboundQuoteRefusal(outcome.report)).toBe(true);
    expect(envBearing(since)).toEqual([]);
  });

  it('with the person’s explicit override it verifies the provider’s attestation, tied to the instance id, and returns the record to keep', async () => {
    sim.setGuestAgentExposed(false);
    const since = sim.received().length;
    const outcome = await runDeploy(request(), { ...deps(), acceptUnboundQuote: true });
    expect(outcome.ok, outcome.ok ? '' : outcome.error.message).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.verdict.source).toBe('provider');
    expect(outcome.verdict.report.trusted).toBe(true);
    expect(outcome.verdict.report.challengeBound).toBe(false);
    const reportData = outcome.verdict.report.checks.find((c) => c.id === 'report-data')!;
    expect(reportData.ok).toBe(true);
    expect(reportData.detail).toContain(NOT_CHALLENGE_BOUND);
    expect(reportData.detail).toContain(outcome.cvm.instanceId!);
    expect(outcome.verdict.override).toMatchObject({ cvmId: outcome.cvm.id, warning: UNBOUND_QUOTE_WARNING });
    expect(outcome.verdict.override!.quoteSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sim.envOf(outcome.provision.appId)).toEqual(ENV);
    const received = sim.received().slice(since);
    expect(received.some((r) => r.path.includes('/guest/'))).toBe(false);
    expect(received.some((r) => r.path.endsWith('/attestation'))).toBe(true);
  });

  it('provider attestation path still stops on a misbehaving CVM (wrong measurement) with nothing sent', async () => {
    sim.setGuestAgentExposed(false);
    sim.setMisbehave('wrong-measurement');
    const since = sim.received().length;
    const outcome = await runDeploy(request(), deps());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.check).toBe('os-image');
    expect(envBearing(since)).toEqual([]);
  });

  it('a request with an env key outside the manifest is refused before anything reaches the provider', async () => {
    const since = sim.received().length;
    const outcome = await runDeploy({ ...request(), env: [...ENV, { key: 'NOT_ALLOWED', value: 'x' }] }, deps());
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('invalid_request');
    expect(sim.received().length).toBe(since);
  });
});

describe('dashboard operations', () => {
  it('status, re-verify, update secrets (re-verified, re-sealed), logs, restart and destroy', async () => {
    const outcome = await runDeploy(request(), deps());
    if (!outcome.ok) throw outcome.error;
    const record: DeploymentRecord = {
      version: 1,
      name: 'unit',
      cvmId: outcome.cvm.id,
      appId: outcome.provision.appId,
      kmsId: outcome.provision.kmsId,
      apiBaseUrl: sim.apiUrl,
      apiKeyItemId: 'unused',
      appCompose: outcome.verdict.appCompose,
      expectedCompose: expectedComposeOf(request().provision),
      allowedEnvs: manifest.env.map((e) => e.key),
      envSources: ENV.map((e) => ({ key: e.key, literal: e.value })),
      envSpec: manifest.env,
      createdAt: new Date().toISOString(),
    };
    const ops = deploymentOperations(record, pins(), deps());
    expect((await ops.status()).status).toBe('running');
    expect((await ops.reverify()).report.trusted).toBe(true);

    const next = [
      ...ENV.map((e) => ({ ...e, value: `${e.value}-v2` })),
      { key: 'OPENCLAW_MODEL', value: 'anthropic/claude-opus-4' },
    ];
    await ops.updateSecrets(next);
    expect(sim.envOf(record.appId)).toEqual(next);

    // A CVM that stops passing: update refused, env unchanged, nothing sent.
    sim.setMisbehave('wrong-measurement');
    const since = sim.received().length;
    await expect(ops.updateSecrets(ENV)).rejects.toMatchObject({ code: 'untrusted_cvm', check: 'os-image' });
    expect(envBearing(since)).toEqual([]);
    expect(sim.envOf(record.appId)).toEqual(next);
    expect((await ops.reverify()).report.failed?.id).toBe('os-image');
    sim.setMisbehave('none');

    expect((await ops.logs(50)).join('\n')).toContain('encrypted env updated');
    await ops.restart();
    await ops.destroy();
    await expect(ops.status()).rejects.toMatchObject({ code: 'not_found' });
  });
});
