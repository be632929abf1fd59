// @vitest-environment node
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultCollateralCache } from '../../../lib/attest/collateral-cache';
import { toHex } from '../../../lib/bytes';
import { runDeploy, type DeployDeps, type DeployRequest } from '../../../lib/deploy/deploy-flow';
import { deploymentOperations } from '../../../lib/deploy/operations';
import type { StepStatus } from '../../../lib/deploy/steps';
import type { DeploymentRecord, TrustPins } from '../../../lib/deploy/types';
import { buildAppCompose, parseManifest } from '../../../lib/providers/manifest';
import { createPhalaClient } from '../../../lib/providers/phala/client';
import type { TrustCheckId } from '../../../lib/seal/trust-gate';
import { attestWorkerApi } from '../../../workers/attest.worker';
import { MISBEHAVIOURS, startCvmSimulator, type CvmSimulator, type Misbehaviour } from '../../sim/cvm';

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
beforeEach(() => sim.setMisbehave('none'));

const pins = (): TrustPins => ({
  kms: { id: sim.kms.id, k256Pubkey: sim.kms.k256Pubkey, caPubkey: sim.kms.caPubkey },
  osImages: [{ name: sim.osImage.name, ...sim.osImage.measurement }],
  pccsUrl: sim.pccsUrl,
  testRootDerHex: toHex(sim.testRootDer),
});

const deps = (): DeployDeps => ({
  cloud: createPhalaClient({ apiKey: sim.apiKey, baseUrl: sim.apiUrl }),
  checkTrust: (request) => attestWorkerApi.checkCvm(request),
  seal: async (report, envPublicKey, env) => {
    const result = await attestWorkerApi.sealEnv({ report, envPublicKey, env });
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.sealedEnv;
  },
  poll: { intervalMs: 20, timeoutMs: 10_000 },
});

let counter = 0;
const request = (): DeployRequest => ({
  provision: buildAppCompose(manifest, { name: `unit-agent-${++counter}` }).provisionRequest,
  env: ENV,
  trust: pins(),
});

/** Request bodies that carried an env (create or env update). */
const envBearing = (since: number) =>
  sim.received().slice(since).filter((r) => (r.method === 'POST' && /\/cvms$/.test(r.path)) || (r.method === 'PATCH' && /\/envs$/.test(r.path)));

describe('runDeploy against the CVM simulator', () => {
  it('provisions, verifies, seals, creates and reports each step; the CVM holds exactly our env and no body carries it in clear', async () => {
    const progress: StepStatus[][] = [];
    const outcome = await runDeploy(request(), deps(), (s) => progress.push(s));
    expect(outcome.ok, outcome.ok ? '' : outcome.error.message).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.verdict.report.trusted).toBe(true);
    expect(outcome.cvm.status).toBe('running');
    expect(sim.envOf(outcome.provision.appId)).toEqual(ENV);
    // Steps ran in order, each seen running then done.
    const last = progress.at(-1)!;
    expect(last.map((s) => [s.id, s.state])).toEqual([
      ['provision', 'done'], ['verify', 'done'], ['seal', 'done'], ['start', 'done'], ['health', 'done'],
    ]);
    const firstRunning = (id: string) => progress.findIndex((p) => p.find((s) => s.id === id)?.state === 'running');
    expect(firstRunning('provision')).toBeLessThan(firstRunning('verify'));
    expect(firstRunning('verify')).toBeLessThan(firstRunning('seal'));
    const bodies = sim.received().map((r) => r.body).join('\n');
    for (const { value } of ENV) {
      for (const form of [value, JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]) {
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
  };
  const expectedWhy: Record<Misbehaviour, RegExp> = {
    'wrong-measurement': /OS image not allowed/,
    'compose-mismatch': /Compose hash mismatch/,
    'unsigned-env-key': /no signature/,
    'unbound-env-key': /not signed by the trusted KMS/,
    'bad-kms-signature': /KMS signature|not signed by the trusted KMS/,
    'debug-td': /debug mode/,
    'stale-collateral': /expired/,
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
      expect(progress.at(-1)!.map((s) => s.state)).toEqual(['done', 'failed', 'skipped', 'skipped', 'skipped']);
      expect(envBearing(since)).toEqual([]);
      expect(sim.envOf(outcome.provision!.appId)).toBeNull();
    });
  }

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
      appCompose: outcome.provision.appCompose,
      allowedEnvs: manifest.env.map((e) => e.key),
      envSources: ENV.map((e) => ({ key: e.key, literal: e.value })),
      envSpec: manifest.env,
      createdAt: new Date().toISOString(),
    };
    const ops = deploymentOperations(record, pins(), deps());
    expect((await ops.status()).status).toBe('running');
    expect((await ops.reverify()).report.trusted).toBe(true);

    const next = [...ENV.map((e) => ({ ...e, value: `${e.value}-v2` })), { key: 'OPENCLAW_MODEL', value: 'anthropic/claude-opus-4' }];
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
