// @vitest-environment node
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8Encode } from '../../../lib/bytes';
import { encryptEnv } from '../../../lib/seal/env-encryption';
import { buildAppCompose, parseManifest, type BuiltAppCompose } from '../../../lib/providers/manifest';
import {
  checkAppCompose,
  createPhalaClient,
  PhalaApiError,
  type PhalaClient,
  type ProvisionedCvm,
} from '../../../lib/providers/phala';
import { startCvmSimulator, type CvmSimulator } from '../../../sim/cvm';

/**
 * The client against the CVM simulator (sim/cvm): real HTTP on loopback, the wire shapes of the design,
 * the simulator's own KMS and guest API. Transport behaviour (retries, timeouts, redirects, sanitising) that the
 * simulator cannot provoke is in phala-transport.test.ts.
 */

const manifest = parseManifest(readFileSync(new URL('../../../examples/openclaw-tee.json', import.meta.url), 'utf8'));
const SECRET_VALUES = ['sk-ant-api03-SIMULATED-secret-value-1234567890', 'gateway-token-SIMULATED-0987654321'];
const env = [
  { key: 'ANTHROPIC_API_KEY', value: SECRET_VALUES[0]! },
  { key: 'OPENCLAW_GATEWAY_TOKEN', value: SECRET_VALUES[1]! },
  { key: 'OPENCLAW_MODEL', value: 'anthropic/claude-sonnet-4-5' },
];

let sim: CvmSimulator;
let client: PhalaClient;

async function expectApiError(promise: Promise<unknown>, code: string, status: number | null): Promise<PhalaApiError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected PhalaApiError ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PhalaApiError);
  expect((err as PhalaApiError).code).toBe(code);
  expect((err as PhalaApiError).status).toBe(status);
  return err as PhalaApiError;
}

async function waitForStatus(id: string, status: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await client.getState(id)).status === status) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`CVM never reached ${status}`);
}

beforeAll(async () => {
  sim = await startCvmSimulator({ apiKey: 'phak_simulator_key_0123456789abcdef', startDelayMs: 50 });
  client = createPhalaClient({ apiKey: sim.apiKey, baseUrl: sim.apiUrl });
});

afterAll(async () => {
  await sim?.close();
});

