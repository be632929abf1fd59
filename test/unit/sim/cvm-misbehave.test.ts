// @vitest-environment node
/**
 * Each misbehaviour switch of the CVM simulator makes exactly its check of the trust gate (lib/seal/trust-gate.ts)
 * fail, on evidence gathered the way the deploy wizard gathers it; the honest simulator passes every check, and
 * the sealed env then reaches the simulator's CVM intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { clawkeepReportData, randomNonce } from '../../../lib/attest/dstack/index';
import { collateralNeeds } from '../../../lib/attest/collateral-needs';
import { checkCvmTrust, sealEnvForCvm, type TrustCheckId, type TrustReport } from '../../../lib/seal/trust-gate';
import { MISBEHAVIOURS, startCvmSimulator, type CvmSimulator, type Misbehaviour } from '../../../sim/cvm';
import { api, collateralFor, createRunning, getQuote, provision } from './sim-client';

let sim: CvmSimulator;
beforeAll(async () => {
  sim = await startCvmSimulator({ startDelayMs: 20 });
});
afterAll(async () => {
  await sim.close();
});

const ENV = [{ key: 'OPENAI_API_KEY', value: 'sk-live-never-in-plaintext' }];

/**
 * Provision, create the CVM without env and wait until it runs, fetch the env key (+ signature), challenge the
 * guest, fetch collateral, run the trust gate.
 */
async function gate(
  name: string,
): Promise<{ report: TrustReport; appId: string; cvmId: string; envPublicKey: string }> {
  const p = await provision(sim, name, ['OPENAI_API_KEY']);
  const cvm = await createRunning(sim, p);
  const key = await api<{ public_key: string; signature?: string; timestamp?: number; signature_v1?: string }>(
    sim,
    'GET',
    `/kms/${p.kms_id}/pubkey/${p.app_id}`,
  );
  const envPublicKey = key.json.public_key;
  const reportData = toHex(clawkeepReportData(randomNonce(), fromHex(envPublicKey)));
  const q = await getQuote(cvm.guest_agent_url, reportData);
  const images = await api<{
    items: Array<{ name: string; measurement: { mrtd: string; rtmr0: string; rtmr1: string; rtmr2: string } }>;
  }>(sim, 'GET', '/os-images');
  const kms = await api<{ items: Array<{ k256_pubkey: string; ca_pubkey: string }> }>(sim, 'GET', '/kms');
  const report = await checkCvmTrust(
    {
      quote: q.quote,
      eventLog: q.eventLog,
      collateral: await collateralFor(sim, q.quote),
      envPublicKey,
      ...(key.json.signature_v1 && key.json.timestamp !== undefined
        ? { envKeySignature: { signature: key.json.signature_v1, timestamp: key.json.timestamp } }
        : key.json.signature
          ? { envKeySignature: { signature: key.json.signature } }
          : {}),
    },
    {
      appCompose: p.app_compose,
      appId: p.app_id,
      trustedKms: { k256Pubkey: kms.json.items[0]!.k256_pubkey, caPubkey: kms.json.items[0]!.ca_pubkey },
      allowedOsImages: images.json.items.map((i) => ({ name: i.name, ...i.measurement })),
      envKeys: ENV.map((e) => e.key),
      allowedEnvs: ['OPENAI_API_KEY'],
      reportData,
      testTrustAnchor: { rootCertDer: sim.testRootDer },
    },
  );
  return { report, appId: p.app_id, cvmId: cvm.id, envPublicKey };
}

const EXPECTED: Record<Misbehaviour, { check: TrustCheckId; message: RegExp }> = {
  'wrong-measurement': { check: 'os-image', message: /MRTD|image/i },
  'compose-mismatch': { check: 'compose-hash', message: /compose/i },
  'unsigned-env-key': { check: 'env-key-signature', message: /signature|signed/i },
  'unbound-env-key': { check: 'env-key-signature', message: /not signed by the trusted KMS/ },
  'bad-kms-signature': { check: 'env-key-signature', message: /signature|signed/i },
  'debug-td': { check: 'quote', message: /debug/i },
  'stale-collateral': { check: 'quote', message: /expired/i },
  'replayed-quote': { check: 'report-data', message: /Report data mismatch/ },
};

