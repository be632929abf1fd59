// @vitest-environment node
import path from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { signClaim } from '../../../lib/protocol/approval';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { claimCodeHash } from '../../../lib/protocol/claim-code';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { signRequest, type Role } from '../../../lib/protocol/request-signing';
import { tempDir } from './helpers';
import { startHubProcess } from './hub-process';

/** A signed request over real HTTP to the hub at `url` (its origin is what the signature names). */
async function call(
  url: string,
  signer: { role: Role; keyId: string; privateKey: Uint8Array } | null,
  method: string,
  target: string,
  body?: unknown,
) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = text ? { 'content-type': 'application/json' } : {};
  if (signer)
    Object.assign(
      headers,
      signRequest({
        ...signer,
        method,
        path: target,
        body: text ? utf8Encode(text) : undefined,
        hub: url,
        now: Date.now(),
      }),
    );
  const res = await fetch(url + target, { method, headers, body: text });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('intents over real HTTP', () => {
  it('an intent created over HTTP survives SIGKILL of the hub and a restart on the same data directory', async () => {
    const data = path.join(tempDir(), 'hub');
    const first = await startHubProcess(data);
    const code = /^Enrollment code: ([A-Z]{4}-[A-Z]{4})/m.exec(first.out)![1]!;

    const devicePrivate = ed25519.utils.randomSecretKey();
    const devicePublic = ed25519.getPublicKey(devicePrivate);
    const device = { role: 'human' as const, keyId: deviceKeyId(devicePublic), privateKey: devicePrivate };
    expect(
      (
        await call(first.url, device, 'POST', '/v1/accounts', {
          enrollment_code: code,
          device_key: encodePublicKey(devicePublic),
        })
      ).status,
    ).toBe(201);

    const agentPrivate = ed25519.utils.randomSecretKey();
    const boxPrivate = x25519.utils.randomSecretKey();
    const keys = {
      signing_key: encodePublicKey(ed25519.getPublicKey(agentPrivate)),
      box_key: encodePublicKey(x25519.getPublicKey(boxPrivate)),
    };
    const registered = await call(first.url, null, 'POST', '/v1/agents', {
      name: 'durable-bot',
      ...keys,
      manifest: { markdown: '# durable-bot' },
      requested_scopes: ['action:action.approve'],
      key_binding: signKeyBinding(agentPrivate, {
        hub: first.url,
        role: 'agent',
        ...keys,
        name: 'durable-bot',
        time: Date.now(),
      }),
    });
    expect(registered.status).toBe(201);
    const agent = { role: 'agent' as const, keyId: registered.json.agent_id as string, privateKey: agentPrivate };

    const claim = signClaim(devicePrivate, {
      hub: first.url,
      agent_id: agent.keyId,
      agent_signing_key: encodePublicKey(ed25519.getPublicKey(agentPrivate)),
      agent_box_key: encodePublicKey(x25519.getPublicKey(boxPrivate)),
      claim_code_hash: claimCodeHash(registered.json.claim_code),
      granted_scopes: ['action:action.approve'],
      policy: { approval_required: ['action.approve', 'secret.request'], daily_limit: null },
      installation_id: `ins_${toBase64Url(ed25519.utils.randomSecretKey().subarray(0, 16))}`,
      device_key: encodePublicKey(devicePublic),
      time: Date.now(),
    });
    expect((await call(first.url, device, 'POST', '/v1/claims', { claim })).status).toBe(201);

    const created = await call(first.url, agent, 'POST', '/v1/intents', {
      kind: 'action.approve',
      payload: { summary: 'Deploy to production', risk: 'high' },
      idempotency_key: 'deploy-1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = await startHubProcess(data);
    expect(second.out).not.toContain('Enrollment code');
    const pending = await call(second.url, device, 'GET', '/v1/intents?status=pending');
    expect(pending.status).toBe(200);
    expect(pending.json.intents).toEqual([created.json]);
    // The agent's retry after the crash finds the same intent.
    const retried = await call(second.url, agent, 'POST', '/v1/intents', {
      kind: 'action.approve',
      payload: { summary: 'Deploy to production', risk: 'high' },
      idempotency_key: 'deploy-1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect([retried.status, retried.json.intent_id]).toEqual([200, created.json.intent_id]);
    second.child.kill('SIGTERM');
  }, 30_000);
});
