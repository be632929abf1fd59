// @vitest-environment node
/**
 * The CVM simulator's HTTP surface: Phala Cloud API shapes (auth, provision → create → running, env update,
 * power, logs, attestation), the dstack guest API, PCCS collateral, and the /_sim controls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { computeComposeHash, clawkeepReportData, randomNonce } from '../../../lib/attest/dstack/index';
import { verifyQuote } from '../../../lib/attest/verify';
import { encryptEnv } from '../../../lib/seal/env-encryption';
import { verifyEnvKeySignature } from '../../../lib/seal/kms-signature';
import { startCvmSimulator, type CvmSimulator } from '../../../sim/cvm';
import { api, collateralFor, createRunning, DEMO_COMPOSE, getQuote, provision } from './sim-client';

let sim: CvmSimulator;

beforeAll(async () => {
  sim = await startCvmSimulator({ startDelayMs: 50 });
});
afterAll(async () => {
  await sim.close();
});

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}

describe('CVM simulator API auth', () => {
  it('answers 401 {"detail"} without or with a wrong X-API-Key, 200 with the right one', async () => {
    const missing = await api(sim, 'GET', '/auth/me', undefined, null);
    expect(missing.status).toBe(401);
    expect(typeof (missing.json as { detail?: unknown }).detail).toBe('string');
    expect((await api(sim, 'GET', '/auth/me', undefined, 'wrong-key')).status).toBe(401);
    expect((await api(sim, 'POST', '/cvms/provision', {}, null)).status).toBe(401);
    const ok = await api<{ username: string }>(sim, 'GET', '/auth/me');
    expect(ok.status).toBe(200);
    expect(ok.json.username).toBe('simulator');
  });

  it('accepts the apiKey it was started with', async () => {
    const other = await startCvmSimulator({ apiKey: 'another-key' });
    try {
      expect((await api(other, 'GET', '/auth/me', undefined, 'sim-key')).status).toBe(401);
      expect((await api(other, 'GET', '/auth/me', undefined, 'another-key')).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('CVM simulator KMS and OS images', () => {
  it('lists its test KMS (k256_pubkey, ca_pubkey) and the published OS image measurement', async () => {
    const kms = await api<{ items: Array<Record<string, string>> }>(sim, 'GET', '/kms');
    expect(kms.json.items).toEqual([
      expect.objectContaining({ id: sim.kms.id, k256_pubkey: sim.kms.k256Pubkey, ca_pubkey: sim.kms.caPubkey }),
    ]);
    const images = await api<{ items: Array<Record<string, unknown>> }>(sim, 'GET', '/os-images');
    expect(images.json.items).toEqual([
      {
        name: sim.osImage.name,
        version: sim.osImage.version,
        os_image_hash: sim.osImage.osImageHash,
        is_dev: false,
        measurement: sim.osImage.measurement,
      },
    ]);
  });
});

describe('CVM simulator provision → create → running', () => {
  it('provision returns the exact app_compose whose SHA-256 is compose_hash, and app_id = its first 20 bytes', async () => {
    const p = await provision(sim, 'compose-check');
    expect(computeComposeHash(utf8Encode(p.app_compose))).toBe(p.compose_hash);
    expect(p.app_id).toBe(p.compose_hash.slice(0, 40));
    const compose = JSON.parse(p.app_compose) as Record<string, unknown>;
    expect(compose).toMatchObject({
      name: 'compose-check',
      docker_compose_file: DEMO_COMPOSE,
      allowed_envs: ['OPENAI_API_KEY', 'TELEGRAM_TOKEN'],
      kms_enabled: true,
    });
    expect(p.app_env_encrypt_pubkey).toMatch(/^[0-9a-f]{64}$/);
    expect(p.os_image_hash).toBe(sim.osImage.osImageHash);
    expect(p.kms_id).toBe(sim.kms.id);
    // Like Phala Cloud: no guest agent at provisioning (nothing runs yet), and its guest API does not answer.
    expect('guest_agent_url' in p).toBe(false);
    expect((await fetch(`${sim.guestBaseUrl}/${p.app_id}/Info`)).status).toBe(404);
    expect((await fetch(`${sim.guestBaseUrl}/${p.app_id}/GetQuote?report_data=`)).status).toBe(404);
  });

  it('creates a CVM without any env: it runs with an empty env, names its guest agent and instance once running', async () => {
    const p = await provision(sim, 'no-env');
    const created = await api<{ id: string; status: string; instance_id: string; guest_agent_url?: string }>(
      sim,
      'POST',
      '/cvms',
      {
        app_id: p.app_id,
        compose_hash: p.compose_hash,
      },
    );
    expect(created.status).toBe(200);
    expect(created.json.status).toBe('creating');
    expect(created.json.instance_id).toMatch(/^[0-9a-f]{40}$/);
    expect(created.json.guest_agent_url).toBeUndefined();
    expect((await fetch(`${sim.guestBaseUrl}/${p.app_id}/Info`)).status).toBe(404);
    const running = await until(
      () =>
        api<{ status: string; guest_agent_url?: string; instance_id: string }>(sim, 'GET', `/cvms/${created.json.id}`),
      (r) => r.json.status === 'running',
    );
    expect(running.json.guest_agent_url).toBe(`${sim.guestBaseUrl}/${p.app_id}`);
    expect(running.json.instance_id).toBe(created.json.instance_id);
    expect(sim.envOf(p.app_id)).toBeNull();
    expect((await fetch(`${sim.apiUrl.replace('/api/v1', '')}/_sim/env/${p.app_id}`)).status).toBe(404);
    const logs = await api<{ lines: string[] }>(sim, 'GET', `/cvms/${created.json.id}/logs`);
    expect(logs.json.lines.join('\n')).toContain('no encrypted env');

    // The guest agent now answers for this CVM, with its instance id.
    const info = (await (await fetch(`${running.json.guest_agent_url}/Info`)).json()) as { instance_id: string };
    expect(info.instance_id).toBe(created.json.instance_id);

    // Hidden by the switch (like real Phala Cloud), over the API and the control endpoint.
    const base = sim.apiUrl.replace('/api/v1', '');
    const hide = await fetch(`${base}/_sim/guest-agent`, { method: 'POST', body: JSON.stringify({ exposed: false }) });
    expect(await hide.json()).toEqual({ exposed: false });
    try {
      expect(
        (await api<{ guest_agent_url?: string }>(sim, 'GET', `/cvms/${created.json.id}`)).json.guest_agent_url,
      ).toBeUndefined();
      expect(sim.guestAgentExposed()).toBe(false);
    } finally {
      sim.setGuestAgentExposed(true);
    }
    expect(
      (await fetch(`${base}/_sim/guest-agent`, { method: 'POST', body: JSON.stringify({ exposed: 'no' }) })).status,
    ).toBe(400);
    expect(await (await fetch(`${base}/_sim/guest-agent`)).json()).toEqual({ exposed: true });

    // PATCH envs delivers the env and applies it: starting, then running again.
    const env = [{ key: 'OPENAI_API_KEY', value: 'sk-after-attestation' }];
    const patched = await api(sim, 'PATCH', `/cvms/${created.json.id}/envs`, {
      encrypted_env: await encryptEnv(env, p.app_env_encrypt_pubkey),
      env_keys: ['OPENAI_API_KEY'],
    });
    expect(patched.status).toBe(200);
    expect(sim.envOf(p.app_id)).toEqual(env);
    expect((await api<{ status: string }>(sim, 'GET', `/cvms/${created.json.id}/state`)).json.status).toBe('starting');
    await until(
      () => api<{ status: string }>(sim, 'GET', `/cvms/${created.json.id}/state`),
      (r) => r.json.status === 'running',
    );
  });

  it('rejects a provision without a compose (422) and a create for an unknown app (404)', async () => {
    expect((await api(sim, 'POST', '/cvms/provision', { name: 'x' })).status).toBe(422);
    const res = await api(sim, 'POST', '/cvms', {
      app_id: 'ab'.repeat(20),
      compose_hash: 'cd'.repeat(32),
      encrypted_env: '00',
    });
    expect(res.status).toBe(404);
  });

  it('the KMS pubkey endpoint returns the provisioned env key, signed (legacy + v1) by k256_pubkey', async () => {
    const p = await provision(sim, 'signed-key');
    const res = await api<{ public_key: string; signature: string; timestamp: number; signature_v1: string }>(
      sim,
      'GET',
      `/kms/${p.kms_id}/pubkey/${p.app_id}`,
    );
    expect(res.json.public_key).toBe(p.app_env_encrypt_pubkey);
    const base = { appId: p.app_id, publicKey: res.json.public_key, trustedK256Pubkey: sim.kms.k256Pubkey };
    expect(() => verifyEnvKeySignature({ ...base, signature: res.json.signature })).not.toThrow();
    expect(() =>
      verifyEnvKeySignature({ ...base, signature: res.json.signature_v1, timestamp: res.json.timestamp }),
    ).not.toThrow();
  });

  it('rejects an env that does not decrypt with the app key (400) and stores nothing', async () => {
    const p = await provision(sim, 'bad-env');
    const otherKey = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const sealedElsewhere = await encryptEnv([{ key: 'OPENAI_API_KEY', value: 'sk-x' }], otherKey);
    const res = await api(sim, 'POST', '/cvms', {
      app_id: p.app_id,
      compose_hash: p.compose_hash,
      encrypted_env: sealedElsewhere,
      env_keys: ['OPENAI_API_KEY'],
    });
    expect(res.status).toBe(400);
    expect(sim.envOf(p.app_id)).toBeNull();
    expect(
      (
        await api(sim, 'POST', '/cvms', {
          app_id: p.app_id,
          compose_hash: p.compose_hash,
          encrypted_env: '',
          env_keys: [],
        })
      ).status,
    ).toBe(400);
  });

  it('creates a CVM from a sealed env, decrypts it to what was sealed, and runs it', async () => {
    const p = await provision(sim, 'full-flow');
    const env = [
      { key: 'OPENAI_API_KEY', value: 'sk-test-' + toHex(crypto.getRandomValues(new Uint8Array(8))) },
      { key: 'TELEGRAM_TOKEN', value: '12345:abc' },
    ];
    const sealed = await encryptEnv(env, p.app_env_encrypt_pubkey);
    const created = await api<Record<string, unknown>>(sim, 'POST', '/cvms', {
      app_id: p.app_id,
      compose_hash: p.compose_hash,
      encrypted_env: sealed,
      env_keys: env.map((e) => e.key),
    });
    expect(created.status).toBe(200);
    const cvm = created.json as { id: string; status: string; app_id: string; kms_info: Record<string, string> };
    expect(cvm.status).toBe('creating');
    expect(cvm.app_id).toBe(p.app_id);
    expect(cvm.kms_info).toMatchObject({
      id: sim.kms.id,
      k256_pubkey: sim.kms.k256Pubkey,
      encrypted_env_pubkey: p.app_env_encrypt_pubkey,
    });
    const notYet = await api<Record<string, unknown>>(sim, 'GET', `/cvms/${cvm.id}/attestation`);
    expect(notYet.json).toEqual({ is_online: false, tcb_info: null, app_certificates: [] });

    expect(sim.envOf(p.app_id)).toEqual(env);
    const viaHttp = await fetch(`${sim.apiUrl.replace('/api/v1', '')}/_sim/env/${p.app_id}`);
    expect(await viaHttp.json()).toEqual({ app_id: p.app_id, env });

    const running = await until(
      () => api<{ status: string; uptime_seconds: number }>(sim, 'GET', `/cvms/${cvm.id}/state`),
      (r) => r.json.status === 'running',
    );
    expect(running.status).toBe(200);
    expect((await api<{ status: string }>(sim, 'GET', `/cvms/app_${p.app_id}`)).json.status).toBe('running');
    const health = await fetch(`${sim.apiUrl.replace('/api/v1', '')}/app/${p.app_id}`);
    expect(health.status).toBe(200);

    // Logs name the variables received, never their values.
    const logs = await api<{ lines: string[] }>(sim, 'GET', `/cvms/${cvm.id}/logs?tail=50`);
    expect(logs.json.lines.join('\n')).toContain('OPENAI_API_KEY');
    for (const e of env) expect(logs.json.lines.join('\n')).not.toContain(e.value);

    // The request bodies the simulator received carry only ciphertext.
    const bodies = sim
      .received()
      .map((r) => r.body)
      .join('\n');
    expect(bodies).toContain(sealed);
    for (const e of env) expect(bodies).not.toContain(e.value);

    // PATCH envs replaces the whole env.
    const next = [{ key: 'OPENAI_API_KEY', value: 'sk-rotated' }];
    const patched = await api<Record<string, unknown>>(sim, 'PATCH', `/cvms/${cvm.id}/envs`, {
      encrypted_env: await encryptEnv(next, p.app_env_encrypt_pubkey),
      env_keys: ['OPENAI_API_KEY'],
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ status: 'in_progress', allowed_envs_changed: false });
    expect(sim.envOf(p.app_id)).toEqual(next);
    expect((await api(sim, 'PATCH', `/cvms/${cvm.id}/envs`, { encrypted_env: 'zz' })).status).toBe(400);

    // Power operations.
    expect((await api<{ status: string }>(sim, 'POST', `/cvms/${cvm.id}/stop`)).json.status).toBe('stopped');
    expect((await fetch(`${sim.apiUrl.replace('/api/v1', '')}/app/${p.app_id}`)).status).toBe(503);
    expect((await api<{ status: string }>(sim, 'POST', `/cvms/${cvm.id}/start`)).json.status).toBe('starting');
    await until(
      () => api<{ status: string }>(sim, 'GET', `/cvms/${cvm.id}`),
      (r) => r.json.status === 'running',
    );
    expect((await api<{ status: string }>(sim, 'POST', `/cvms/${cvm.id}/restart`)).json.status).toBe('starting');
    await until(
      () => api<{ status: string }>(sim, 'GET', `/cvms/${cvm.id}`),
      (r) => r.json.status === 'running',
    );

    // Attestation endpoint: a quote that verifies with its event log and app_compose.
    const att = await api<{
      is_online: boolean;
      tcb_info: Record<string, unknown>;
      app_certificates: Array<{ quote: string }>;
    }>(sim, 'GET', `/cvms/${cvm.id}/attestation`);
    expect(att.json.is_online).toBe(true);
    expect(att.json.tcb_info.app_compose).toBe(p.app_compose);
    const quote = fromHex(att.json.app_certificates[0]!.quote);
    // The provider's copy: zero REPORTDATA (TDX v4 body offset 568), not any client's challenge.
    expect(toHex(quote.slice(568, 632))).toBe('00'.repeat(64));
    const verified = await verifyQuote(quote, await collateralFor(sim, quote), {
      testTrustAnchor: { rootCertDer: sim.testRootDer },
      dstack: {
        eventLog: att.json.tcb_info.event_log as never,
        policy: { composeHash: p.compose_hash, appId: p.app_id },
      },
    });
    expect(verified.error).toBeNull();
    expect(verified.dstack?.keyProvider).toEqual({ name: 'kms', id: sim.kms.caPubkey });

    expect((await api(sim, 'DELETE', `/cvms/${cvm.id}`)).status).toBe(204);
    expect((await api(sim, 'GET', `/cvms/${cvm.id}`)).status).toBe(404);
  });
});

describe('CVM simulator guest API', () => {
  it('GetQuote binds the caller report_data; the quote verifies with collateral fetched from /pccs', async () => {
    const p = await provision(sim, 'guest');
    const cvm = await createRunning(sim, p);
    const reportData = toHex(clawkeepReportData(randomNonce(), fromHex(p.app_env_encrypt_pubkey)));
    const q = await getQuote(cvm.guest_agent_url, reportData);
    expect(q.reportData).toBe(reportData);
    const collateral = await collateralFor(sim, q.quote);
    const result = await verifyQuote(q.quote, collateral, {
      testTrustAnchor: { rootCertDer: sim.testRootDer },
      dstack: {
        eventLog: q.eventLog,
        policy: {
          reportData,
          composeHash: p.compose_hash,
          appId: p.app_id,
          instanceId: cvm.instance_id,
          keyProviderId: sim.kms.caPubkey,
          osImageHash: sim.osImage.osImageHash,
          allowedOsImages: [sim.osImage.measurement],
        },
      },
    });
    expect(result.error).toBeNull();
    expect(result.verified).toBe(true);
    // Without the test root (production trust) the same evidence is refused.
    expect((await verifyQuote(q.quote, collateral, {})).verified).toBe(false);
  });

  it('Info reports the app identity; GetQuote refuses report_data over 64 bytes; unknown apps are 404', async () => {
    const p = await provision(sim, 'guest-info');
    const { guest_agent_url: guestUrl } = await createRunning(sim, p);
    const info = (await (await fetch(`${guestUrl}/Info`)).json()) as Record<string, unknown> & {
      tcb_info: Record<string, unknown>;
    };
    expect(info.app_id).toBe(p.app_id);
    expect(info.tcb_info).toMatchObject({
      compose_hash: p.compose_hash,
      app_compose: p.app_compose,
      os_image_hash: sim.osImage.osImageHash,
      mrtd: sim.osImage.measurement.mrtd,
    });
    expect(JSON.parse(info.key_provider_info as string)).toEqual({ name: 'kms', id: sim.kms.caPubkey });
    expect((await fetch(`${guestUrl}/GetQuote?report_data=${'00'.repeat(65)}`)).status).toBe(400);
    expect((await fetch(`${sim.guestBaseUrl}/${'12'.repeat(20)}/Info`)).status).toBe(404);
  });
});

describe('CVM simulator controls', () => {
  it('serves its test root, switches misbehaviour over HTTP, and rejects unknown modes', async () => {
    const base = sim.apiUrl.replace('/api/v1', '');
    const root = (await (await fetch(`${base}/_sim/test-root`)).json()) as { root_der_hex: string };
    expect(root.root_der_hex).toBe(toHex(sim.testRootDer));
    const set = await fetch(`${base}/_sim/misbehave`, { method: 'POST', body: JSON.stringify({ mode: 'debug-td' }) });
    expect(await set.json()).toEqual({ mode: 'debug-td' });
    expect(sim.misbehave()).toBe('debug-td');
    const bad = await fetch(`${base}/_sim/misbehave`, { method: 'POST', body: JSON.stringify({ mode: 'explode' }) });
    expect(bad.status).toBe(400);
    expect(sim.misbehave()).toBe('debug-td');
    await fetch(`${base}/_sim/misbehave`, { method: 'POST', body: JSON.stringify({ mode: 'none' }) });
    expect(sim.misbehave()).toBe('none');
    const received = (await (await fetch(`${base}/_sim/received`)).json()) as { requests: Array<{ path: string }> };
    expect(received.requests.length).toBe(sim.received().length);
    expect(received.requests.some((r) => r.path.startsWith('/_sim/'))).toBe(false);
    expect((await fetch(`${base}/_sim/env/${'ef'.repeat(20)}`)).status).toBe(404);
  });
});