describe('CVM simulator misbehaviour', () => {
  it('honest: every trust check passes, and the sealed env reaches the CVM intact', async () => {
    sim.setMisbehave('none');
    const { report, appId, cvmId, envPublicKey } = await gate('honest');
    expect(report.failed).toBeNull();
    expect(report.trusted).toBe(true);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(sim.envOf(appId)).toBeNull();
    const sealed = await sealEnvForCvm(report, envPublicKey, ENV);
    const updated = await api(sim, 'PATCH', `/cvms/${cvmId}/envs`, {
      encrypted_env: sealed,
      env_keys: ['OPENAI_API_KEY'],
    });
    expect(updated.status).toBe(200);
    expect(sim.envOf(appId)).toEqual(ENV);
  });

  it('covers every switch', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...MISBEHAVIOURS].sort());
  });

  for (const mode of MISBEHAVIOURS) {
    it(`${mode}: the gate stops at "${EXPECTED[mode].check}" and refuses to seal`, async () => {
      sim.setMisbehave(mode);
      try {
        const { report, appId, envPublicKey } = await gate(`mis-${mode}`);
        expect(report.trusted).toBe(false);
        expect(report.failed?.id).toBe(EXPECTED[mode].check);
        expect(report.failed?.message).toMatch(EXPECTED[mode].message);
        await expect(sealEnvForCvm(report, envPublicKey, ENV)).rejects.toMatchObject({ code: 'untrusted_cvm' });
        expect(sim.envOf(appId)).toBeNull();
        // Nothing the client checks before this check fails because of the switch.
        const order = report.checks.map((c) => c.id);
        const failedAt = order.indexOf(EXPECTED[mode].check);
        expect(report.checks.slice(0, failedAt).filter((c) => !c.ok)).toEqual([]);
      } finally {
        sim.setMisbehave('none');
      }
    });
  }

  it('debug-td: the quote is still genuinely signed; only the attributes check fails', async () => {
    sim.setMisbehave('debug-td');
    try {
      const { report } = await gate('debug-detail');
      const failedSteps = report.verification.checks.filter((c) => !c.ok).map((c) => c.id);
      expect(failedSteps).toEqual(['attributes']);
      expect(report.verification.error?.code).toBe('td_debug');
    } finally {
      sim.setMisbehave('none');
    }
  });

  it('wrong-measurement and compose-mismatch: the quote itself verifies (only the identity differs)', async () => {
    for (const mode of ['wrong-measurement', 'compose-mismatch'] as const) {
      sim.setMisbehave(mode);
      try {
        const { report } = await gate(`valid-${mode}`);
        expect(report.verification.valid).toBe(true);
        expect(report.checks.find((c) => c.id === 'quote')?.ok).toBe(true);
        expect(report.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual([EXPECTED[mode].check]);
      } finally {
        sim.setMisbehave('none');
      }
    }
  });

  it('stale-collateral: quotes name another platform (FMSPC), so collateral cached from honest runs is not reused', async () => {
    const cvm = await createRunning(sim, await provision(sim, 'stale-fmspc', ['OPENAI_API_KEY']));
    const honest = collateralNeeds((await getQuote(cvm.guest_agent_url, '')).quote);
    sim.setMisbehave('stale-collateral');
    try {
      const stale = collateralNeeds((await getQuote(cvm.guest_agent_url, '')).quote);
      expect(stale.fmspc).not.toBe(honest.fmspc);
      expect(JSON.parse(sim.collateral().tcb_info).fmspc).toBe(stale.fmspc);
    } finally {
      sim.setMisbehave('none');
    }
    expect(JSON.parse(sim.collateral().tcb_info).fmspc).toBe(honest.fmspc);
  });

  it('unsigned-env-key: the pubkey endpoint carries no signature fields at all', async () => {
    sim.setMisbehave('unsigned-env-key');
    try {
      const p = await provision(sim, 'unsigned-shape', ['OPENAI_API_KEY']);
      const key = await api(sim, 'GET', `/kms/${p.kms_id}/pubkey/${p.app_id}`);
      expect(Object.keys(key.json)).toEqual(['public_key']);
    } finally {
      sim.setMisbehave('none');
    }
  });
});