describe('Phala client against the CVM simulator', () => {
  it('whoami, KMS list and OS images come back typed and match what the simulator publishes', async () => {
    const me = await client.whoami();
    expect(me.username).toBe('simulator');
    expect(me.workspaceName).toBeTypeOf('string');

    const kms = await client.listKms();
    expect(kms).toEqual([
      {
        id: sim.kms.id,
        slug: sim.kms.slug,
        name: expect.any(String),
        chainId: null,
        k256Pubkey: sim.kms.k256Pubkey,
        caPubkey: sim.kms.caPubkey,
      },
    ]);
    expect(kms[0]!.k256Pubkey).toMatch(/^0[23][0-9a-f]{64}$/);

    const images = await client.listOsImages();
    expect(images).toHaveLength(1);
    expect(images[0]!.osImageHash).toBe(sim.osImage.osImageHash);
    expect(images[0]!.measurement).toEqual(sim.osImage.measurement);
    expect(images[0]!.isDev).toBe(false);
  });

  describe('deploy lifecycle', () => {
    let built: BuiltAppCompose;
    let provisioned: ProvisionedCvm;
    let cvmId: string;

    it('provisions from the manifest: app id, env key, the exact app compose we asked for; no guest agent yet', async () => {
      built = buildAppCompose(manifest, { name: 'clawkeep-test-agent', kmsId: sim.kms.id });
      provisioned = await client.provisionCvm(built.provisionRequest);
      expect(provisioned.appId).toMatch(/^[0-9a-f]{40}$/);
      expect(provisioned.appEnvEncryptPubkey).toMatch(/^[0-9a-f]{64}$/);
      expect(provisioned.kmsId).toBe(sim.kms.id);
      expect(provisioned.osImageHash).toBe(sim.osImage.osImageHash);
      // The simulator returns app_compose as an extra field; the client keeps it optional (null when absent).
      expect(provisioned.composeHash).toBe(toHex(sha256(utf8Encode(provisioned.appCompose!))));
      expect('guestAgentUrl' in provisioned).toBe(false);
      const doc = checkAppCompose(provisioned.appCompose!, {
        dockerComposeFile: built.dockerComposeFile,
        allowedEnvs: built.allowedEnvs,
        gatewayEnabled: true,
        publicLogs: false,
      });
      expect(doc.allowed_envs).toEqual(built.allowedEnvs);
      // Before the CVM exists its guest agent does not answer.
      await expectApiError(client.guestInfo(`${sim.guestBaseUrl}/${provisioned.appId}`), 'not_found', 404);
    });

    it('gets the env public key with its KMS signatures', async () => {
      const key = await client.getEnvPubkey(sim.kms.id, provisioned.appId);
      expect(key.publicKey).toBe(provisioned.appEnvEncryptPubkey);
      expect(key.signature).toMatch(/^[0-9a-f]{130}$/);
      expect(key.signatureV1).toMatch(/^[0-9a-f]{130}$/);
      expect(key.timestamp).toBeTypeOf('number');
      // by slug too
      expect((await client.getEnvPubkey(sim.kms.slug, provisioned.appId)).publicKey).toBe(key.publicKey);
    });

    it('reports a missing signature as null (unsigned-env-key)', async () => {
      sim.setMisbehave('unsigned-env-key');
      try {
        const key = await client.getEnvPubkey(sim.kms.id, provisioned.appId);
        expect(key).toEqual({
          publicKey: provisioned.appEnvEncryptPubkey,
          signature: null,
          timestamp: null,
          signatureV1: null,
        });
      } finally {
        sim.setMisbehave('none');
      }
    });

    it('creates the CVM without any env: no encrypted_env or env_keys in the body, the CVM holds no env', async () => {
      const before = sim.received().length;
      const cvm = await client.createCvm({ appId: provisioned.appId, composeHash: provisioned.composeHash });
      cvmId = cvm.id;
      expect(cvm.id).toMatch(/^[0-9a-f]{32}$/);
      expect(cvm.appId).toBe(provisioned.appId);
      expect(cvm.name).toBe('clawkeep-test-agent');
      expect(['creating', 'starting']).toContain(cvm.status);
      expect(cvm.kmsInfo?.encryptedEnvPubkey).toBe(provisioned.appEnvEncryptPubkey);
      expect(cvm.instanceId).toMatch(/^[0-9a-f]{40}$/);
      // Not running yet: no guest agent to challenge.
      expect(cvm.guestAgentUrl).toBeNull();
      const [create] = sim.received().slice(before);
      expect(JSON.parse(create!.body)).toEqual({ app_id: provisioned.appId, compose_hash: provisioned.composeHash });
      expect(sim.envOf(provisioned.appId)).toBeNull();
    });

    it('reads the CVM by id and by app_<app id>, its state, logs and attestation', async () => {
      await waitForStatus(cvmId, 'running');
      const cvm = await client.getCvm(cvmId);
      expect(cvm.status).toBe('running');
      expect(cvm.guestAgentUrl).toBe(`${sim.guestBaseUrl}/${provisioned.appId}`);
      expect((await client.getCvm(`app_${provisioned.appId}`)).id).toBe(cvmId);

      const state = await client.getState(cvmId);
      expect(state.status).toBe('running');
      expect(state.uptimeSeconds).toBeGreaterThanOrEqual(0);

      const logs = await client.getLogs(cvmId, 50);
      expect(logs.some((l) => l.includes('system-ready'))).toBe(true);
      const last = await client.getLogs(cvmId, 1);
      expect(last).toHaveLength(1);
      expect(last[0]).toBe(logs.at(-1));

      const attestation = await client.getAttestation(cvmId);
      expect(attestation.isOnline).toBe(true);
      expect(attestation.quotes).toHaveLength(1);
      expect(attestation.tcbInfo?.appCompose).toBe(provisioned.appCompose);
      expect(attestation.tcbInfo?.mrtd).toBe(sim.osImage.measurement.mrtd);
      expect(JSON.parse(attestation.tcbInfo!.eventLog)).toBeInstanceOf(Array);
      // The provider's quote carries no challenge of ours: zero REPORTDATA (TDX v4 body offset 568).
      expect(attestation.quotes[0]!.slice(568 * 2, 632 * 2)).toBe('00'.repeat(64));
    });

    it('reads the running CVM’s guest API: Info and a quote over our report data', async () => {
      const url = (await client.getCvm(cvmId)).guestAgentUrl!;
      const info = await client.guestInfo(url);
      expect(info.appId).toBe(provisioned.appId);
      expect(info.instanceId).toBe((await client.getCvm(cvmId)).instanceId);
      expect(info.tcbInfo.appCompose).toBe(provisioned.appCompose);
      expect(info.tcbInfo.composeHash).toBe(provisioned.composeHash);
      expect(info.tcbInfo.osImageHash).toBe(sim.osImage.osImageHash);
      expect(info.tcbInfo.mrtd).toBe(sim.osImage.measurement.mrtd);
      expect(Array.isArray(JSON.parse(info.tcbInfo.eventLog))).toBe(true);

      const reportData = 'ab'.repeat(64);
      const quote = await client.guestGetQuote(url, reportData);
      expect(quote.reportData).toBe(reportData);
      expect(quote.quote).toMatch(/^(?:[0-9a-f]{2})+$/);
      expect(quote.quote.length).toBeGreaterThan(1000);
      const events = JSON.parse(quote.eventLog) as Array<{ event?: string }>;
      expect(events.some((e) => e.event === 'compose-hash')).toBe(true);
      // A TDX v4 quote carries REPORTDATA at body offset 48 + 520 = 568 bytes.
      expect(quote.quote.slice(568 * 2, 632 * 2)).toBe(reportData);
    });

    it('hides the guest agent URL when the simulator is told to (real Phala Cloud gives none)', async () => {
      sim.setGuestAgentExposed(false);
      try {
        expect((await client.getCvm(cvmId)).guestAgentUrl).toBeNull();
      } finally {
        sim.setGuestAgentExposed(true);
      }
    });

    it('sends the sealed env by env update: the simulator decrypts exactly it, and no plaintext crossed the wire', async () => {
      const encryptedEnv = await encryptEnv(env, provisioned.appEnvEncryptPubkey);
      const update = await client.updateEnv(cvmId, { encryptedEnv, envKeys: built.allowedEnvs });
      expect(update.status).toBe('in_progress');
      expect(sim.envOf(provisioned.appId)).toEqual(env);
      for (const request of sim.received()) {
        for (const secret of SECRET_VALUES) expect(request.body).not.toContain(secret);
        expect(request.path).not.toContain(sim.apiKey);
      }
      await waitForStatus(cvmId, 'running');
    });

    it('updates the env (whole set replaced)', async () => {
      const next = [env[0]!, env[1]!];
      const update = await client.updateEnv(cvmId, {
        encryptedEnv: await encryptEnv(next, provisioned.appEnvEncryptPubkey),
        envKeys: next.map((e) => e.key),
      });
      expect(update.status).toBe('in_progress');
      expect(update.correlationId.length).toBeGreaterThan(0);
      expect(update.allowedEnvsChanged).toBe(false);
      expect(sim.envOf(provisioned.appId)).toEqual(next);
    });

    it('stops, starts and restarts', async () => {
      expect((await client.stop(cvmId)).status).toBe('stopped');
      expect((await client.getState(cvmId)).status).toBe('stopped');
      expect(['starting', 'running']).toContain((await client.start(cvmId)).status);
      await waitForStatus(cvmId, 'running');
      expect(['starting', 'restarting']).toContain((await client.restart(cvmId)).status);
      await waitForStatus(cvmId, 'running');
    });

    it('deletes; afterwards the CVM is not_found (404)', async () => {
      await client.deleteCvm(cvmId);
      const err = await expectApiError(client.getCvm(cvmId), 'not_found', 404);
      expect(err.detail).toBe('CVM not found.');
      await expectApiError(client.getState(cvmId), 'not_found', 404);
    });
  });

  it('maps a wrong API key to unauthorized (401) without the key in any error text', async () => {
    const wrongKey = 'phak_WRONG_key_that_must_not_leak_42';
    const wrong = createPhalaClient({ apiKey: wrongKey, baseUrl: sim.apiUrl });
    const err = await expectApiError(wrong.whoami(), 'unauthorized', 401);
    expect(err.detail).toBe('Invalid or missing API key.');
    const text = `${err.message} ${JSON.stringify(err)} ${String(err.stack)}`;
    expect(text).not.toContain(wrongKey);
    expect(text).not.toContain(sim.apiKey);
    // 401 is not retried: one request only.
    const before = sim.received().length;
    await expectApiError(wrong.listKms(), 'unauthorized', 401);
    expect(sim.received().length).toBe(before + 1);
  });

  it('maps an unknown KMS to not_found and a rejected body to invalid_request', async () => {
    await expectApiError(client.getEnvPubkey('no-such-kms', 'ab'.repeat(20)), 'not_found', 404);
    const built = buildAppCompose(manifest, { name: 'other-agent' });
    await expectApiError(
      client.provisionCvm({ ...built.provisionRequest, kmsId: 'unknown-kms' }),
      'invalid_request',
      400,
    );
  });

  it('refuses malformed ids and inputs before sending anything', async () => {
    const before = sim.received().length;
    await expectApiError(client.getCvm('../auth/me'), 'invalid_argument', null);
    await expectApiError(client.getCvm('ABC'), 'invalid_argument', null);
    await expectApiError(client.deleteCvm('a/b'), 'invalid_argument', null);
    await expectApiError(client.getEnvPubkey(sim.kms.id, 'xyz'), 'invalid_argument', null);
    await expectApiError(client.getEnvPubkey('../x', 'ab'.repeat(20)), 'invalid_argument', null);
    await expectApiError(
      client.guestGetQuote(`${sim.guestBaseUrl}/${'ab'.repeat(20)}`, 'ab'),
      'invalid_argument',
      null,
    );
    await expectApiError(client.getLogs('abcdef', 0), 'invalid_argument', null);
    await expectApiError(
      client.createCvm({ appId: 'ab'.repeat(20), composeHash: 'cd'.repeat(32), encryptedEnv: 'not hex', envKeys: [] }),
      'invalid_argument',
      null,
    );
    await expectApiError(
      client.createCvm({ appId: 'ab'.repeat(20), composeHash: 'cd'.repeat(32), envKeys: ['A'] }),
      'invalid_argument',
      null,
    );
    await expectApiError(
      client.updateEnv('abcdef', { encryptedEnv: 'ab'.repeat(100), envKeys: ['OK', '1BAD'] }),
      'invalid_argument',
      null,
    );
    await expectApiError(
      client.provisionCvm({ ...buildAppCompose(manifest, { name: 'abcde' }).provisionRequest, name: 'Bad Name' }),
      'invalid_argument',
      null,
    );
    expect(sim.received().length).toBe(before);
  });
});
